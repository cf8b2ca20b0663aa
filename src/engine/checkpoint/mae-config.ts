// The facebookresearch MAE family's config: the JSON file `{"family": "mae", img_size, patch_size,
// in_chans, embed_dim, depth, num_heads, decoder_*, mlp_ratio, mean, std}` (mean/std on the 0-1
// scale, one number for every channel or one per channel; optional norm_pix_loss, layer_norm_eps),
// or, for a checkpoint that comes without one, the architecture read off its weight shapes.
import { readFile } from 'node:fs/promises'
import { maeConfig, maeConfigProblem, MOMO_STATS, type MaeConfig } from '@shared/models/mae'
import { badConfig as bad, isRecord, jsonObjectMatches, parseJsonConfig } from './config-json'
import { CheckpointError } from './errors'
import { countBlocks, type Shapes } from './infer-config'

const SIZE_FIELDS = ['img_size', 'patch_size', 'in_chans', 'embed_dim', 'depth', 'num_heads', 'decoder_embed_dim', 'decoder_depth', 'decoder_num_heads'] as const

/** Whether a config file's text is an MAE-family JSON config (`"family": "mae"`). */
export function isMaeConfigText(text: string): boolean {
  return jsonObjectMatches(text, (doc) => doc.family === 'mae')
}

/** Refuses a MaeConfig whose sizes or statistics do not fit together, naming the source. */
export function validateMaeConfig(cfg: MaeConfig, source = 'config'): MaeConfig {
  const why = maeConfigProblem(cfg)
  if (why) throw bad(source, why)
  return cfg
}

/** mean or std on the 0-1 scale: one number for every channel, or one per channel. */
export function maeStatsList(v: unknown, field: string, inChans: number, source: string): number[] {
  if (typeof v === 'number' && Number.isFinite(v)) return Array.from({ length: inChans }, () => v)
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    if (v.length !== inChans) throw bad(source, `${field} has ${v.length} value(s) but in_chans is ${inChans}`)
    return v as number[]
  }
  throw bad(source, `${field} must be a number on the 0-1 scale, or one per channel`)
}

/** Parses the text of an MAE-family JSON config. `source` names the file in errors. */
export function parseMaeConfig(text: string, source = 'MAE config'): MaeConfig {
  const doc = parseJsonConfig(text, source)
  if (!isRecord(doc)) throw bad(source, 'expected a JSON object with "family": "mae"')
  if (doc.family !== 'mae') throw bad(source, `"family" must be "mae", got ${JSON.stringify(doc.family)}`)
  const sizes = {} as Record<(typeof SIZE_FIELDS)[number], number>
  for (const f of SIZE_FIELDS) {
    const v = doc[f]
    if (v === undefined || v === null) throw bad(source, `${f} is missing`)
    if (!Number.isInteger(v) || (v as number) <= 0) throw bad(source, `${f} must be a positive integer, got ${JSON.stringify(v)}`)
    sizes[f] = v as number
  }
  const mlpRatio = doc.mlp_ratio ?? 4
  if (typeof mlpRatio !== 'number') throw bad(source, 'mlp_ratio must be a number')
  const normPix = doc.norm_pix_loss ?? false
  if (typeof normPix !== 'boolean') throw bad(source, 'norm_pix_loss must be true or false')
  const eps = doc.layer_norm_eps ?? 1e-5
  if (typeof eps !== 'number') throw bad(source, 'layer_norm_eps must be a number (1e-5 for MOMO, 1e-6 for the original MAE)')
  for (const f of ['mean', 'std'] as const) if (doc[f] === undefined) throw bad(source, `${f} is missing (0-1 scale, e.g. MOMO merged ${MOMO_STATS.merged[f]})`)
  const cfg = maeConfig({
    ...sizes,
    mlp_ratio: mlpRatio,
    norm_pix_loss: normPix,
    layer_norm_eps: eps,
    mean: maeStatsList(doc.mean, 'mean', sizes.in_chans, source),
    std: maeStatsList(doc.std, 'std', sizes.in_chans, source)
  })
  return validateMaeConfig(cfg, source)
}

export async function readMaeConfig(path: string): Promise<MaeConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw bad(path, `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
  }
  return parseMaeConfig(text, path)
}

// Heads of the published ViTs by width (Ti 192/3, S 384/6, B 768/12, L 1024/16, H 1280/16); else 64-wide heads.
const KNOWN_HEADS: Record<number, number> = { 192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16 }
const headsFor = (dim: number): number => KNOWN_HEADS[dim] ?? ([64, 32, 16, 8].map((hd) => dim / hd).find(Number.isInteger) ?? 1)

/**
 * Reads an MAE-layout architecture off weight shapes (a 4-D Conv2d patch embedding); says what it
 * assumed. `args`: the checkpoint's training arguments, when saved with them — `norm_pix_loss`
 * is taken from them, and the original MAE's `model` (`mae_vit_*`) means LayerNorm eps 1e-6.
 */
export function inferMaeConfig(weights: Shapes, args?: ReadonlyMap<string, string | number | boolean>): { config: MaeConfig; notes: string[] } {
  const fail = (msg: string) => new CheckpointError('bad-config', `cannot infer the model architecture: ${msg}`)
  const notes: string[] = []
  const patch = weights.get('patch_embed.proj.weight')?.shape
  if (!patch || patch.length !== 4) throw fail('patch_embed.proj.weight [embed_dim, in_chans, patch, patch] is missing')
  const [D, inChans, p, p2] = patch as [number, number, number, number]
  if (p !== p2) throw fail(`patch_embed.proj.weight has non-square patches ${p}×${p2}`)
  const depth = countBlocks(weights, 'blocks')
  if (depth === 0) throw fail('no blocks.{i}.* weights')
  const fc1 = weights.get('blocks.0.mlp.fc1.weight')?.shape
  const mlpRatio = fc1 ? fc1[0]! / D : 4
  const decEmbed = weights.get('decoder_embed.weight')?.shape
  // MOMO and the original MAE both use a 512-wide, 8-deep, 16-head decoder.
  const Dd = decEmbed ? decEmbed[0]! : 512
  const decoderDepth = decEmbed ? countBlocks(weights, 'decoder_blocks') : 8
  if (!decEmbed) notes.push('no decoder weights (encoder only): decoder sizes set to MAE\'s 512 wide, 8 deep; reconstruction is unavailable')
  const numHeads = headsFor(D)
  const decoderHeads = Dd === 512 ? 16 : headsFor(Dd)
  notes.push(`head counts cannot be read from shapes: assumed num_heads ${numHeads}${KNOWN_HEADS[D] ? ` (the published ViT ${D} wide)` : ''}, decoder_num_heads ${decoderHeads}`)
  const pos = weights.get('pos_embed')?.shape
  let imgSize = 224
  const grid = pos && pos.length === 3 ? Math.round(Math.sqrt(pos[1]! - 1)) : 0
  if (grid > 0 && grid * grid === pos![1]! - 1) {
    imgSize = grid * p
    notes.push(`img_size ${imgSize} read from pos_embed`)
  } else notes.push('img_size assumed 224 (no usable pos_embed)')
  notes.push(`mean/std assumed MOMO's merged statistics ${MOMO_STATS.merged.mean}/${MOMO_STATS.merged.std} (0-1 scale); import with a config file to set the model's own`)
  const model = args?.get('model')
  const original = typeof model === 'string' && model.startsWith('mae_vit')
  if (original) notes.push(`LayerNorm eps 1e-6: the training arguments name the original MAE's ${model}`)
  else notes.push('LayerNorm eps assumed 1e-5 (MOMO); the original MAE uses 1e-6: give layer_norm_eps in a config file')
  const normPix = args?.get('norm_pix_loss')
  if (typeof normPix === 'boolean') notes.push(`norm_pix_loss ${normPix}, from the checkpoint's training arguments`)
  const config = maeConfig({
    img_size: imgSize,
    patch_size: p,
    in_chans: inChans,
    embed_dim: D,
    depth,
    num_heads: numHeads,
    decoder_embed_dim: Dd,
    decoder_depth: decoderDepth,
    decoder_num_heads: decoderHeads,
    mlp_ratio: mlpRatio,
    ...(original ? { layer_norm_eps: 1e-6 } : {}),
    ...(typeof normPix === 'boolean' ? { norm_pix_loss: normPix } : {})
  })
  return { config: validateMaeConfig(config, 'inferred config'), notes }
}

// Infers a PrithviConfig from tensor shapes alone, for checkpoints that come without their
// yaml / config.json. Head counts leave no trace in the shapes: they come from the published model
// of those sizes when there is one, else from a usual head width, and the result says which.
// TerraTorch's layout (`encoder.` / `decoder.` keys) or TL scale tensors mark Prithvi-EO-2.0, whose
// position buffers hold 4 frames.

import { matchPublished } from '@shared/models/prithvi-catalogue'
import { prithvi100m, type PrithviConfig } from '../model/config'
import { CheckpointError } from './errors'
import { validatePrithviConfig } from './validate-config'

export interface InferredConfig {
  config: PrithviConfig
  /** Human-readable: what was read and what was assumed (always includes the head counts). */
  notes: string[]
  /** What was read off the shapes. */
  inferred: string[]
  /** What was assumed (head counts, defaults, the frame count of an ambiguous pos_embed). */
  assumed: string[]
}

export interface InferOptions {
  /** The keys are in TerraTorch's PrithviMAE layout (`encoder.pos_embed`…): Prithvi-EO-2.0. */
  terratorch?: boolean
}

export type Shapes = ReadonlyMap<string, { shape: readonly number[] }>

// Frame counts to try when splitting pos_embed rows into frames × grid²: 1 (the study),
// 3 (Prithvi pre-training), then the rest. 196 tokens could also be 4 × 7², hence the order.
const FRAME_GUESSES = [1, 3, 2, 4, 5, 6, 8]
// EO-2.0 is pre-trained with 4 frames (its tiny model with 1).
const EO2_FRAME_GUESSES = [4, 1, 3, 2, 5, 6, 8]

function bad(msg: string): CheckpointError {
  return new CheckpointError('bad-config', `cannot infer the model architecture: ${msg}`)
}

/** Blocks under `prefix.N.` (the highest N + 1): depth is read off the names, any family. */
export function countBlocks(weights: Shapes, prefix: string): number {
  const re = new RegExp(`^${prefix}\\.(\\d+)\\.`)
  let max = -1
  for (const name of weights.keys()) {
    const m = re.exec(name)
    if (m) max = Math.max(max, Number(m[1]))
  }
  return max + 1
}

function headsFor(dim: number, headDims: number[]): number {
  for (const hd of headDims) if (dim % hd === 0) return dim / hd
  return 1
}

/** Every split of `tokens` into frames × grid², in the order of `guesses`. */
function tokenGrids(tokens: number, tubelet: number, guesses: readonly number[]): { frames: number; grid: number }[] {
  const out: { frames: number; grid: number }[] = []
  for (const t of guesses) {
    if (tokens % t) continue
    const g = Math.round(Math.sqrt(tokens / t))
    if (g * g === tokens / t) out.push({ frames: t * tubelet, grid: g })
  }
  return out
}

/** Reads the architecture off weight shapes (our names; a WeightMap or any name → shape map). */
export function inferConfig(weights: Shapes, opts: InferOptions = {}): InferredConfig {
  const inferred: string[] = []
  const assumed: string[] = []
  const patch = weights.get('patch_embed.proj.weight')?.shape
  if (!patch || patch.length !== 5) throw bad('patch_embed.proj.weight [embed_dim, in_chans, tubelet, patch, patch] is missing')
  const [D, inChans, tubelet, p, p2] = patch as [number, number, number, number, number]
  if (p !== p2) throw bad(`patch_embed.proj.weight has non-square patches ${p}×${p2}`)
  const cls = weights.get('cls_token')?.shape
  if (cls && cls[cls.length - 1] !== D) throw bad(`cls_token width ${cls[cls.length - 1]} differs from patch_embed width ${D}`)
  const depth = countBlocks(weights, 'blocks')
  if (depth === 0) throw bad('no blocks.{i}.* weights')
  const fc1 = weights.get('blocks.0.mlp.fc1.weight')?.shape
  const mlpRatio = fc1 ? fc1[0]! / D : 4
  if (!fc1) assumed.push('mlp_ratio assumed 4 (blocks.0.mlp.fc1.weight missing)')
  inferred.push(`embed_dim ${D}, depth ${depth}, patch ${p}, tubelet ${tubelet}, ${inChans} bands, mlp_ratio ${mlpRatio} read from the weight shapes`)

  const defaults = prithvi100m()
  const decEmbed = weights.get('decoder_embed.weight')?.shape
  let Dd = defaults.decoder_embed_dim
  let decoderDepth = defaults.decoder_depth
  if (decEmbed) {
    Dd = decEmbed[0]!
    decoderDepth = countBlocks(weights, 'decoder_blocks')
    inferred.push(`decoder ${Dd} wide, ${decoderDepth} blocks read from the weight shapes`)
  } else assumed.push('no decoder weights: decoder sizes set to the Prithvi-100M defaults')

  // EO-2.0: TerraTorch's layout, or the TL scale tensors only it has.
  const time = weights.has('temporal_embed_enc.scale') || weights.has('temporal_embed_dec.scale')
  const location = weights.has('location_embed_enc.scale') || weights.has('location_embed_dec.scale')
  const eo2 = opts.terratorch === true || time || location
  if (eo2) inferred.push(`Prithvi-EO-2.0 (${opts.terratorch ? "TerraTorch's encoder. / decoder. keys" : 'TL scale tensors'})${time || location ? `, with ${[time ? 'time' : '', location ? 'location' : ''].filter(Boolean).join(' and ')} encoding (TL)` : ''}`)

  let imgSize = defaults.img_size
  let numFrames = tubelet
  const pos = weights.get('pos_embed')?.shape ?? weights.get('decoder_pos_embed')?.shape
  const grids = pos && pos.length === 3 ? tokenGrids(pos[1]! - 1, tubelet, eo2 ? EO2_FRAME_GUESSES : FRAME_GUESSES) : []
  const coords = [...(time ? ['time' as const] : []), ...(location ? ['location' as const] : [])]
  const sizesAt = (img: number, frames: number): PrithviConfig => ({
    img_size: img,
    patch_size: p,
    num_frames: frames,
    tubelet_size: tubelet,
    in_chans: inChans,
    embed_dim: D,
    depth,
    num_heads: headsFor(D, [64, 32, 16, 8]),
    decoder_embed_dim: Dd,
    decoder_depth: decoderDepth,
    // Prithvi-100M's decoder has 16 heads of 32 channels.
    decoder_num_heads: Dd === 512 ? 16 : headsFor(Dd, [32, 16, 8]),
    mlp_ratio: mlpRatio,
    norm_pix_loss: false,
    ...(eo2 ? { pretrain_img_size: img } : {}),
    // Published TL models learn their scales; here it changes nothing (the scales are never used).
    ...(coords.length ? { coords_encoding: coords, coords_scale_learn: true } : {})
  })
  // 196 tokens are 1 frame of 14² or 4 of 7²: a split that gives a published model wins.
  const isPublished = (g: { frames: number; grid: number }): boolean => {
    const m = matchPublished(sizesAt(g.grid * p, g.frames), { ignoreHeads: true })
    return m !== undefined && m.config.img_size === g.grid * p && m.pretrainFrames === g.frames
  }
  const grid = grids.find(isPublished) ?? grids[0]
  if (grid) {
    imgSize = grid.grid * p
    numFrames = grid.frames
    assumed.push(`img_size ${imgSize} read from pos_embed, taking it to hold ${grid.frames} frame(s)`)
  } else assumed.push(`img_size assumed ${imgSize} (no usable pos_embed)`)

  const sizes: PrithviConfig = sizesAt(imgSize, numFrames)
  const published = matchPublished(sizes, { ignoreHeads: true })
  if (published) {
    sizes.num_heads = published.config.num_heads
    sizes.decoder_num_heads = published.config.decoder_num_heads
    assumed.push(`head counts cannot be read from shapes: num_heads ${sizes.num_heads}, decoder_num_heads ${sizes.decoder_num_heads} taken from ${published.title} (same sizes)`)
  } else {
    assumed.push(`head counts cannot be read from shapes: assumed num_heads ${sizes.num_heads}, decoder_num_heads ${sizes.decoder_num_heads} (usual head widths)`)
  }
  const config = validatePrithviConfig(sizes, 'inferred config')
  return { config, notes: [...inferred, ...assumed], inferred, assumed }
}

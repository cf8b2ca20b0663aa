// Reads Prithvi-EO-2.0's Hugging Face config.json: `{"architecture", "pretrained_cfg": {img_size,
// num_frames, patch_size [1, p, p], in_chans, embed_dim, depth, num_heads, decoder_*, mlp_ratio,
// coords_encoding, coords_scale_learn, mask_ratio, bands, mean, std}}` (TerraTorch's prithvi_cfgs).
// The pre-training image size is kept as `pretrain_img_size`: the position tables are then made as
// TerraTorch makes them for any input size. The frame count is the caller's (1 for Mars tiles).

import type { PrithviConfig } from '@shared/models/prithvi-mae'
import type { BandStats } from '../model/config'
import { badConfig as bad, isRecord } from './config-json'
import { validatePrithviConfig } from './validate-config'

const INT_FIELDS = ['num_frames', 'in_chans', 'embed_dim', 'depth', 'num_heads', 'decoder_embed_dim', 'decoder_depth', 'decoder_num_heads'] as const

function positiveInt(v: unknown, field: string, source: string): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw bad(source, `pretrained_cfg.${field} must be a positive integer, got ${JSON.stringify(v)}`)
  return v as number
}

// img_size is an int or a square [h, w]; patch_size an int or [t, p, p] (TerraTorch's (1, 16, 16)).
function imgSize(v: unknown, source: string): number {
  if (Array.isArray(v) && v.length === 2) {
    if (v[0] !== v[1]) throw bad(source, `pretrained_cfg.img_size ${JSON.stringify(v)} is not square (only square inputs are supported)`)
    v = v[0]
  }
  return positiveInt(v, 'img_size', source)
}

function patchSize(v: unknown, source: string): { tubelet: number; patch: number } {
  if (Number.isInteger(v)) return { tubelet: 1, patch: positiveInt(v, 'patch_size', source) }
  if (!Array.isArray(v) || v.length !== 3) throw bad(source, `pretrained_cfg.patch_size must be [t, p, p] or an integer, got ${JSON.stringify(v)}`)
  const [t, p, q] = v.map((x, i) => positiveInt(x, `patch_size[${i}]`, source)) as [number, number, number]
  if (p !== q) throw bad(source, `pretrained_cfg.patch_size ${JSON.stringify(v)} has non-square patches (only square patches are supported)`)
  return { tubelet: t, patch: p }
}

function numberList(v: unknown, field: string, n: number, source: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(source, `pretrained_cfg.${field} must be a list of numbers`)
  if (v.length !== n) throw bad(source, `pretrained_cfg.${field} has ${v.length} entries but in_chans is ${n}`)
  return v as number[]
}

function readStats(cfg: Record<string, unknown>, n: number, source: string): BandStats | undefined {
  if (cfg.mean === undefined && cfg.std === undefined) return undefined
  for (const f of ['mean', 'std']) if (cfg[f] === undefined) throw bad(source, `pretrained_cfg.${f} is missing (mean and std come together)`)
  const mean = numberList(cfg.mean, 'mean', n, source)
  const std = numberList(cfg.std, 'std', n, source)
  if (std.some((s) => s <= 0)) throw bad(source, 'pretrained_cfg.std must be positive')
  let bands: string[]
  if (cfg.bands === undefined) bands = mean.map((_, i) => `band ${i + 1}`)
  else {
    // TerraTorch writes HLSBands names; a band given as a number is kept as its text.
    if (!Array.isArray(cfg.bands) || !cfg.bands.every((b) => typeof b === 'string' || Number.isInteger(b))) throw bad(source, 'pretrained_cfg.bands must be a list of band names')
    if (cfg.bands.length !== n) throw bad(source, `pretrained_cfg.bands has ${cfg.bands.length} entries but in_chans is ${n}`)
    bands = cfg.bands.map(String)
  }
  return { bands, mean, std }
}

function coordsEncoding(v: unknown, source: string): ('time' | 'location')[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || !v.every((x) => x === 'time' || x === 'location')) {
    throw bad(source, `pretrained_cfg.coords_encoding must be a list of "time" and "location", got ${JSON.stringify(v).slice(0, 80)}`)
  }
  return [...new Set(v as ('time' | 'location')[])]
}

/** `doc` is the parsed config.json (a mapping with `pretrained_cfg`); `source` names the file in errors. */
export function parseEo2Config(doc: Record<string, unknown>, source: string): { config: PrithviConfig; stats?: BandStats; notes: string[] } {
  const cfg = doc.pretrained_cfg
  if (!isRecord(cfg)) throw bad(source, 'pretrained_cfg must be a mapping')
  for (const f of ['img_size', 'patch_size', ...INT_FIELDS]) if (cfg[f] === undefined || cfg[f] === null) throw bad(source, `pretrained_cfg.${f} is missing`)
  const ints = {} as Record<(typeof INT_FIELDS)[number], number>
  for (const f of INT_FIELDS) ints[f] = positiveInt(cfg[f], f, source)
  const img = imgSize(cfg.img_size, source)
  const { tubelet, patch } = patchSize(cfg.patch_size, source)
  const mlpRatio = cfg.mlp_ratio ?? 4
  if (typeof mlpRatio !== 'number' || !(mlpRatio > 0)) throw bad(source, 'pretrained_cfg.mlp_ratio must be a positive number')
  const normPix = cfg.norm_pix_loss ?? false
  if (typeof normPix !== 'boolean') throw bad(source, 'pretrained_cfg.norm_pix_loss must be true or false')
  const coords = coordsEncoding(cfg.coords_encoding, source)
  const scaleLearn = cfg.coords_scale_learn ?? false
  if (typeof scaleLearn !== 'boolean') throw bad(source, 'pretrained_cfg.coords_scale_learn must be true or false')
  if (cfg.mask_ratio !== undefined && !(typeof cfg.mask_ratio === 'number' && cfg.mask_ratio >= 0 && cfg.mask_ratio < 1)) {
    throw bad(source, 'pretrained_cfg.mask_ratio must be a number in [0, 1)')
  }
  const config: PrithviConfig = validatePrithviConfig(
    {
      img_size: img,
      patch_size: patch,
      num_frames: ints.num_frames,
      tubelet_size: tubelet,
      in_chans: ints.in_chans,
      embed_dim: ints.embed_dim,
      depth: ints.depth,
      num_heads: ints.num_heads,
      decoder_embed_dim: ints.decoder_embed_dim,
      decoder_depth: ints.decoder_depth,
      decoder_num_heads: ints.decoder_num_heads,
      mlp_ratio: mlpRatio,
      norm_pix_loss: normPix,
      pretrain_img_size: img,
      ...(coords.length ? { coords_encoding: coords, coords_scale_learn: scaleLearn } : {})
    },
    source
  )
  const stats = readStats(cfg, config.in_chans, source)
  const arch = typeof doc.architecture === 'string' ? doc.architecture.slice(0, 80) : 'unnamed'
  const notes = [
    `Prithvi-EO-2.0 config.json (architecture ${JSON.stringify(arch)}): pre-trained at ${img} px with ${ints.num_frames} frame(s); position tables are recomputed for the frames used and resized bicubically for other input sizes, as TerraTorch does`
  ]
  if (coords.length) notes.push(`${coords.join(' and ')} encoding present (TL): its scale tensors are read and kept unused, since Mars tiles have no time or location`)
  if (typeof cfg.mask_ratio === 'number') notes.push(`pre-training mask ratio ${cfg.mask_ratio}`)
  return { config, ...(stats ? { stats } : {}), notes }
}

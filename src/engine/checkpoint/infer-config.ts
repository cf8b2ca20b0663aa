// Infers a PrithviConfig from tensor shapes alone, for checkpoints that come without their
// yaml. Head counts leave no trace in the shapes, so they are assumed and the result says so.

import { prithvi100m, type PrithviConfig } from '../model/config'
import { CheckpointError } from './errors'
import { validatePrithviConfig } from './validate-config'

export interface InferredConfig {
  config: PrithviConfig
  /** Human-readable assumptions made (always includes the head counts). */
  notes: string[]
}

type Shapes = ReadonlyMap<string, { shape: readonly number[] }>

// Frame counts to try when splitting pos_embed rows into frames × grid²: 1 (the study),
// 3 (Prithvi pre-training), then the rest. 196 tokens could also be 4 × 7², hence the order.
const FRAME_GUESSES = [1, 3, 2, 4, 5, 6, 8]

function bad(msg: string): CheckpointError {
  return new CheckpointError('bad-config', `cannot infer the model architecture: ${msg}`)
}

function countBlocks(weights: Shapes, prefix: string): number {
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

function tokenGrid(tokens: number, tubelet: number): { frames: number; grid: number } | undefined {
  for (const t of FRAME_GUESSES) {
    if (tokens % t) continue
    const g = Math.round(Math.sqrt(tokens / t))
    if (g * g === tokens / t) return { frames: t * tubelet, grid: g }
  }
  return undefined
}

/** Reads the architecture off weight shapes (our names; a WeightMap or any name → shape map). */
export function inferConfig(weights: Shapes): InferredConfig {
  const notes: string[] = []
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
  if (!fc1) notes.push('mlp_ratio assumed 4 (blocks.0.mlp.fc1.weight missing)')

  const defaults = prithvi100m()
  const decEmbed = weights.get('decoder_embed.weight')?.shape
  let Dd = defaults.decoder_embed_dim
  let decoderDepth = defaults.decoder_depth
  if (decEmbed) {
    Dd = decEmbed[0]!
    decoderDepth = countBlocks(weights, 'decoder_blocks')
  } else notes.push('no decoder weights: decoder sizes set to the Prithvi-100M defaults')

  const numHeads = headsFor(D, [64, 32, 16, 8])
  // Prithvi-100M's decoder has 16 heads of 32 channels.
  const decoderHeads = Dd === 512 ? 16 : headsFor(Dd, [32, 16, 8])
  notes.push(`head counts cannot be read from shapes: assumed num_heads ${numHeads}, decoder_num_heads ${decoderHeads}`)

  let imgSize = defaults.img_size
  let numFrames = tubelet
  const pos = weights.get('pos_embed')?.shape ?? weights.get('decoder_pos_embed')?.shape
  const grid = pos && pos.length === 3 ? tokenGrid(pos[1]! - 1, tubelet) : undefined
  if (grid) {
    imgSize = grid.grid * p
    numFrames = grid.frames
    notes.push(`img_size ${imgSize} read from pos_embed, taking it to hold ${grid.frames} frame(s)`)
  } else notes.push(`img_size assumed ${imgSize} (no usable pos_embed)`)

  const config = validatePrithviConfig(
    {
      img_size: imgSize,
      patch_size: p,
      num_frames: numFrames,
      tubelet_size: tubelet,
      in_chans: inChans,
      embed_dim: D,
      depth,
      num_heads: numHeads,
      decoder_embed_dim: Dd,
      decoder_depth: decoderDepth,
      decoder_num_heads: decoderHeads,
      mlp_ratio: mlpRatio,
      norm_pix_loss: false
    },
    'inferred config'
  )
  return { config, notes }
}

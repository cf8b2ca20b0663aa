// The tfjs side of the Prithvi weight table (names and shapes come from the family spec,
// src/shared/models/prithvi-mae.ts): PyTorch <-> tfjs layout conversions, weight checks and
// timm-like random initialisation.

import { checkWeights, type WeightSpec } from '@shared/models/family'
import { isMaeConfig } from '@shared/models/mae'
import { mlpHidden, patchDim, tokenGrid } from '@shared/models/prithvi-mae'
import { familyOf } from '@shared/models/registry'
import { normalFrom, seededRandom } from '@shared/random'
import type { PrithviConfig } from './config'
import { familyPosEmbed } from './posEmbed'
import type { WeightMap, WeightTensor } from './weights'
import { numel } from './weights'

export type ParamSpec = WeightSpec
// validateWeights throws `<name> has shape [..], expected [..]` (or missing) for the first misfit.
export { checkWeights as validateWeights, mlpHidden, patchDim, tokenGrid }

/** Throws on configurations the architecture cannot represent. */
export function checkConfig(cfg: PrithviConfig): void {
  const why = familyOf(cfg).modelProblem(cfg)
  if (why) throw new Error(`invalid ${isMaeConfig(cfg) ? 'MAE' : 'Prithvi'} config: ${why}`)
}

/** Every trainable parameter, in PyTorch state_dict order (pos embeds are fixed and excluded). */
export function paramSpecs(cfg: PrithviConfig, opts: { decoder?: boolean } = {}): ParamSpec[] {
  checkConfig(cfg)
  return familyOf(cfg).weightSpecs(cfg, opts)
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!
  return out
}

/** Conv3d [D, C, tub, p, q] (or Conv2d [D, C, p, q], tub 1) <-> [tub*p*q*C, D]; `toTf` picks the direction. */
function permutePatch(data: Float32Array, torchShape: number[], toTf: boolean): Float32Array {
  const [D, C, T, P, Q] = (torchShape.length === 4 ? [torchShape[0], torchShape[1], 1, torchShape[2], torchShape[3]] : torchShape) as [number, number, number, number, number]
  const out = new Float32Array(data.length)
  for (let d = 0; d < D; d++)
    for (let c = 0; c < C; c++)
      for (let t = 0; t < T; t++)
        for (let p = 0; p < P; p++)
          for (let q = 0; q < Q; q++) {
            const torchIdx = (((d * C + c) * T + t) * P + p) * Q + q
            const tfIdx = (((t * P + p) * Q + q) * C + c) * D + d
            if (toTf) out[tfIdx] = data[torchIdx]!
            else out[torchIdx] = data[tfIdx]!
          }
  return out
}

export function toTfLayout(spec: ParamSpec, data: Float32Array): Float32Array {
  if (spec.layout === 'linear') return transpose2d(data, spec.torchShape[0]!, spec.torchShape[1]!)
  if (spec.layout === 'patch') return permutePatch(data, spec.torchShape, true)
  return data
}

export function toTorchLayout(spec: ParamSpec, data: Float32Array): Float32Array {
  if (spec.layout === 'linear') return transpose2d(data, spec.tfShape[0]!, spec.tfShape[1]!)
  if (spec.layout === 'patch') return permutePatch(data, spec.torchShape, false)
  return data.slice()
}

/** The fixed position embeddings as checkpoint entries ([1, 1+L, D] and [1, 1+L, Dd]). */
export function posEmbedWeights(cfg: PrithviConfig, decoder = true): WeightMap {
  const out: WeightMap = new Map()
  // The spec's fixed tables, [1, 1+L, width] each; the sin-cos values follow from the width and grid.
  for (const spec of familyOf(cfg).checkpointTensors(cfg, { decoder }).filter((s) => s.fixed && s.init === 'sincos')) {
    out.set(spec.name, { shape: spec.torchShape.slice(), data: familyPosEmbed(cfg, spec.torchShape[2]!, true) })
  }
  return out
}

function fanInOut(spec: ParamSpec): [number, number] {
  const [out, ...rest] = spec.torchShape as [number, ...number[]]
  return [rest.reduce((a, b) => a * b, 1), out]
}

/**
 * A complete random state dict (PyTorch layouts), initialised like the official code: xavier-uniform
 * linears and patch embedding (viewed as [D, C*tub*p*p]), zero linear biases, LayerNorm ones/zeros,
 * normal(0.02) cls/mask tokens; the Conv3d bias keeps PyTorch's default U(+-1/sqrt(fan_in)) since the
 * official init leaves it alone. Includes the computed pos_embed / decoder_pos_embed.
 */
export function randomWeights(cfg: PrithviConfig, seed: number, opts: { decoder?: boolean } = {}): WeightMap {
  const uniform = seededRandom(seed)
  const normal = normalFrom(uniform)
  const decoder = opts.decoder ?? true
  const out: WeightMap = new Map()
  for (const spec of paramSpecs(cfg, { decoder })) {
    const data = new Float32Array(numel(spec.torchShape))
    const [fanIn, fanOut] = fanInOut(spec)
    switch (spec.init) {
      case 'xavier': {
        const bound = Math.sqrt(6 / (fanIn + fanOut))
        for (let i = 0; i < data.length; i++) data[i] = (2 * uniform() - 1) * bound
        break
      }
      case 'convBias': {
        const bound = 1 / Math.sqrt(cfg.in_chans * cfg.tubelet_size * cfg.patch_size * cfg.patch_size)
        for (let i = 0; i < data.length; i++) data[i] = (2 * uniform() - 1) * bound
        break
      }
      case 'token':
        for (let i = 0; i < data.length; i++) data[i] = 0.02 * normal()
        break
      case 'ones':
        data.fill(1)
        break
      case 'zeros':
        break
    }
    out.set(spec.name, { shape: spec.torchShape.slice(), data })
  }
  for (const [k, v] of posEmbedWeights(cfg, decoder)) out.set(k, v)
  return out
}

/**
 * A position table [(1 +) L, dim] for `cfg`: the MAE layout stores its tables as parameters, and the
 * checkpoint's own copy (`stored`, [1, 1+L, dim]) is used when it fits this grid; otherwise, and
 * always for Prithvi (recomputed for the chosen frames), the family's sin-cos table.
 */
export function positionTable(cfg: PrithviConfig, dim: number, stored?: WeightTensor, cls = true): Float32Array {
  const L = tokenGrid(cfg).reduce((a, b) => a * b, 1)
  if (isMaeConfig(cfg) && stored && stored.shape.length === 3 && stored.shape[0] === 1 && stored.shape[1] === L + 1 && stored.shape[2] === dim) {
    return cls ? stored.data : stored.data.subarray(dim)
  }
  return familyPosEmbed(cfg, dim, cls)
}

/**
 * An encoder-only state dict completed with a freshly initialised decoder (and its position
 * table), so an encoder-only file (a fine-tuned backbone, MOMO's momo.pth) can be pre-trained.
 * The encoder's weights are kept as they are.
 */
export function withFreshDecoder(encoder: WeightMap, cfg: PrithviConfig, seed: number): WeightMap {
  const encoderNames = new Set(paramSpecs(cfg, { decoder: false }).map((s) => s.name))
  const out: WeightMap = new Map(encoder)
  for (const [name, w] of randomWeights(cfg, seed, { decoder: true })) if (!encoderNames.has(name) && !out.has(name)) out.set(name, w)
  return out
}

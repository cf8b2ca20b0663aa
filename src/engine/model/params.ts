// The parameter list of Prithvi's MaskedAutoencoderViT (checkpoint names and PyTorch shapes), the
// PyTorch <-> tfjs layout conversions, shape validation, and timm-like random initialisation.

import type { PrithviConfig } from './config'
import { numPatches } from './config'
import { sincos3dPosEmbed } from './posEmbed'
import { Rng } from './rng'
import type { WeightMap } from './weights'
import { numel } from './weights'

/**
 * How a checkpoint tensor is stored in tfjs:
 * plain: unchanged; linear: nn.Linear [out, in] -> [in, out];
 * patch: Conv3d [D, C, tub, p, q] -> [tub*p*q*C, D], rows in patchify order (tub p q c).
 */
export type ParamLayout = 'plain' | 'linear' | 'patch'
export type ParamInit = 'xavier' | 'zeros' | 'ones' | 'token' | 'convBias'

export interface ParamSpec {
  name: string
  torchShape: number[]
  tfShape: number[]
  layout: ParamLayout
  init: ParamInit
  part: 'encoder' | 'decoder'
}

/** Token grid (t, h, w) of a config. */
export function tokenGrid(cfg: PrithviConfig): [number, number, number] {
  const g = cfg.img_size / cfg.patch_size
  return [cfg.num_frames / cfg.tubelet_size, g, g]
}

/** Length of one patch vector: tubelet * p * p * C. */
export function patchDim(cfg: PrithviConfig): number {
  return cfg.tubelet_size * cfg.patch_size * cfg.patch_size * cfg.in_chans
}

export function mlpHidden(cfg: PrithviConfig, dim: number): number {
  return Math.trunc(dim * cfg.mlp_ratio)
}

/** Throws on configurations the architecture cannot represent. */
export function checkConfig(cfg: PrithviConfig): void {
  const fail = (why: string): never => {
    throw new Error(`invalid Prithvi config: ${why}`)
  }
  if (cfg.img_size % cfg.patch_size !== 0) fail(`img_size ${cfg.img_size} is not a multiple of patch_size ${cfg.patch_size}`)
  if (cfg.num_frames % cfg.tubelet_size !== 0) fail(`num_frames ${cfg.num_frames} is not a multiple of tubelet_size ${cfg.tubelet_size}`)
  if (cfg.embed_dim % cfg.num_heads !== 0) fail(`embed_dim ${cfg.embed_dim} is not divisible by num_heads ${cfg.num_heads}`)
  if (cfg.decoder_embed_dim % cfg.decoder_num_heads !== 0) fail(`decoder_embed_dim ${cfg.decoder_embed_dim} is not divisible by decoder_num_heads ${cfg.decoder_num_heads}`)
  if (cfg.embed_dim % 16 !== 0) fail(`embed_dim ${cfg.embed_dim} must be divisible by 16 (3-D sin-cos position embedding)`)
  if (cfg.decoder_embed_dim % 16 !== 0) fail(`decoder_embed_dim ${cfg.decoder_embed_dim} must be divisible by 16`)
}

function blockSpecs(prefix: string, dim: number, hidden: number, part: ParamSpec['part']): ParamSpec[] {
  const lin = (name: string, out: number, inp: number): ParamSpec[] => [
    { name: `${prefix}.${name}.weight`, torchShape: [out, inp], tfShape: [inp, out], layout: 'linear', init: 'xavier', part },
    { name: `${prefix}.${name}.bias`, torchShape: [out], tfShape: [out], layout: 'plain', init: 'zeros', part }
  ]
  const norm = (name: string): ParamSpec[] => [
    { name: `${prefix}.${name}.weight`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: 'ones', part },
    { name: `${prefix}.${name}.bias`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: 'zeros', part }
  ]
  return [...norm('norm1'), ...lin('attn.qkv', 3 * dim, dim), ...lin('attn.proj', dim, dim), ...norm('norm2'), ...lin('mlp.fc1', hidden, dim), ...lin('mlp.fc2', dim, hidden)]
}

/** Every trainable parameter, in PyTorch state_dict order (pos embeds are fixed and excluded). */
export function paramSpecs(cfg: PrithviConfig, opts: { decoder?: boolean } = {}): ParamSpec[] {
  checkConfig(cfg)
  const D = cfg.embed_dim
  const Dd = cfg.decoder_embed_dim
  const P = patchDim(cfg)
  const k = [cfg.tubelet_size, cfg.patch_size, cfg.patch_size]
  const specs: ParamSpec[] = [{ name: 'cls_token', torchShape: [1, 1, D], tfShape: [1, 1, D], layout: 'plain', init: 'token', part: 'encoder' }]
  const decoder = opts.decoder ?? true
  if (decoder) specs.push({ name: 'mask_token', torchShape: [1, 1, Dd], tfShape: [1, 1, Dd], layout: 'plain', init: 'token', part: 'decoder' })
  specs.push(
    { name: 'patch_embed.proj.weight', torchShape: [D, cfg.in_chans, ...k], tfShape: [P, D], layout: 'patch', init: 'xavier', part: 'encoder' },
    { name: 'patch_embed.proj.bias', torchShape: [D], tfShape: [D], layout: 'plain', init: 'convBias', part: 'encoder' }
  )
  for (let i = 0; i < cfg.depth; i++) specs.push(...blockSpecs(`blocks.${i}`, D, mlpHidden(cfg, D), 'encoder'))
  specs.push(
    { name: 'norm.weight', torchShape: [D], tfShape: [D], layout: 'plain', init: 'ones', part: 'encoder' },
    { name: 'norm.bias', torchShape: [D], tfShape: [D], layout: 'plain', init: 'zeros', part: 'encoder' }
  )
  if (!decoder) return specs
  specs.push(
    { name: 'decoder_embed.weight', torchShape: [Dd, D], tfShape: [D, Dd], layout: 'linear', init: 'xavier', part: 'decoder' },
    { name: 'decoder_embed.bias', torchShape: [Dd], tfShape: [Dd], layout: 'plain', init: 'zeros', part: 'decoder' }
  )
  for (let i = 0; i < cfg.decoder_depth; i++) specs.push(...blockSpecs(`decoder_blocks.${i}`, Dd, mlpHidden(cfg, Dd), 'decoder'))
  specs.push(
    { name: 'decoder_norm.weight', torchShape: [Dd], tfShape: [Dd], layout: 'plain', init: 'ones', part: 'decoder' },
    { name: 'decoder_norm.bias', torchShape: [Dd], tfShape: [Dd], layout: 'plain', init: 'zeros', part: 'decoder' },
    { name: 'decoder_pred.weight', torchShape: [P, Dd], tfShape: [Dd, P], layout: 'linear', init: 'xavier', part: 'decoder' },
    { name: 'decoder_pred.bias', torchShape: [P], tfShape: [P], layout: 'plain', init: 'zeros', part: 'decoder' }
  )
  return specs
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`

/** Throws `<name> has shape [..], expected [..]` (or missing) for the first mismatching parameter. */
export function validateWeights(specs: readonly ParamSpec[], weights: WeightMap): void {
  for (const spec of specs) {
    const w = weights.get(spec.name)
    if (!w) throw new Error(`missing weight ${spec.name} (expected shape ${fmt(spec.torchShape)})`)
    const same = w.shape.length === spec.torchShape.length && w.shape.every((d, i) => d === spec.torchShape[i])
    if (!same) throw new Error(`${spec.name} has shape ${fmt(w.shape)}, expected ${fmt(spec.torchShape)}`)
    if (w.data.length !== numel(w.shape)) throw new Error(`${spec.name} has ${w.data.length} values for shape ${fmt(w.shape)}`)
  }
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!
  return out
}

/** Conv3d [D, C, tub, p, q] <-> [tub*p*q*C, D]; `toTf` picks the direction. */
function permutePatch(data: Float32Array, torchShape: number[], toTf: boolean): Float32Array {
  const [D, C, T, P, Q] = torchShape as [number, number, number, number, number]
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
  const L = numPatches(cfg)
  const grid = tokenGrid(cfg)
  const out: WeightMap = new Map()
  out.set('pos_embed', { shape: [1, L + 1, cfg.embed_dim], data: sincos3dPosEmbed(cfg.embed_dim, grid, true) })
  if (decoder) out.set('decoder_pos_embed', { shape: [1, L + 1, cfg.decoder_embed_dim], data: sincos3dPosEmbed(cfg.decoder_embed_dim, grid, true) })
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
  const rng = new Rng(seed)
  const decoder = opts.decoder ?? true
  const out: WeightMap = new Map()
  for (const spec of paramSpecs(cfg, { decoder })) {
    const data = new Float32Array(numel(spec.torchShape))
    const [fanIn, fanOut] = fanInOut(spec)
    switch (spec.init) {
      case 'xavier': {
        const bound = Math.sqrt(6 / (fanIn + fanOut))
        for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * bound
        break
      }
      case 'convBias': {
        const bound = 1 / Math.sqrt(cfg.in_chans * cfg.tubelet_size * cfg.patch_size * cfg.patch_size)
        for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * bound
        break
      }
      case 'token':
        for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal()
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

// The Prithvi masked autoencoder family (Prithvi-100M, Prithvi-EO-2.0 and their fine-tuned
// descendants): config schema and validation, the weight table, and the wrappers around its names
// in foreign checkpoints. Field names follow `model_args` in Prithvi_100M_config.yaml and
// `pretrained_cfg` in EO-2.0's config.json. EO-2.0 is the same architecture; what differs is kept
// in three optional fields: `pretrain_img_size` (its position tables follow TerraTorch: float64
// sin-cos for the pre-training grid, resized bicubically to another input size) and
// `coords_encoding` / `coords_scale_learn` (the TL variants' time / location scale tensors).
import { z } from 'zod'
import { stateDictOrder, type ModelFamily, type PrefixRename, type WeightSpec } from './family'

export const PrithviConfigSchema = z.object({
  img_size: z.number().int(),
  patch_size: z.number().int(),
  num_frames: z.number().int(),
  tubelet_size: z.number().int(),
  in_chans: z.number().int(),
  embed_dim: z.number().int(),
  depth: z.number().int(),
  num_heads: z.number().int(),
  decoder_embed_dim: z.number().int(),
  decoder_depth: z.number().int(),
  decoder_num_heads: z.number().int(),
  mlp_ratio: z.number(),
  norm_pix_loss: z.boolean(),
  /**
   * EO-2.0 (TerraTorch) position tables: the image size of the pre-training grid. The tables are
   * 3-D sin-cos for that grid at the run's frame count, resized bicubically (align_corners) to the
   * run's grid. Absent: Prithvi-100M's tables, computed for the run's grid directly.
   */
  pretrain_img_size: z.number().int().optional(),
  /** EO-2.0 TL: time / location encodings. Mars tiles have neither; only their scale tensors are kept. */
  coords_encoding: z.array(z.enum(['time', 'location'])).optional(),
  /** The TL scales are learnt parameters (else buffers of ones); either way the state dict holds them. */
  coords_scale_learn: z.boolean().optional()
})

export type PrithviConfig = z.infer<typeof PrithviConfigSchema>

/** The integer sizes of a config (what a yaml's `model_args` must give). */
export const PRITHVI_SIZE_FIELDS = [
  'img_size',
  'patch_size',
  'num_frames',
  'tubelet_size',
  'in_chans',
  'embed_dim',
  'depth',
  'num_heads',
  'decoder_embed_dim',
  'decoder_depth',
  'decoder_num_heads'
] as const

/** Prithvi-100M as published (pre-trained with 3 frames; the study used it with num_frames = 1). */
export function prithvi100m(overrides: Partial<PrithviConfig> = {}): PrithviConfig {
  return {
    img_size: 224,
    patch_size: 16,
    num_frames: 1,
    tubelet_size: 1,
    in_chans: 6,
    embed_dim: 768,
    depth: 12,
    num_heads: 12,
    decoder_embed_dim: 512,
    decoder_depth: 8,
    decoder_num_heads: 16,
    mlp_ratio: 4,
    norm_pix_loss: false,
    ...overrides
  }
}

/** A tiny model of the same shape family, for tests and fixtures. */
export function prithviTiny(overrides: Partial<PrithviConfig> = {}): PrithviConfig {
  return prithvi100m({
    img_size: 32,
    patch_size: 8,
    embed_dim: 32,
    depth: 2,
    num_heads: 4,
    decoder_embed_dim: 16,
    decoder_depth: 1,
    decoder_num_heads: 2,
    ...overrides
  })
}

export const PRESETS = { 'prithvi-100m': prithvi100m, 'prithvi-tiny': prithviTiny } as const
export type PresetName = keyof typeof PRESETS

/** Token grid (t, h, w) of a config. */
export function tokenGrid(cfg: PrithviConfig): [number, number, number] {
  const g = cfg.img_size / cfg.patch_size
  return [cfg.num_frames / cfg.tubelet_size, g, g]
}

/** Number of patch tokens (CLS excluded). */
export function numPatches(cfg: PrithviConfig): number {
  const g = cfg.img_size / cfg.patch_size
  return (cfg.num_frames / cfg.tubelet_size) * g * g
}

/** Length of one patch vector: tubelet * p * p * C. */
export function patchDim(cfg: PrithviConfig): number {
  return cfg.tubelet_size * cfg.patch_size * cfg.patch_size * cfg.in_chans
}

export function mlpHidden(cfg: PrithviConfig, dim: number): number {
  return Math.trunc(dim * cfg.mlp_ratio)
}

// Far above any Prithvi (600M: 1280 wide, 32 deep; 224 px, 6 bands, 3 frames), far below sizes that
// would have the engine allocate gigabytes for a typo like depth 1000000000.
const MAX_SIZES: Partial<Record<keyof PrithviConfig, number>> = {
  img_size: 8192,
  patch_size: 512,
  num_frames: 64,
  tubelet_size: 64,
  in_chans: 64,
  embed_dim: 8192,
  depth: 256,
  num_heads: 512,
  decoder_embed_dim: 8192,
  decoder_depth: 256,
  decoder_num_heads: 512,
  mlp_ratio: 64
}

/** The first reason the sizes do not fit together (patches tile the image, heads split the width…). */
export function prithviConfigProblem(cfg: PrithviConfig): string | undefined {
  for (const [field, max] of Object.entries(MAX_SIZES) as [keyof PrithviConfig, number][]) {
    const v = cfg[field] as number
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) return `${field} must be a positive number, got ${JSON.stringify(v)}`
    if (v > max) return `${field} ${v} is absurdly large (at most ${max})`
  }
  if (cfg.patch_size > cfg.img_size) return `patch_size ${cfg.patch_size} is larger than img_size ${cfg.img_size}`
  if (cfg.img_size % cfg.patch_size !== 0) return `img_size ${cfg.img_size} is not a multiple of patch_size ${cfg.patch_size}`
  if (cfg.num_frames % cfg.tubelet_size !== 0) return `num_frames ${cfg.num_frames} is not a multiple of tubelet_size ${cfg.tubelet_size}`
  if (cfg.embed_dim % cfg.num_heads !== 0) return `embed_dim ${cfg.embed_dim} does not split into ${cfg.num_heads} heads`
  if (cfg.decoder_embed_dim % cfg.decoder_num_heads !== 0) return `decoder_embed_dim ${cfg.decoder_embed_dim} does not split into ${cfg.decoder_num_heads} heads`
  const pre = cfg.pretrain_img_size
  if (pre !== undefined) {
    if (!(Number.isInteger(pre) && pre > 0)) return `pretrain_img_size must be a positive integer, got ${JSON.stringify(pre)}`
    if (pre > MAX_SIZES.img_size!) return `pretrain_img_size ${pre} is absurdly large (at most ${MAX_SIZES.img_size})`
    if (pre % cfg.patch_size !== 0) return `pretrain_img_size ${pre} is not a multiple of patch_size ${cfg.patch_size}`
  }
  return undefined
}

/** What running the model needs on top: the 3-D sin-cos position tables split each width in 16 parts. */
export function prithviModelProblem(cfg: PrithviConfig): string | undefined {
  const sizes = prithviConfigProblem(cfg)
  if (sizes) return sizes
  if (cfg.embed_dim % 16 !== 0) return `embed_dim ${cfg.embed_dim} must be divisible by 16 (3-D sin-cos position embedding)`
  if (cfg.decoder_embed_dim % 16 !== 0) return `decoder_embed_dim ${cfg.decoder_embed_dim} must be divisible by 16 (3-D sin-cos position embedding)`
  return undefined
}

type Part = WeightSpec['part']

const linear = (name: string, out: number, inp: number, part: Part): WeightSpec[] => [
  { name: `${name}.weight`, torchShape: [out, inp], tfShape: [inp, out], layout: 'linear', init: 'xavier', part },
  { name: `${name}.bias`, torchShape: [out], tfShape: [out], layout: 'plain', init: 'zeros', part }
]

const layerNorm = (name: string, dim: number, part: Part): WeightSpec[] => [
  { name: `${name}.weight`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: 'ones', part },
  { name: `${name}.bias`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: 'zeros', part }
]

const token = (name: string, dim: number, part: Part): WeightSpec => ({ name, torchShape: [1, 1, dim], tfShape: [1, 1, dim], layout: 'plain', init: 'token', part })

// A TL scale ([1]): read and reported as known, never trained or used (no time / location inputs).
const coordScale = (name: string, part: Part): WeightSpec => ({ name, torchShape: [1], tfShape: [1], layout: 'plain', init: 'ones', part, fixed: true })

/** The TL scale tensors a config's state dict holds (TerraTorch: `temporal_embed_enc.scale`…). */
function coordScales(cfg: PrithviConfig, part: Part): WeightSpec[] {
  const suffix = part === 'encoder' ? 'enc' : 'dec'
  const out: WeightSpec[] = []
  if (cfg.coords_encoding?.includes('time')) out.push(coordScale(`temporal_embed_${suffix}.scale`, part))
  if (cfg.coords_encoding?.includes('location')) out.push(coordScale(`location_embed_${suffix}.scale`, part))
  return out
}

const posTable = (name: string, tokens: number, dim: number, part: Part): WeightSpec => ({
  name,
  torchShape: [1, tokens, dim],
  tfShape: [1, tokens, dim],
  layout: 'plain',
  init: 'sincos',
  part,
  fixed: true
})

/** timm's pre-norm Block: norm1, attn (fused qkv, proj), norm2, mlp (fc1, fc2). */
function block(prefix: string, dim: number, hidden: number, part: Part): WeightSpec[] {
  return [
    ...layerNorm(`${prefix}.norm1`, dim, part),
    ...linear(`${prefix}.attn.qkv`, 3 * dim, dim, part),
    ...linear(`${prefix}.attn.proj`, dim, dim, part),
    ...layerNorm(`${prefix}.norm2`, dim, part),
    ...linear(`${prefix}.mlp.fc1`, hidden, dim, part),
    ...linear(`${prefix}.mlp.fc2`, dim, hidden, part)
  ]
}

/** MaskedAutoencoderViT's tensors in declaration order (encoder, then decoder). */
export function prithviTensors(cfg: PrithviConfig, opts: { decoder: boolean }): WeightSpec[] {
  const D = cfg.embed_dim
  const L = numPatches(cfg)
  const P = patchDim(cfg)
  const p = cfg.patch_size
  const out: WeightSpec[] = [
    token('cls_token', D, 'encoder'),
    posTable('pos_embed', L + 1, D, 'encoder'),
    { name: 'patch_embed.proj.weight', torchShape: [D, cfg.in_chans, cfg.tubelet_size, p, p], tfShape: [P, D], layout: 'patch', init: 'xavier', part: 'encoder' },
    // PyTorch's default Conv3d bias init, U(±1/sqrt(fan_in)): the official init leaves it alone.
    { name: 'patch_embed.proj.bias', torchShape: [D], tfShape: [D], layout: 'plain', init: 'convBias', part: 'encoder' },
    ...coordScales(cfg, 'encoder')
  ]
  for (let i = 0; i < cfg.depth; i++) out.push(...block(`blocks.${i}`, D, mlpHidden(cfg, D), 'encoder'))
  out.push(...layerNorm('norm', D, 'encoder'))
  if (!opts.decoder) return out
  const Dd = cfg.decoder_embed_dim
  out.push(token('mask_token', Dd, 'decoder'), ...linear('decoder_embed', Dd, D, 'decoder'), posTable('decoder_pos_embed', L + 1, Dd, 'decoder'), ...coordScales(cfg, 'decoder'))
  for (let i = 0; i < cfg.decoder_depth; i++) out.push(...block(`decoder_blocks.${i}`, Dd, mlpHidden(cfg, Dd), 'decoder'))
  out.push(...layerNorm('decoder_norm', Dd, 'decoder'), ...linear('decoder_pred', P, Dd, 'decoder'))
  return out
}

// Every name of a one-block model, with block indices written as 0: the form of every Prithvi name
// (the TL scales included).
const NAME_FORMS = prithviTensors(prithvi100m({ depth: 1, decoder_depth: 1, coords_encoding: ['time', 'location'] }), { decoder: true })
const ENCODER_FORMS = new Set(NAME_FORMS.filter((s) => s.part === 'encoder').map((s) => s.name))
const DECODER_FORMS = new Set(NAME_FORMS.filter((s) => s.part === 'decoder').map((s) => s.name))
const nameForm = (name: string): string => name.replace(/^(blocks|decoder_blocks)\.\d+\./, '$1.0.')

export const isPrithviDecoderName = (name: string): boolean => DECODER_FORMS.has(nameForm(name))
export const isPrithviName = (name: string): boolean => ENCODER_FORMS.has(nameForm(name)) || isPrithviDecoderName(name)

/** Wrapper prefixes seen around Prithvi weights. Applied only when the result is a Prithvi name. */
export const PRITHVI_PREFIX_RENAMES: readonly PrefixRename[] = [
  { prefix: 'model.encoder_model.', why: "the study's Lightning fine-tuning checkpoints" },
  { prefix: 'backbone.', why: 'MMSegmentation (hls-foundation-os) segmentors' },
  { prefix: 'encoder.', why: 'encoder-wrapping modules (TerraTorch and others)' },
  // A segmentation decoder may have its own `blocks.*`: only MAE decoder names pass.
  { prefix: 'decoder.', why: 'TerraTorch PrithviMAE decoder module', onlyIf: isPrithviDecoderName },
  { prefix: 'module.', why: 'DataParallel / DistributedDataParallel' },
  { prefix: 'model.', why: 'Lightning modules holding the MAE as `model`' }
]

export const prithviMae: ModelFamily<PrithviConfig> = {
  id: 'prithvi-mae',
  title: 'Prithvi masked autoencoder (Prithvi-100M, Prithvi-EO-2.0)',
  configSchema: PrithviConfigSchema,
  presets: PRESETS,
  configProblem: prithviConfigProblem,
  modelProblem: prithviModelProblem,
  checkpointTensors: prithviTensors,
  weightSpecs: (cfg, opts = {}) => stateDictOrder(prithviTensors(cfg, { decoder: opts.decoder ?? true })).filter((s) => !s.fixed),
  fixedBuffers: new Set(NAME_FORMS.filter((s) => s.fixed).map((s) => s.name)),
  isWeightName: isPrithviName,
  isDecoderName: isPrithviDecoderName,
  prefixRenames: PRITHVI_PREFIX_RENAMES
}

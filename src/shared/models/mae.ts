// The facebookresearch MAE family (the original facebookresearch/mae `models_mae.py`, MOMO's
// `models/mae.py` and other checkpoints in that layout): config schema, presets (MOMO ViT-S/B/L and
// each Mars sensor's statistics), and the weight table. The weight names are the Prithvi v1 ones
// (Prithvi was built from this code) except that the patch embedding is a Conv2d [D, C, p, p], the
// position tables are 2-D and stored, and the input is a plain image [N, C, H, W] at its own 0-1
// scale and mean/std. The engine runs it as a one-frame, one-tubelet model: `num_frames` and
// `tubelet_size` are fixed at 1, so a MaeConfig is also a valid PrithviConfig for the shared code.
import { z } from 'zod'
import { stateDictOrder, type ModelFamily, type WeightSpec } from './family'
import { PRITHVI_PREFIX_RENAMES, prithviConfigProblem, prithviTensors, type PrithviConfig } from './prithvi-mae'

export const MAE_FAMILY_ID = 'mae'

export const MaeConfigSchema = z.object({
  family: z.literal(MAE_FAMILY_ID),
  img_size: z.number().int(),
  patch_size: z.number().int(),
  in_chans: z.number().int(),
  embed_dim: z.number().int(),
  depth: z.number().int(),
  num_heads: z.number().int(),
  decoder_embed_dim: z.number().int(),
  decoder_depth: z.number().int(),
  decoder_num_heads: z.number().int(),
  mlp_ratio: z.number(),
  norm_pix_loss: z.boolean(),
  /** Per input channel, on the 0-1 pixel scale. */
  mean: z.array(z.number()),
  std: z.array(z.number()),
  /** nn.LayerNorm eps: 1e-5 in MOMO (plain nn.LayerNorm), 1e-6 in the original MAE. */
  layer_norm_eps: z.number(),
  num_frames: z.literal(1),
  tubelet_size: z.literal(1)
})

export type MaeConfig = z.infer<typeof MaeConfigSchema>

/** Any architecture the engine runs: a Prithvi config or a facebookresearch-MAE one. */
export type ModelConfig = PrithviConfig | MaeConfig

export function isMaeConfig(cfg: PrithviConfig | MaeConfig): cfg is MaeConfig {
  return (cfg as { family?: unknown }).family === MAE_FAMILY_ID
}

/** The per-sensor statistics MOMO pre-trained with (0-1 scale, one value for all channels). */
export const MOMO_STATS = {
  hirise: { mean: 0.5052, std: 0.1785 },
  ctx: { mean: 0.5169, std: 0.1609 },
  themis: { mean: 0.4782, std: 0.1559 },
  merged: { mean: 0.5006, std: 0.1664 }
} as const
export type MomoSensor = keyof typeof MOMO_STATS

const perChannel = (v: number, c: number): number[] => Array.from({ length: c }, () => v)

/** A MaeConfig from the fields the JSON config file gives (sizes) and defaults for the rest. */
export function maeConfig(fields: Omit<MaeConfig, 'family' | 'num_frames' | 'tubelet_size' | 'norm_pix_loss' | 'layer_norm_eps' | 'mean' | 'std'> & Partial<MaeConfig>): MaeConfig {
  const c = fields.in_chans
  return {
    norm_pix_loss: false,
    layer_norm_eps: 1e-5,
    mean: perChannel(MOMO_STATS.merged.mean, c),
    std: perChannel(MOMO_STATS.merged.std, c),
    ...fields,
    family: MAE_FAMILY_ID,
    num_frames: 1,
    tubelet_size: 1
  }
}

// MOMO's models_pretrain.py: every size at 224 px, patch 16, 3 channels, decoder 512 wide, 8 deep, 16 heads.
const momo = (embed_dim: number, depth: number, num_heads: number) => (overrides: Partial<MaeConfig> = {}): MaeConfig =>
  maeConfig({ img_size: 224, patch_size: 16, in_chans: 3, embed_dim, depth, num_heads, decoder_embed_dim: 512, decoder_depth: 8, decoder_num_heads: 16, mlp_ratio: 4, ...overrides })

export const momoVitS = momo(384, 12, 6)
export const momoVitB = momo(768, 12, 12)
export const momoVitL = momo(1024, 24, 16)

/** The original MAE's ViT-B (mae_vit_base_patch16_dec512d8b): eps 1e-6, released with norm_pix_loss. */
export const maeVitBase = (overrides: Partial<MaeConfig> = {}): MaeConfig =>
  maeConfig({ img_size: 224, patch_size: 16, in_chans: 3, embed_dim: 768, depth: 12, num_heads: 12, decoder_embed_dim: 512, decoder_depth: 8, decoder_num_heads: 16, mlp_ratio: 4, layer_norm_eps: 1e-6, norm_pix_loss: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], ...overrides })

/** A tiny model of the layout (tests and fixtures: tests/fixtures/mae/make_fixtures.py). */
export const maeTiny = (overrides: Partial<MaeConfig> = {}): MaeConfig =>
  maeConfig({ img_size: 32, patch_size: 8, in_chans: 3, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2, mlp_ratio: 4, ...overrides })

export const MAE_PRESETS = {
  'momo-vit-s': momoVitS,
  'momo-vit-b': momoVitB,
  'momo-vit-l': momoVitL,
  'mae-vit-base': maeVitBase,
  'mae-tiny': maeTiny
} as const
export type MaePresetName = keyof typeof MAE_PRESETS

/** Why the sizes or the statistics do not fit together, or undefined. */
export function maeConfigProblem(cfg: MaeConfig): string | undefined {
  const sizes = prithviConfigProblem(cfg)
  if (sizes) return sizes
  if (cfg.in_chans !== 1 && cfg.in_chans !== 3) return `in_chans must be 1 (grey) or 3 (RGB), got ${cfg.in_chans}`
  for (const [name, list] of [['mean', cfg.mean], ['std', cfg.std]] as const) {
    if (list.length !== cfg.in_chans) return `${name} has ${list.length} value(s) but in_chans is ${cfg.in_chans}`
    if (!list.every((v) => Number.isFinite(v))) return `${name} must hold finite numbers`
  }
  if (cfg.std.some((s) => s <= 0)) return 'std must be positive'
  if (cfg.mean.some((m) => Math.abs(m) > 2) || cfg.std.some((s) => s > 2)) return 'mean/std are on the 0-1 pixel scale (e.g. 0.5006/0.1664); these look like 0-255 values'
  if (!(cfg.layer_norm_eps > 0 && cfg.layer_norm_eps < 0.1)) return `layer_norm_eps must be a small positive number, got ${cfg.layer_norm_eps}`
  return undefined
}

/** The 2-D sin-cos tables split each width in four (sin and cos of w and h). */
export function maeModelProblem(cfg: MaeConfig): string | undefined {
  const why = maeConfigProblem(cfg)
  if (why) return why
  if (cfg.embed_dim % 4 !== 0) return `embed_dim ${cfg.embed_dim} must be divisible by 4 (2-D sin-cos position embedding)`
  if (cfg.decoder_embed_dim % 4 !== 0) return `decoder_embed_dim ${cfg.decoder_embed_dim} must be divisible by 4 (2-D sin-cos position embedding)`
  return undefined
}

/** MaskedAutoencoderViT's tensors in declaration order: Prithvi's table with a Conv2d patch embedding. */
export function maeTensors(cfg: MaeConfig, opts: { decoder: boolean }): WeightSpec[] {
  const p = cfg.patch_size
  return prithviTensors(cfg, opts).map((s) => (s.name === 'patch_embed.proj.weight' ? { ...s, torchShape: [cfg.embed_dim, cfg.in_chans, p, p] } : s))
}

const NAME_FORMS = maeTensors(maeTiny({ depth: 1, decoder_depth: 1 }), { decoder: true })
const ENCODER_FORMS = new Set(NAME_FORMS.filter((s) => s.part === 'encoder').map((s) => s.name))
const DECODER_FORMS = new Set(NAME_FORMS.filter((s) => s.part === 'decoder').map((s) => s.name))
const nameForm = (name: string): string => name.replace(/^(blocks|decoder_blocks)\.\d+\./, '$1.0.')
export const isMaeDecoderName = (name: string): boolean => DECODER_FORMS.has(nameForm(name))
const isMaeName = (name: string): boolean => ENCODER_FORMS.has(nameForm(name)) || isMaeDecoderName(name)

export const facebookMae: ModelFamily<MaeConfig> = {
  id: MAE_FAMILY_ID,
  title: 'facebookresearch MAE (MOMO, the original MAE)',
  configSchema: MaeConfigSchema,
  presets: MAE_PRESETS,
  configProblem: maeConfigProblem,
  modelProblem: maeModelProblem,
  checkpointTensors: maeTensors,
  weightSpecs: (cfg, opts = {}) => stateDictOrder(maeTensors(cfg, { decoder: opts.decoder ?? true })).filter((s) => !s.fixed),
  // Stored (a Parameter with requires_grad=False); used when the grid matches, else recomputed.
  fixedBuffers: new Set(NAME_FORMS.filter((s) => s.fixed).map((s) => s.name)),
  isWeightName: isMaeName,
  isDecoderName: isMaeDecoderName,
  // DDP's `module.`, fine-tuning wrappers: the same wrappers as around Prithvi's names.
  prefixRenames: PRITHVI_PREFIX_RENAMES.map((r) => (r.onlyIf ? { ...r, onlyIf: isMaeDecoderName } : r))
}

/**
 * The family line of a model card: the layout, and the published MOMO or MAE size it matches
 * (sizes only; MOMO's checkpoints come from github.com/kerner-lab/MOMO, never fetched here).
 */
export function maeGeneration(cfg: MaeConfig): string {
  const same = (p: MaeConfig): boolean =>
    (['img_size', 'patch_size', 'in_chans', 'embed_dim', 'depth', 'mlp_ratio'] as const).every((k) => p[k] === cfg[k])
  const names: Record<string, string> = { 'momo-vit-s': 'MOMO ViT-S', 'momo-vit-b': 'MOMO ViT-B', 'momo-vit-l': 'MOMO ViT-L' }
  const match = Object.entries(names).find(([id]) => same(MAE_PRESETS[id as MaePresetName]()))
  return `facebookresearch MAE layout${match ? ` (${match[1]} size, kerner-lab/MOMO)` : ''}`
}

// What a model takes as input, in words for the views: the reconstruction study's pipeline and
// methods written with the selected model's own constants (its band statistics, or the MAE
// family's 0-1 mean/std and channel handling), and why per-tile standardisation is offered.
// Built from what the renderer already holds for a model (config, stats, card), never from tables.
import { PRITHVI_HLS_STATS, reflectanceFactor, type BandStats } from '../bands'
import { PRESET_NAMES, presetRecipe, type BandRecipe, type BandRecipeEntry } from '../imputation/recipes'
import type { ModelCard } from '../ipc/schemas/models'
import { STATS_FROM } from './card-lines'
import { isMaeConfig, type MaeConfig } from './mae'
import { MAE_NATIVE_METHOD } from './mae-input'
import type { PrithviConfig } from './prithvi-mae'

export interface InputSubject {
  name: string
  config: PrithviConfig
  stats: BandStats | null
  card?: ModelCard | null
}

/**
 * Whether a registered model can reconstruct: its decoder was loaded. Encoder-only checkpoints
 * (MOMO's merged momo.pth, the shipped crater encoder) fine-tune and probe, but cannot.
 */
export function canReconstruct(m: { report: { loaded: readonly string[] } }): boolean {
  return m.report.loaded.includes('decoder_pred.weight')
}

/** One study method as the form lists it: its name and what it feeds this model. */
export interface MethodLine {
  name: string
  text: string
}

export type StudyInput =
  | {
      family: 'prithvi'
      /** The statistics the study uses (the engine's choice: the model's, else Prithvi-100M's HLS). */
      stats: BandStats
      statsFrom: string
      /** The RGB → reflectance scale per band, `(mean_i + 2·std_i)/255` with these statistics. */
      scale: string
      pipeline: string
      /** The presets as the engine builds them for this model (its means in `means`, …). */
      presets: BandRecipe[]
      methods: MethodLine[]
    }
  | { family: 'mae'; channels: string; pipeline: string; methods: MethodLine[]; whyNoRecipes: string }

const reflectance = (v: number) => v.toFixed(1)
const normalised = (v: number) => (v.toFixed(2) === '-0.00' ? '0.00' : v.toFixed(2))

/** Per-channel values, or one when every channel has it (MOMO's replicated grey). */
function perChannel(values: readonly number[]): string {
  return values.every((v) => v === values[0]) ? `${values[0]}${values.length > 1 ? ' (each channel)' : ''}` : values.join(' / ')
}

/** How the MAE family's native input treats a tile's channels. */
export function maeChannels(cfg: Pick<MaeConfig, 'in_chans'>): string {
  return cfg.in_chans === 1 ? 'RGB turned grey (BT.601 luma), one channel' : 'three channels: RGB as it is, a grey tile replicated to R = G = B'
}

/** Bands 4-6 of a recipe with the model's statistics: what each holds, in reflectance and normalised. */
function extraBands(recipe: BandRecipe, stats: BandStats): string {
  const name = (i: number) => stats.bands[i] ?? `band ${i + 1}`
  return recipe.bands
    .slice(3)
    .map((e: BandRecipeEntry, k) => {
      const i = k + 3
      const s = e.statsBand ?? i
      const norm = `(x − ${reflectance(stats.mean[s]!)}) / ${reflectance(stats.std[s]!)}`
      if (e.stage === 'postnorm') return e.source === 'luminance' ? `${name(i)} = luminance of the normalised ${name(0)}, ${name(1)}, ${name(2)}` : `${name(i)} = normalised ${name({ B: 0, G: 1, R: 2 }[e.source as 'B' | 'G' | 'R'])}`
      if (e.source === 'constant') return `${name(i)} = ${reflectance(e.value!)} → ${normalised((e.value! - stats.mean[s]!) / stats.std[s]!)}`
      return `${name(i)} = ${e.source === 'luminance' ? 'luminance' : e.source} reflectance, ${norm}`
    })
    .join('; ')
}

/**
 * The reconstruction study's input for a model: for Prithvi (100M, EO-2.0, any file with stats) the
 * scale and the recipes with the statistics the engine will use; for the MAE family its one method.
 */
export function studyInputOf(m: InputSubject, custom: readonly BandRecipe[] = []): StudyInput {
  const c = m.config
  if (isMaeConfig(c)) {
    const channels = maeChannels(c)
    const native = `${m.name}'s own input: x / 255 (0-1 scale), ${channels}, then (x − mean) / std with mean ${perChannel(c.mean)}, std ${perChannel(c.std)} (from its config); scored with its own MAE loss${c.norm_pix_loss ? ' (norm_pix_loss: patches standardised, shown de-standardised)' : ''}`
    return {
      family: 'mae',
      channels,
      pipeline: `RGB tiles → ${m.name}'s own input (native: 0-1 scale, its mean / std, ${c.in_chans === 1 ? 'one grey channel' : 'three channels'}) → its MAE, scored with its own loss. One mask per tile.`,
      methods: [{ name: MAE_NATIVE_METHOD, text: native }],
      whyNoRecipes:
        `The imputation recipes build Prithvi's six HLS bands from reflectance scaled by (mean + 2·std)/255; ${m.name} is a facebookresearch-style MAE ` +
        `with ${c.in_chans} input channel${c.in_chans === 1 ? '' : 's'} on the 0-1 scale, so it is studied on its own input only.`
    }
  }
  const stats = m.stats ?? PRITHVI_HLS_STATS
  const statsFrom = m.card ? STATS_FROM[m.card.stats] : m.stats ? 'recorded with the model' : STATS_FROM.default
  const scale = [0, 1, 2]
    .map((b) => `${stats.bands[b] ?? `band ${b + 1}`} (${reflectance(stats.mean[b]!)} + 2·${reflectance(stats.std[b]!)})/255 = ${reflectanceFactor(stats, b).toFixed(3)}`)
    .join(', ')
  const presets = PRESET_NAMES.map((n) => presetRecipe(n, stats))
  const methods = [...presets, ...custom].map((r) => ({ name: r.name, text: `${r.description ? `${r.description} ` : ''}${extraBands(r, stats)}` }))
  return {
    family: 'prithvi',
    stats,
    statsFrom,
    scale,
    pipeline: `RGB tiles → B,G,R × (mean + 2·std)/255 of ${m.name}'s bands 1-3: ${scale} → six bands by each method → (x − mean) / std with its statistics (${statsFrom}) → Prithvi MAE. One mask per tile, shared by every method (paired comparison).`,
    presets,
    methods
  }
}

/** Why per-tile standardisation is offered, for the model's family (the hint beside the choice). */
export function tileNormHint(config: PrithviConfig | null): string {
  const why = 'HiRISE observations are stretched differently, so raw brightness and contrast can stand in for the landform.'
  if (config && isMaeConfig(config)) {
    return `Standardise each tile: after x / 255 and the model's (x − mean) / std, every channel is shifted and stretched to mean 0 and std 1 over the tile (a flat tile is only shifted). ${why}`
  }
  return `Standardise each tile's brightness and contrast to the model's band statistics before the reflectance scaling. ${why}`
}

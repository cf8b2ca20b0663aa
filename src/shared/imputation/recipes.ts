// Band recipes: how the six Prithvi input bands are built from reflectance B,G,R, and the
// builders that turn reflectance planes into normalised model input ([6,h,w] / [B,6,1,H,W]).
//
// Semantics of one entry at position i (0-based model band):
//   stage 'prenorm'  the band is built in reflectance units from `source` and then normalised
//                    with the mean/std of model band `statsBand` (default: i, its own stats).
//   stage 'postnorm' the band copies a value that already lives in normalised space:
//                    B/G/R → that input band normalised with its own stats (bands 0/1/2), as
//                    the study's postnorm-dup did; `statsBand`, if given, must equal the
//                    source band. luminance → the LUMINANCE_WEIGHTS sum of the normalised
//                    B, G, R (no statsBand). constant is not allowed post-norm (a constant is
//                    reflectance; a pre-norm constant with statsBand covers every case).
// Bands 0..2 must be B, G, R normalised with their own stats: display, the RGB loss and the
// reflectance round trip all rely on it.
import { type BandStats, MODEL_BAND_COUNT, PRITHVI_HLS_STATS, validateBandStats } from '../bands'

export type BandSource = 'B' | 'G' | 'R' | 'luminance' | 'constant'
export type BandStage = 'prenorm' | 'postnorm'

export interface BandRecipeEntry {
  source: BandSource
  /** Reflectance value; required for (and only for) source 'constant'. */
  value?: number
  stage: BandStage
  /** Model band (0..5) whose mean/std normalise this band; see the module comment for defaults. */
  statsBand?: number
}

/** A named six-band recipe; stored by the app as JSON. */
export interface BandRecipe {
  name: string
  description?: string
  bands: BandRecipeEntry[]
}

/**
 * Weights of luminance-dup: ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B), the weights
 * PIL's convert('L') uses, applied to the reflectance-scaled R, G, B (not to linear light;
 * HiRISE colour products are already stretched, so this is a convention, not photometry).
 */
export const LUMINANCE_WEIGHTS = { R: 0.299, G: 0.587, B: 0.114 } as const

export const PRESET_NAMES = ['means', 'prenorm-dup', 'postnorm-dup', 'luminance-dup', 'zero-reflectance'] as const
export type PresetName = (typeof PRESET_NAMES)[number]

const RGB_SOURCES = ['B', 'G', 'R'] as const
const SOURCE_BAND: Record<string, number> = { B: 0, G: 1, R: 2 }

/**
 * The study's methods and two extras, for a given set of stats. `means` stores each band's
 * own mean as its constant, so those bands are exactly 0 after normalisation.
 */
export function presetRecipe(name: PresetName, stats: BandStats = PRITHVI_HLS_STATS): BandRecipe {
  const rgb: BandRecipeEntry[] = RGB_SOURCES.map((source) => ({ source, stage: 'prenorm' }))
  const extra = (make: (i: number) => BandRecipeEntry): BandRecipeEntry[] => [3, 4, 5].map(make)
  switch (name) {
    case 'means':
      return { name, description: 'Bands 4-6 set to their band means (0 after normalisation).', bands: [...rgb, ...extra((i) => ({ source: 'constant', value: stats.mean[i], stage: 'prenorm' }))] }
    case 'prenorm-dup':
      return { name, description: 'B,G,R copied into bands 4-6 in reflectance, then all six normalised with their own stats.', bands: [...rgb, ...RGB_SOURCES.map((source): BandRecipeEntry => ({ source, stage: 'prenorm' }))] }
    case 'postnorm-dup':
      return { name, description: 'B,G,R normalised with bands 1-3 stats, then copied into bands 4-6.', bands: [...rgb, ...RGB_SOURCES.map((source): BandRecipeEntry => ({ source, stage: 'postnorm' }))] }
    case 'luminance-dup':
      return { name, description: 'Bands 4-6 = BT.601 luminance of the reflectance RGB, normalised with their own stats.', bands: [...rgb, ...extra(() => ({ source: 'luminance', stage: 'prenorm' }))] }
    case 'zero-reflectance':
      return { name, description: 'Bands 4-6 = reflectance 0 (-mean/std after normalisation).', bands: [...rgb, ...extra(() => ({ source: 'constant', value: 0, stage: 'prenorm' }))] }
  }
}

/** Presets built for the published Prithvi-100M HLS stats. */
export const RECIPE_PRESETS: Readonly<Record<PresetName, BandRecipe>> = Object.fromEntries(
  PRESET_NAMES.map((n) => [n, presetRecipe(n)])
) as Record<PresetName, BandRecipe>

const ENTRY_KEYS = new Set(['source', 'value', 'stage', 'statsBand'])
const RECIPE_KEYS = new Set(['name', 'description', 'bands'])

/** Every problem with a (possibly user-written, JSON-parsed) recipe; empty when valid. */
export function validateRecipe(r: unknown): string[] {
  const errors: string[] = []
  if (!isPlainObject(r)) return ['recipe must be an object']
  for (const key of Object.keys(r)) if (!RECIPE_KEYS.has(key)) errors.push(`unknown recipe field "${key}"`)
  if (typeof r.name !== 'string' || r.name.trim() === '') errors.push('name must be a non-empty string')
  if (r.description !== undefined && typeof r.description !== 'string') errors.push('description must be a string')
  if (!Array.isArray(r.bands)) return [...errors, 'bands must be an array']
  if (r.bands.length !== MODEL_BAND_COUNT) errors.push(`bands must have ${MODEL_BAND_COUNT} entries, got ${r.bands.length}`)
  r.bands.forEach((entry: unknown, i: number) => errors.push(...validateEntry(entry, i)))
  return errors
}

function validateEntry(entry: unknown, i: number): string[] {
  const at = `bands[${i}]`
  if (!isPlainObject(entry)) return [`${at} must be an object`]
  const errors: string[] = []
  for (const key of Object.keys(entry)) if (!ENTRY_KEYS.has(key)) errors.push(`${at}: unknown field "${key}"`)
  const { source, stage, value, statsBand } = entry
  const sourceOk = source === 'B' || source === 'G' || source === 'R' || source === 'luminance' || source === 'constant'
  if (!sourceOk) errors.push(`${at}.source must be one of B, G, R, luminance, constant`)
  if (stage !== 'prenorm' && stage !== 'postnorm') errors.push(`${at}.stage must be "prenorm" or "postnorm"`)
  if (source === 'constant') {
    if (typeof value !== 'number' || !Number.isFinite(value)) errors.push(`${at}.value must be a finite reflectance number for a constant band`)
  } else if (value !== undefined) {
    errors.push(`${at}.value is only allowed when source is "constant"`)
  }
  if (statsBand !== undefined && !(Number.isInteger(statsBand) && (statsBand as number) >= 0 && (statsBand as number) < MODEL_BAND_COUNT)) {
    errors.push(`${at}.statsBand must be an integer from 0 to ${MODEL_BAND_COUNT - 1}`)
  }
  if (stage === 'postnorm') {
    if (source === 'constant') errors.push(`${at}: a constant is reflectance, so it must be "prenorm" (use statsBand to choose its normalising stats)`)
    if (source === 'luminance' && statsBand !== undefined) errors.push(`${at}: post-norm luminance combines normalised B,G,R and takes no statsBand`)
    if (typeof source === 'string' && source in SOURCE_BAND && statsBand !== undefined && statsBand !== SOURCE_BAND[source]) {
      errors.push(`${at}: a post-norm copy of ${source} is normalised with band ${SOURCE_BAND[source]}'s stats; statsBand must be ${SOURCE_BAND[source]} or omitted`)
    }
  }
  if (i < 3 && sourceOk) {
    const expected = RGB_SOURCES[i]
    const effectiveStats = statsBand ?? i
    if (source !== expected || effectiveStats !== i) errors.push(`${at} must be ${expected} normalised with its own stats (bands 1-3 are the model's B, G, R)`)
  }
  return errors
}

/** Throws with every validation error when `r` is not a usable recipe. */
export function assertRecipe(r: unknown): asserts r is BandRecipe {
  const errors = validateRecipe(r)
  if (errors.length > 0) throw new Error(`invalid band recipe: ${errors.join('; ')}`)
}

/** Parse a saved recipe (JSON text) and validate it. */
export function parseRecipe(json: string): BandRecipe {
  const value: unknown = JSON.parse(json)
  assertRecipe(value)
  return value
}

/**
 * Reflectance B,G,R ([3,h,w]) → normalised model input [6,h,w] (the [6,1,h,w] of T = 1).
 * Arithmetic is float64, stored as float32: (x − mean)/std exactly as numpy evaluates it.
 */
export function buildModelInput(reflectanceBGR: Float32Array, recipe: BandRecipe, stats: BandStats = PRITHVI_HLS_STATS): Float32Array {
  if (reflectanceBGR.length % 3 !== 0) throw new Error(`reflectance length ${reflectanceBGR.length} is not 3 planes`)
  const out = new Float32Array(2 * reflectanceBGR.length)
  writeModelInput(reflectanceBGR, recipe, stats, out, 0)
  return out
}

/** A batch of model inputs, layout [B, 6, 1, H, W] (channel-major, T = 1). */
export interface ModelBatch {
  data: Float32Array
  shape: [number, number, number, number, number]
}

/** Several reflectance tiles ([3,h,w] each) → one [B,6,1,h,w] float32 batch. */
export function buildBatch(tiles: readonly Float32Array[], h: number, w: number, recipe: BandRecipe, stats: BandStats = PRITHVI_HLS_STATS): ModelBatch {
  const perTile = MODEL_BAND_COUNT * h * w
  const data = new Float32Array(tiles.length * perTile)
  tiles.forEach((tile, b) => {
    if (tile.length !== 3 * h * w) throw new Error(`tile ${b} has ${tile.length} values, expected 3x${h}x${w}`)
    writeModelInput(tile, recipe, stats, data, b * perTile)
  })
  return { data, shape: [tiles.length, MODEL_BAND_COUNT, 1, h, w] }
}

function writeModelInput(refl: Float32Array, recipe: BandRecipe, stats: BandStats, out: Float32Array, offset: number): void {
  assertRecipe(recipe)
  const statErrors = validateBandStats(stats)
  if (statErrors.length > 0) throw new Error(`invalid band stats: ${statErrors.join('; ')}`)
  const plane = refl.length / 3
  const { mean, std } = stats
  // Bands 0..2 first: post-norm entries copy them.
  for (let band = 0; band < 3; band++) {
    const base = offset + band * plane
    for (let p = 0; p < plane; p++) out[base + p] = (refl[band * plane + p] - mean[band]) / std[band]
  }
  recipe.bands.forEach((entry, band) => {
    if (band < 3) return
    const base = offset + band * plane
    if (entry.stage === 'postnorm') {
      if (entry.source === 'luminance') {
        const { B, G, R } = LUMINANCE_WEIGHTS
        for (let p = 0; p < plane; p++) out[base + p] = R * out[offset + 2 * plane + p] + G * out[offset + plane + p] + B * out[offset + p]
      } else {
        const src = offset + SOURCE_BAND[entry.source] * plane
        out.copyWithin(base, src, src + plane)
      }
      return
    }
    const s = entry.statsBand ?? band
    const m = mean[s]
    const sd = std[s]
    if (entry.source === 'constant') {
      out.fill((entry.value! - m) / sd, base, base + plane)
    } else if (entry.source === 'luminance') {
      const { B, G, R } = LUMINANCE_WEIGHTS
      for (let p = 0; p < plane; p++) {
        const lum = R * refl[2 * plane + p] + G * refl[plane + p] + B * refl[p]
        out[base + p] = (lum - m) / sd
      }
    } else {
      const src = SOURCE_BAND[entry.source] * plane
      for (let p = 0; p < plane; p++) out[base + p] = (refl[src + p] - m) / sd
    }
  })
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

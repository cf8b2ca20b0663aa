// Model band definitions shared by the engine and the renderer (pure TypeScript, no platform APIs).

/** Per-band normalisation statistics in reflectance units, in the model's band order. */
export interface BandStats {
  bands: string[]
  mean: number[]
  std: number[]
}

/** Number of input bands Prithvi-100M expects (HLS B02, B03, B04, B05, B06, B07). */
export const MODEL_BAND_COUNT = 6

/** Model bands 0..2 are HLS B02, B03, B04, i.e. blue, green, red. */
export const RGB_MODEL_BANDS = [0, 1, 2] as const

/** HLS statistics from Prithvi_100M_config.yaml (bands B02, B03, B04, B05, B06, B07). */
export const PRITHVI_HLS_STATS: BandStats = {
  bands: ['B02', 'B03', 'B04', 'B05', 'B06', 'B07'],
  mean: [775.2290211032589, 1080.992780391705, 1228.5855250417867, 2497.2022620507532, 2204.2139147975554, 1610.8324823273745],
  std: [1281.526139861424, 1270.0297974547493, 1399.4802505642526, 1368.3446143747644, 1291.6764008585435, 1154.505683480695]
}

/**
 * The study's uint8 → reflectance scale for model band `band`: (mean + 2·std) / 255, so
 * that 255 maps to two standard deviations above the band mean.
 * Evaluated in exactly the study's order of operations so results match bit for bit.
 */
export function reflectanceFactor(stats: BandStats, band: number): number {
  return (stats.mean[band] + 2 * stats.std[band]) / 255
}

/** Errors in a BandStats value (empty when usable for a six-band model). */
export function validateBandStats(stats: BandStats): string[] {
  const errors: string[] = []
  const n = MODEL_BAND_COUNT
  if (stats.mean.length !== n) errors.push(`stats.mean has ${stats.mean.length} values, expected ${n}`)
  if (stats.std.length !== n) errors.push(`stats.std has ${stats.std.length} values, expected ${n}`)
  stats.mean.forEach((m, i) => {
    if (!Number.isFinite(m)) errors.push(`stats.mean[${i}] is not a finite number`)
  })
  stats.std.forEach((s, i) => {
    if (!Number.isFinite(s) || s <= 0) errors.push(`stats.std[${i}] must be a positive finite number`)
  })
  return errors
}

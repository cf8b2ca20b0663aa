// From normalised model tensors (inputs or reconstructions, [6,h,w]) back to something a
// scientist can look at: display RGB, a shared percentile stretch, visible-patch pasting
// and per-patch error maps.
import { type BandStats, PRITHVI_HLS_STATS, RGB_MODEL_BANDS, reflectanceFactor } from '../bands'
import { quantileSorted, sortedFinite } from '../stats/descriptive'
import { patchGeometry, patchMse } from '../stats/patchLoss'

/**
 * Normalised [C ≥ 3, h, w] → HWC RGB float in uint8 units (unrounded, unclamped): bands 0..2
 * de-normalised (x·std + mean), divided by the reflectance factor, B,G,R → R,G,B.
 * Exact inverse of toReflectance(truncate = false) + buildModelInput up to float32 rounding.
 */
export function modelInputToRgb(normalised: Float32Array, h: number, w: number, stats: BandStats = PRITHVI_HLS_STATS): Float32Array {
  const plane = h * w
  if (normalised.length < 3 * plane || normalised.length % plane !== 0) {
    throw new Error(`modelInputToRgb: ${normalised.length} values are not [C>=3, ${h}, ${w}]`)
  }
  const out = new Float32Array(plane * 3)
  for (const band of RGB_MODEL_BANDS) {
    const mean = stats.mean[band]
    const std = stats.std[band]
    const factor = reflectanceFactor(stats, band)
    const rgbChannel = 2 - band
    for (let p = 0; p < plane; p++) out[p * 3 + rgbChannel] = (normalised[band * plane + p] * std + mean) / factor
  }
  return out
}

/** Round half up and clamp to 0..255 (Uint8ClampedArray alone would round half to even). */
export function toBytes(values: ArrayLike<number>): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length)
  for (let i = 0; i < values.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(values[i])))
  return out
}

/** Normalised model input or reconstruction → display RGB bytes (HWC), no stretch. */
export function modelInputToDisplay(normalised: Float32Array, h: number, w: number, stats: BandStats = PRITHVI_HLS_STATS): Uint8ClampedArray {
  return toBytes(modelInputToRgb(normalised, h, w, stats))
}

/** Linear stretch limits per interleaved channel (identical values when shared). */
export interface StretchParams {
  low: number[]
  high: number[]
  lowPct: number
  highPct: number
}

export interface StretchOptions {
  /** Interleaved channels of the images (default 3). */
  channels?: number
  /** Separate limits per channel (changes colour balance); default false: one pair for all. */
  perChannel?: boolean
}

/**
 * Percentile stretch limits pooled over every panel (original, masked input, reconstruction…),
 * so that applying them with applyStretch renders all panels identically. Percentiles use
 * numpy's 'linear' interpolation; non-finite values are ignored.
 */
export function stretchParams(images: readonly ArrayLike<number>[], lowPct = 2, highPct = 98, options: StretchOptions = {}): StretchParams {
  const channels = options.channels ?? 3
  if (!(lowPct >= 0 && highPct <= 100 && lowPct < highPct)) throw new Error(`stretchParams: need 0 <= lowPct < highPct <= 100, got ${lowPct}, ${highPct}`)
  const limits = (arrays: readonly ArrayLike<number>[]): [number, number] => {
    const sorted = sortedFinite(arrays)
    if (sorted.length === 0) throw new Error('stretchParams: no finite values')
    return [quantileSorted(sorted, lowPct / 100), quantileSorted(sorted, highPct / 100)]
  }
  if (!options.perChannel) {
    const [lo, hi] = limits(images)
    return { low: Array<number>(channels).fill(lo), high: Array<number>(channels).fill(hi), lowPct, highPct }
  }
  const low: number[] = []
  const high: number[] = []
  for (let c = 0; c < channels; c++) {
    const [lo, hi] = limits(images.map((img) => strided(img, c, channels)))
    low.push(lo)
    high.push(hi)
  }
  return { low, high, lowPct, highPct }
}

/**
 * Map low → 0 and high → 255 linearly per channel, clamping outside. A degenerate range
 * (high ≤ low) becomes a threshold: values above low → 255, others → 0.
 */
export function applyStretch(image: ArrayLike<number>, params: StretchParams): Uint8ClampedArray {
  const channels = params.low.length
  const out = new Uint8ClampedArray(image.length)
  for (let i = 0; i < image.length; i++) {
    const c = i % channels
    const lo = params.low[c]
    const span = params.high[c] - lo
    const v = span > 0 ? ((image[i] - lo) / span) * 255 : image[i] > lo ? 255 : 0
    out[i] = Math.min(255, Math.max(0, Math.round(v)))
  }
  return out
}

/** HWC RGB → RGBA with constant alpha, for ImageData / canvas. */
export function rgbToRgba(rgb: ArrayLike<number>, alpha = 255): Uint8ClampedArray {
  const pixels = rgb.length / 3
  const out = new Uint8ClampedArray(pixels * 4)
  for (let p = 0; p < pixels; p++) {
    out[p * 4] = rgb[p * 3]
    out[p * 4 + 1] = rgb[p * 3 + 1]
    out[p * 4 + 2] = rgb[p * 3 + 2]
    out[p * 4 + 3] = alpha
  }
  return out
}

/**
 * The reconstruction with the original's visible patches pasted back (the usual MAE figure):
 * for every patch with mask[l] = 0 all C bands are copied from `original`. Both [C, h, w];
 * patch l = gy·(w/patch) + gx. Returns a new array.
 */
export function pasteVisiblePatches(
  original: Float32Array,
  recon: Float32Array,
  mask: ArrayLike<number>,
  patch: number,
  h: number,
  w: number
): Float32Array {
  const { gw, gh, channels, plane } = patchGeometry(original.length, patch, h, w)
  if (recon.length !== original.length) throw new Error(`pasteVisiblePatches: reconstruction has ${recon.length} values, original ${original.length}`)
  if (mask.length !== gh * gw) throw new Error(`pasteVisiblePatches: mask has ${mask.length} entries, expected ${gh * gw}`)
  const out = Float32Array.from(recon)
  for (let l = 0; l < mask.length; l++) {
    if (mask[l] !== 0) continue
    const y0 = Math.floor(l / gw) * patch
    const x0 = (l % gw) * patch
    for (let c = 0; c < channels; c++) {
      for (let y = y0; y < y0 + patch; y++) {
        const start = c * plane + y * w + x0
        out.set(original.subarray(start, start + patch), start)
      }
    }
  }
  return out
}

/** The brief's spelling of pasteVisiblePatches. */
export const pastVisiblePatches = pasteVisiblePatches

/**
 * Per-patch MSE over the RGB bands (0..2) of two [C, h, w] arrays, as a row-major
 * [h/patch, w/patch] Float32Array for heat maps. In normalised space its masked mean is the
 * study's RGB loss.
 */
export function patchErrorMap(target: Float32Array, pred: Float32Array, patch: number, h: number, w: number): Float32Array {
  return patchMse(target, pred, patch, h, w, RGB_MODEL_BANDS)
}

function strided(src: ArrayLike<number>, offset: number, step: number): Float64Array {
  const out = new Float64Array(Math.ceil((src.length - offset) / step))
  for (let i = offset, k = 0; i < src.length; i += step, k++) out[k] = src[i]
  return out
}

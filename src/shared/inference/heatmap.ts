// Sliding-window heat maps over large images (a 2000² CTX tile, a 512×7589 HiRISE strip): the
// window grid, the limits that refuse absurd requests before anything is decoded, the per-pixel
// raster of window scores, its colour map, and the CSV of window scores. Pure: the engine, the CLI
// and the renderer draw and export the same map.
import { toCsv } from '../csv/write'

/** Largest image a heat map decodes: 100 megapixels (300 MB of RGB); larger ones are refused. */
export const HEATMAP_MAX_PIXELS = 100_000_000
/** Most windows one heat map scores (a 10k² image at window 64, stride 32 is about 97,000). */
export const HEATMAP_MAX_WINDOWS = 250_000

export interface WindowPosition {
  /** Top-left pixel of the window in the image. */
  x: number
  y: number
}

/** One scored window: its rectangle in image pixels and the class's probability. */
export interface WindowScore {
  x: number
  y: number
  width: number
  height: number
  probability: number
}

/** Window starts along one axis: every `stride` px, plus one flush with the far edge if the grid falls short of it. */
function axisStarts(length: number, window: number, stride: number): number[] {
  const starts: number[] = []
  for (let s = 0; s + window <= length; s += stride) starts.push(s)
  const last = starts[starts.length - 1]!
  // The edge: a last window moved back to end exactly at the border (it overlaps its neighbour), so
  // every pixel is scored and no window reads past the image.
  if (last + window < length) starts.push(length - window)
  return starts
}

/**
 * Window positions over a width×height image, row by row. Windows are window×window, every
 * `stride` pixels; where the grid stops short of the right or bottom edge one more window is placed
 * flush with that edge, so the whole image is covered. An image smaller than the window, a stride
 * larger than the window (gaps) or too many windows is refused with the numbers.
 */
export function windowGrid(width: number, height: number, window: number, stride: number): WindowPosition[] {
  if (!(Number.isInteger(window) && window >= 1)) throw new Error(`the window must be a positive whole number of pixels (got ${window})`)
  if (!(Number.isInteger(stride) && stride >= 1)) throw new Error(`the stride must be a positive whole number of pixels (got ${stride})`)
  if (stride > window) throw new Error(`a stride of ${stride} px skips pixels between ${window} px windows: use a stride ≤ the window`)
  if (width < window || height < window) throw new Error(`the ${width}×${height} image is smaller than the ${window} px window: use a smaller window`)
  const xs = axisStarts(width, window, stride)
  const ys = axisStarts(height, window, stride)
  const count = xs.length * ys.length
  if (count > HEATMAP_MAX_WINDOWS) {
    throw new Error(`window ${window}, stride ${stride} gives ${count.toLocaleString('en-US')} windows over ${width}×${height} (at most ${HEATMAP_MAX_WINDOWS.toLocaleString('en-US')}): use a larger stride`)
  }
  return ys.flatMap((y) => xs.map((x) => ({ x, y })))
}

/** Refuses an image too large to decode for a heat map, before it is decoded (from its header). */
export function assertHeatmapImageSize(width: number, height: number, name: string): void {
  if (!(width > 0 && height > 0)) throw new Error(`${name}: the image has no pixels (${width}×${height})`)
  if (width * height > HEATMAP_MAX_PIXELS) {
    throw new Error(
      `${name} is ${width}×${height} (${((width * height) / 1e6).toFixed(0)} megapixels); a heat map decodes at most ${HEATMAP_MAX_PIXELS / 1e6} megapixels: cut the image into pieces first`
    )
  }
}

/**
 * The map at outWidth×outHeight: each output pixel holds the mean probability of the windows that
 * cover its centre (NaN where none does). Windows overlap where stride < window, so a pixel's value
 * is the average over every window that saw it.
 */
export function heatRaster(windows: readonly WindowScore[], width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const sum = new Float64Array(outWidth * outHeight)
  const count = new Uint32Array(outWidth * outHeight)
  const sx = width / outWidth
  const sy = height / outHeight
  for (const w of windows) {
    // Output pixels whose centre ((i + 0.5)·s) lies inside [x, x + width).
    const i0 = Math.max(0, Math.ceil(w.x / sx - 0.5))
    const i1 = Math.min(outWidth, Math.ceil((w.x + w.width) / sx - 0.5))
    const j0 = Math.max(0, Math.ceil(w.y / sy - 0.5))
    const j1 = Math.min(outHeight, Math.ceil((w.y + w.height) / sy - 0.5))
    for (let j = j0; j < j1; j++) {
      for (let i = i0; i < i1; i++) {
        sum[j * outWidth + i]! += w.probability
        count[j * outWidth + i]!++
      }
    }
  }
  const out = new Float32Array(outWidth * outHeight)
  for (let k = 0; k < out.length; k++) out[k] = count[k] ? sum[k]! / count[k]! : NaN
  return out
}

// A perceptually ordered ramp (dark blue → purple → orange → pale yellow, after "inferno"), so
// probability reads as brightness on a greyscale image.
const RAMP: readonly [number, number, number][] = [
  [0, 0, 4],
  [66, 10, 104],
  [147, 38, 103],
  [221, 81, 58],
  [252, 165, 10],
  [252, 255, 164]
]

/** The colour of probability p ∈ [0, 1] (clamped). */
export function heatColour(p: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, p)) * (RAMP.length - 1)
  const k = Math.min(RAMP.length - 2, Math.floor(t))
  const f = t - k
  const a = RAMP[k]!
  const b = RAMP[k + 1]!
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))]
}

/** The raster as RGBA pixels: the ramp's colour (with `alpha`) where scored, transparent where no window reached. */
export function heatRgba(raster: Float32Array, alpha = 255): Uint8ClampedArray {
  const out = new Uint8ClampedArray(raster.length * 4)
  for (let k = 0; k < raster.length; k++) {
    const v = raster[k]!
    if (Number.isNaN(v)) continue
    const [r, g, b] = heatColour(v)
    out[k * 4] = r
    out[k * 4 + 1] = g
    out[k * 4 + 2] = b
    out[k * 4 + 3] = alpha
  }
  return out
}

/** Output size for a map drawn at most `maxSide` px on its longer side (never enlarged). */
export function fitSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height))
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/** One CSV row per window: pixel coordinates of its top-left corner, its size and the probability. */
export function windowScoresCsv(windows: readonly WindowScore[]): string {
  return toCsv([['x', 'y', 'width', 'height', 'probability'], ...windows.map((w) => [w.x, w.y, w.width, w.height, w.probability])])
}

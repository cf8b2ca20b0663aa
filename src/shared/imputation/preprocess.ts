// From decoded HiRISE pixels (HWC uint8) to the study's reflectance-scaled B,G,R planes,
// plus the geometry helpers that cut a scene into model-sized pieces.
//
// Which geometry helper to use (the user picks one per run; the choice is recorded with it):
//   - tileGrid      native resolution (HiRISE ~25–50 cm/px), every pixel used once. The
//                   recommended choice for evaluation: no resampling, so reconstruction
//                   error reflects the model and not an interpolation filter. 'drop' discards
//                   partial edge tiles; 'pad' keeps them, padding with `padValue` (the tile
//                   records how much of it is real so padded pixels can be excluded).
//   - centreCrop    one tile from the middle of each image; quickest, discards context.
//   - resizeBilinear whole image squeezed to the model size; changes ground sampling
//                   distance and blurs (no anti-aliasing, like torch's
//                   F.interpolate(mode='bilinear', align_corners=False)), so strong
//                   downscaling aliases. Use it only for previews or when the whole
//                   footprint must be seen at once.
import { type BandStats, reflectanceFactor } from '../bands'

/** An interleaved (HWC) 8-bit image. */
export interface HwcImage {
  data: Uint8Array | Uint8ClampedArray
  height: number
  width: number
  channels: number
}

export interface ReflectanceOptions {
  /**
   * true: truncate toward zero, as the study did by writing the scaled values back into a
   * uint16 numpy array (`img[0,:] = img[0,:] * factor`). false: keep the exact float product.
   */
  truncate: boolean
}

/**
 * RGB uint8 (HWC) → Float32Array [3, h, w] in B, G, R order (HLS B02, B03, B04), each
 * channel multiplied by (mean_i + 2·std_i)/255 of its model band.
 */
export function toReflectance(
  rgb: ArrayLike<number>,
  h: number,
  w: number,
  stats: BandStats,
  { truncate }: ReflectanceOptions
): Float32Array {
  checkDims(h, w)
  if (rgb.length !== h * w * 3) throw new Error(`toReflectance: expected ${h * w * 3} bytes for ${h}x${w} RGB, got ${rgb.length}`)
  const plane = h * w
  const out = new Float32Array(3 * plane)
  for (let band = 0; band < 3; band++) {
    const factor = reflectanceFactor(stats, band)
    const rgbChannel = 2 - band // B is the third RGB channel
    const offset = band * plane
    for (let p = 0; p < plane; p++) {
      const value = rgb[p * 3 + rgbChannel] * factor // float64, as numpy computes it
      out[offset + p] = truncate ? Math.trunc(value) : value
    }
  }
  return out
}

/**
 * Per-tile contrast standardisation, before the study's scaling: each RGB channel is shifted and
 * stretched so that, once scaled by (mean + 2·std)/255 and normalised, its band has the model's
 * mean 0 and std 1 over the tile. HiRISE products are stretched per observation, so raw brightness
 * and contrast say more about the observation than about the landform; this removes that cue.
 * Returns float "pixel values" (may leave 0..255) for toReflectance. A flat tile (std < 1 grey
 * level) is only shifted, never amplified.
 */
export function standardizeTile(rgb: ArrayLike<number>, h: number, w: number, stats: BandStats): Float32Array {
  checkDims(h, w)
  const plane = h * w
  if (rgb.length !== plane * 3) throw new Error(`standardizeTile: expected ${plane * 3} bytes for ${h}x${w} RGB, got ${rgb.length}`)
  const out = new Float32Array(plane * 3)
  for (let c = 0; c < 3; c++) {
    const band = 2 - c
    const scale = 255 / (stats.mean[band]! + 2 * stats.std[band]!)
    const targetMean = stats.mean[band]! * scale
    const targetStd = stats.std[band]! * scale
    let sum = 0
    let sumSq = 0
    for (let p = 0; p < plane; p++) {
      const v = rgb[p * 3 + c]!
      sum += v
      sumSq += v * v
    }
    const mean = sum / plane
    const std = Math.sqrt(Math.max(0, sumSq / plane - mean * mean))
    const gain = targetStd / Math.max(std, 1)
    for (let p = 0; p < plane; p++) out[p * 3 + c] = targetMean + (rgb[p * 3 + c]! - mean) * gain
  }
  return out
}

/** Greyscale (1 channel) HWC → RGB by copying the grey value into all three channels. */
export function greyToRgb(grey: Uint8Array | Uint8ClampedArray, h: number, w: number): Uint8Array {
  return expandToRgb(grey, h, w, 1)
}

/** RGBA HWC → RGB, dropping alpha (HiRISE products carry no meaningful transparency). */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, h: number, w: number): Uint8Array {
  return expandToRgb(rgba, h, w, 4)
}

/** Any of grey (1), grey+alpha (2), RGB (3) or RGBA (4) → a 3-channel image. */
export function toRgbImage(img: HwcImage): HwcImage {
  const { height: h, width: w, channels } = img
  if (channels === 3) return img
  if (channels < 1 || channels > 4) throw new Error(`toRgbImage: unsupported channel count ${channels}`)
  return { data: expandToRgb(img.data, h, w, channels), height: h, width: w, channels: 3 }
}

/** The centred cropH × cropW window; the top-left offset is floor((H − cropH)/2), floor((W − cropW)/2). */
export function centreCrop(img: HwcImage, cropH: number, cropW: number = cropH): HwcImage {
  checkImage(img)
  checkDims(cropH, cropW)
  if (cropH > img.height || cropW > img.width) {
    throw new Error(`centreCrop: ${cropH}x${cropW} is larger than the ${img.height}x${img.width} image; use tileGrid with 'pad' or resizeBilinear`)
  }
  const y0 = Math.floor((img.height - cropH) / 2)
  const x0 = Math.floor((img.width - cropW) / 2)
  return copyWindow(img, y0, x0, cropH, cropW, 0)
}

export type TileEdges = 'drop' | 'pad'

export interface Tile {
  image: HwcImage
  /** Grid position (row-major). */
  row: number
  col: number
  /** Top-left pixel of the tile in the source image. */
  y: number
  x: number
  /** Rows/columns of real image data; smaller than the tile size only for padded edge tiles. */
  validHeight: number
  validWidth: number
}

export interface TileGrid {
  tiles: Tile[]
  rows: number
  cols: number
  tileSize: number
}

/**
 * Non-overlapping tileSize × tileSize tiles in row-major order. Partial tiles at the right
 * and bottom edges are dropped ('drop') or kept and filled with `padValue` ('pad').
 */
export function tileGrid(img: HwcImage, tileSize: number, edges: TileEdges, padValue = 0): TileGrid {
  checkImage(img)
  checkDims(tileSize, tileSize)
  const round = edges === 'pad' ? Math.ceil : Math.floor
  const rows = round(img.height / tileSize)
  const cols = round(img.width / tileSize)
  const tiles: Tile[] = []
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const y = row * tileSize
      const x = col * tileSize
      tiles.push({
        image: copyWindow(img, y, x, tileSize, tileSize, padValue),
        row,
        col,
        y,
        x,
        validHeight: Math.min(tileSize, img.height - y),
        validWidth: Math.min(tileSize, img.width - x)
      })
    }
  }
  return { tiles, rows, cols, tileSize }
}

/**
 * Bilinear resize with half-pixel centres (align_corners = false) and edge clamping, no
 * anti-aliasing: the same sampling as torch's F.interpolate(mode='bilinear',
 * align_corners=False). Results are rounded to the nearest integer (halves up).
 */
export function resizeBilinear(img: HwcImage, outH: number, outW: number): HwcImage {
  checkImage(img)
  checkDims(outH, outW)
  const { height: inH, width: inW, channels: c, data } = img
  const rowTaps = bilinearTaps(inH, outH)
  const colTaps = bilinearTaps(inW, outW)
  const out = new Uint8Array(outH * outW * c)
  for (let oy = 0; oy < outH; oy++) {
    const y0 = rowTaps.lo[oy], y1 = rowTaps.hi[oy], fy = rowTaps.frac[oy]
    for (let ox = 0; ox < outW; ox++) {
      const x0 = colTaps.lo[ox], x1 = colTaps.hi[ox], fx = colTaps.frac[ox]
      for (let ch = 0; ch < c; ch++) {
        const top = data[(y0 * inW + x0) * c + ch] * (1 - fx) + data[(y0 * inW + x1) * c + ch] * fx
        const bottom = data[(y1 * inW + x0) * c + ch] * (1 - fx) + data[(y1 * inW + x1) * c + ch] * fx
        const v = top * (1 - fy) + bottom * fy
        out[(oy * outW + ox) * c + ch] = Math.min(255, Math.max(0, Math.round(v)))
      }
    }
  }
  return { data: out, height: outH, width: outW, channels: c }
}

/** Source indices and weights along one axis, half-pixel convention. */
function bilinearTaps(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; frac: Float64Array } {
  const lo = new Int32Array(outSize)
  const hi = new Int32Array(outSize)
  const frac = new Float64Array(outSize)
  const scale = inSize / outSize
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5) // clamped at the leading edge, as torch does
    const i0 = Math.min(Math.floor(src), inSize - 1)
    lo[o] = i0
    hi[o] = Math.min(i0 + 1, inSize - 1)
    frac[o] = src - i0
  }
  return { lo, hi, frac }
}

function copyWindow(img: HwcImage, y0: number, x0: number, h: number, w: number, padValue: number): HwcImage {
  const c = img.channels
  const out = new Uint8Array(h * w * c)
  if (padValue !== 0) out.fill(padValue)
  const rows = Math.min(h, img.height - y0)
  const cols = Math.min(w, img.width - x0)
  for (let r = 0; r < rows; r++) {
    const src = ((y0 + r) * img.width + x0) * c
    out.set(img.data.subarray(src, src + cols * c), r * w * c)
  }
  return { data: out, height: h, width: w, channels: c }
}

function expandToRgb(src: Uint8Array | Uint8ClampedArray, h: number, w: number, channels: number): Uint8Array {
  checkDims(h, w)
  const plane = h * w
  if (src.length !== plane * channels) throw new Error(`expected ${plane * channels} bytes for ${h}x${w}x${channels}, got ${src.length}`)
  const out = new Uint8Array(plane * 3)
  const greyLike = channels < 3
  for (let p = 0; p < plane; p++) {
    const s = p * channels
    out[p * 3] = src[s]
    out[p * 3 + 1] = greyLike ? src[s] : src[s + 1]
    out[p * 3 + 2] = greyLike ? src[s] : src[s + 2]
  }
  return out
}

function checkImage(img: HwcImage): void {
  checkDims(img.height, img.width)
  if (img.data.length !== img.height * img.width * img.channels) {
    throw new Error(`image data has ${img.data.length} bytes, expected ${img.height}x${img.width}x${img.channels}`)
  }
}

function checkDims(h: number, w: number): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) throw new Error(`invalid size ${h}x${w}`)
}

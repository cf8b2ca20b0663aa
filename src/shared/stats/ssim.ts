// Structural similarity (SSIM) of Wang, Bovik, Sheikh & Simoncelli (IEEE TIP 2004).
//
// The standard parameterisation: an 11 × 11 Gaussian window with σ = 1.5 (normalised to sum
// 1), K1 = 0.01, K2 = 0.03, C1 = (K1·L)², C2 = (K2·L)² with L the data range (255 for uint8).
// Local means, variances and covariance are window-weighted population moments; the map is
// computed only where the window fits inside the image ('valid', (h−10) × (w−10) values),
// which equals the authors' MATLAB ssim_index.m and scikit-image's
// structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False) after
// its border crop. No automatic downsampling. Multi-channel input: SSIM per channel,
// then the mean over channels (scikit-image's channel_axis behaviour).

export interface SsimOptions {
  /** Interleaved channels (1 = greyscale, 3 = RGB). Default 1. */
  channels?: number
  /** Dynamic range L of the data. Default 255. */
  dataRange?: number
}

export const SSIM_WINDOW = 11
export const SSIM_SIGMA = 1.5
export const SSIM_K1 = 0.01
export const SSIM_K2 = 0.03

/** Mean SSIM of two HWC images of size h × w (both at least 11 × 11). */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, options: SsimOptions = {}): number {
  const channels = options.channels ?? 1
  const range = options.dataRange ?? 255
  if (a.length !== h * w * channels || b.length !== a.length) {
    throw new Error(`ssim: expected two arrays of ${h}x${w}x${channels} values, got ${a.length} and ${b.length}`)
  }
  if (h < SSIM_WINDOW || w < SSIM_WINDOW) throw new Error(`ssim: image ${h}x${w} is smaller than the ${SSIM_WINDOW}x${SSIM_WINDOW} window`)
  let total = 0
  for (let c = 0; c < channels; c++) total += ssimPlane(channelPlane(a, h * w, channels, c), channelPlane(b, h * w, channels, c), h, w, range)
  return total / channels
}

/** The per-pixel SSIM map of one plane, 'valid' region, (h − 10) × (w − 10), row-major. */
export function ssimMap(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, dataRange = 255): Float64Array {
  const x = Float64Array.from(a)
  const y = Float64Array.from(b)
  const c1 = (SSIM_K1 * dataRange) ** 2
  const c2 = (SSIM_K2 * dataRange) ** 2
  const xx = new Float64Array(x.length)
  const yy = new Float64Array(x.length)
  const xy = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) {
    xx[i] = x[i] * x[i]
    yy[i] = y[i] * y[i]
    xy[i] = x[i] * y[i]
  }
  const [muX, muY, eXX, eYY, eXY] = [x, y, xx, yy, xy].map((p) => gaussianValid(p, h, w))
  const out = new Float64Array(muX.length)
  for (let i = 0; i < out.length; i++) {
    const mx = muX[i], my = muY[i]
    const vx = eXX[i] - mx * mx
    const vy = eYY[i] - my * my
    const cov = eXY[i] - mx * my
    out[i] = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
  }
  return out
}

/** The normalised 1-D Gaussian taps (the 2-D window is their outer product). */
export function gaussianWindow(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const taps = new Float64Array(size)
  const centre = (size - 1) / 2
  let sum = 0
  for (let i = 0; i < size; i++) {
    taps[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma))
    sum += taps[i]
  }
  for (let i = 0; i < size; i++) taps[i] /= sum
  return taps
}

function ssimPlane(a: Float64Array, b: Float64Array, h: number, w: number, range: number): number {
  const map = ssimMap(a, b, h, w, range)
  let sum = 0
  for (let i = 0; i < map.length; i++) sum += map[i]
  return sum / map.length
}

/** Separable 'valid' correlation with the Gaussian window (symmetric, so also convolution). */
function gaussianValid(plane: Float64Array, h: number, w: number): Float64Array {
  const taps = gaussianWindow()
  const k = taps.length
  const ow = w - k + 1
  const oh = h - k + 1
  const rows = new Float64Array(h * ow)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0
      for (let t = 0; t < k; t++) s += taps[t] * plane[y * w + x + t]
      rows[y * ow + x] = s
    }
  }
  const out = new Float64Array(oh * ow)
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0
      for (let t = 0; t < k; t++) s += taps[t] * rows[(y + t) * ow + x]
      out[y * ow + x] = s
    }
  }
  return out
}

function channelPlane(src: ArrayLike<number>, plane: number, channels: number, c: number): Float64Array {
  const out = new Float64Array(plane)
  for (let p = 0; p < plane; p++) out[p] = src[p * channels + c]
  return out
}

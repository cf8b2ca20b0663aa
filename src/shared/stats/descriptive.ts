// Descriptive statistics and image-difference measures over plain numeric arrays.

/** Mean squared difference of two equal-length arrays (float64 accumulation). */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`mse: length mismatch ${a.length} vs ${b.length}`)
  if (a.length === 0) throw new Error('mse: empty input')
  let sum = 0
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i]
    sum += d * d
  }
  return sum / a.length
}

/** Peak signal-to-noise ratio in dB, 10·log10(peak²/MSE); Infinity for identical inputs. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, peak = 255): number {
  const e = mse(a, b)
  return e === 0 ? Infinity : 10 * Math.log10((peak * peak) / e)
}

export interface MeanStd {
  mean: number
  /** Standard deviation with divisor n − ddof (NaN when n ≤ ddof). */
  std: number
  n: number
}

/** Mean and standard deviation; ddof = 1 (sample SD) by default, 0 for the population SD. */
export function meanStd(values: ArrayLike<number>, { ddof = 1 }: { ddof?: number } = {}): MeanStd {
  const n = values.length
  if (n === 0) return { mean: NaN, std: NaN, n }
  let sum = 0
  for (let i = 0; i < n; i++) sum += values[i]
  const mean = sum / n
  let ss = 0 // two-pass: numerically stable for the small spreads of per-tile losses
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2
  return { mean, std: n > ddof ? Math.sqrt(ss / (n - ddof)) : NaN, n }
}

/** Arithmetic mean (NaN for an empty array). */
export function mean(values: ArrayLike<number>): number {
  return meanStd(values, { ddof: 0 }).mean
}

/**
 * Quantile of already ascending-sorted values, p in [0, 1], linear interpolation between
 * order statistics (numpy's default 'linear' method: position p·(n − 1)).
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) throw new Error('quantile of an empty array')
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile p must be in [0, 1], got ${p}`)
  const pos = p * (n - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, n - 1)
  const frac = pos - lo
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/** Percentile (pct in [0, 100]) of unsorted values, numpy 'linear' method; NaN and ±Infinity are ignored. */
export function percentile(values: ArrayLike<number>, pct: number): number {
  return quantileSorted(sortedFinite([values]), pct / 100)
}

/** All finite values of several arrays, pooled and sorted ascending. */
export function sortedFinite(arrays: readonly ArrayLike<number>[]): Float64Array {
  let total = 0
  for (const a of arrays) total += a.length
  const pooled = new Float64Array(total)
  let k = 0
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) pooled[k++] = a[i]
  }
  return pooled.subarray(0, k).sort()
}

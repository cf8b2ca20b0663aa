// Wilcoxon signed-rank test for paired samples (two-sided), e.g. per-tile losses of two recipes.
//
// Conventions (the same as scipy.stats.wilcoxon with zero_method='wilcox'):
//   - differences d = x − y; zero differences are dropped ("Wilcox" method), n = non-zero count;
//   - |d| ranked 1..n, tied magnitudes share their average rank (exact float equality);
//   - statistic W = min(W+, W−), the smaller signed-rank sum;
//   - p-value: exact null distribution of W+ (all 2^n sign patterns equally likely, counted by
//     dynamic programming) when n ≤ 25 and there are no ties, as 2·P(W+ ≤ W) capped at 1;
//     otherwise the normal approximation with mean n(n+1)/4, variance
//     n(n+1)(2n+1)/24 − Σ(t³ − t)/48 over tie groups of size t, and a continuity correction
//     of 0.5 toward the mean.
// `z` is always the (corrected) normal-approximation statistic of W+, signed: positive when
// x tends to exceed y.
import { normalTwoSidedP } from './normal'

export const WILCOXON_EXACT_MAX_N = 25

export interface WilcoxonResult {
  /** min(W+, W−). */
  statistic: number
  wPlus: number
  wMinus: number
  z: number
  pValue: number
  /** Pairs left after dropping zero differences. */
  n: number
  zerosDropped: number
  hasTies: boolean
  method: 'exact' | 'normal' | 'none'
}

export function wilcoxonSignedRank(x: ArrayLike<number>, y: ArrayLike<number>): WilcoxonResult {
  if (x.length !== y.length) throw new Error(`wilcoxonSignedRank: length mismatch ${x.length} vs ${y.length}`)
  const diffs: number[] = []
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - y[i]
    if (Number.isNaN(d)) throw new Error(`wilcoxonSignedRank: NaN difference at index ${i}`)
    if (d !== 0) diffs.push(d)
  }
  const n = diffs.length
  const zerosDropped = x.length - n
  if (n === 0) return { statistic: 0, wPlus: 0, wMinus: 0, z: 0, pValue: 1, n, zerosDropped, hasTies: false, method: 'none' }

  const { ranks, tieSizes } = averageRanks(diffs.map(Math.abs))
  let wPlus = 0
  for (let i = 0; i < n; i++) if (diffs[i] > 0) wPlus += ranks[i]
  const total = (n * (n + 1)) / 2
  const wMinus = total - wPlus
  const statistic = Math.min(wPlus, wMinus)
  const hasTies = tieSizes.length > 0

  const meanW = total / 2
  let variance = (n * (n + 1) * (2 * n + 1)) / 24
  for (const t of tieSizes) variance -= (t * t * t - t) / 48
  const dev = wPlus - meanW
  const corrected = Math.sign(dev) * Math.max(0, Math.abs(dev) - 0.5)
  const z = variance > 0 ? corrected / Math.sqrt(variance) : 0

  if (n <= WILCOXON_EXACT_MAX_N && !hasTies) {
    const pValue = Math.min(1, 2 * exactLowerTail(n, statistic))
    return { statistic, wPlus, wMinus, z, pValue, n, zerosDropped, hasTies, method: 'exact' }
  }
  return { statistic, wPlus, wMinus, z, pValue: normalTwoSidedP(z), n, zerosDropped, hasTies, method: 'normal' }
}

/** P(W+ ≤ w) under H0 for n untied ranks: sign-pattern counts by subset-sum DP over 1..n. */
export function exactLowerTail(n: number, w: number): number {
  const maxSum = (n * (n + 1)) / 2
  const counts = new Float64Array(maxSum + 1) // ≤ 2^25 per cell, exact in float64
  counts[0] = 1
  for (let r = 1; r <= n; r++) {
    for (let s = maxSum; s >= r; s--) counts[s] += counts[s - r]
  }
  let below = 0
  for (let s = 0; s <= Math.min(maxSum, Math.floor(w)); s++) below += counts[s]
  return below / 2 ** n
}

/** 1-based average ranks of the values, and the sizes of tie groups (> 1). */
function averageRanks(values: number[]): { ranks: Float64Array; tieSizes: number[] } {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b])
  const ranks = new Float64Array(values.length)
  const tieSizes: number[] = []
  let i = 0
  while (i < order.length) {
    let j = i
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++
    const rank = (i + j + 2) / 2 // average of 1-based ranks i+1 .. j+1
    for (let k = i; k <= j; k++) ranks[order[k]] = rank
    if (j > i) tieSizes.push(j - i + 1)
    i = j + 1
  }
  return { ranks, tieSizes }
}

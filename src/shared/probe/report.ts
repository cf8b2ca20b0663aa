// Scores of out-of-fold probabilities, with intervals from a bootstrap over observations (not
// tiles: tiles of one observation are correlated, and resampling them alone would make the
// intervals too narrow), and the paired comparison of two backbones scored on the same tiles.
import { metricsFromConfusion } from '../inference/threshold'
import { rocAuc } from '../stats/roc'
import { quantileSorted } from '../stats/descriptive'
import { seededRandom } from '../random'
import type { InferenceMetrics } from '../ipc/schemas/inference'

export interface Interval {
  lower: number
  upper: number
}

export interface ProbeScores {
  metrics: InferenceMetrics
  /** 95 % percentile intervals over observation resamples (AUC: binary only). */
  intervals: { accuracy: Interval; balancedAccuracy: Interval; auc?: Interval }
  observations: number
  iterations: number
}

export interface BootstrapSettings {
  iterations?: number
  seed?: number
  alpha?: number
}

/** Predicted class per row: the most probable; a tie goes to the positive class (as predictAt at 0.5). */
export function predictions(probabilities: Float64Array, classes: number, positiveIndex: number): Int32Array {
  const n = probabilities.length / classes
  return Int32Array.from({ length: n }, (_, i) => {
    let best = positiveIndex
    for (let c = 0; c < classes; c++) if (probabilities[i * classes + c]! > probabilities[i * classes + best]!) best = c
    return best
  })
}

interface Stats {
  accuracy: number
  balancedAccuracy: number
  auc: number
}

// The three headline numbers over the rows `rows` (indices may repeat).
function statsOf(rows: ArrayLike<number>, pred: Int32Array, labels: ArrayLike<number>, scores: Float64Array | null, classes: number, positiveIndex: number): Stats {
  const support = new Array<number>(classes).fill(0)
  const hit = new Array<number>(classes).fill(0)
  let right = 0
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!
    const y = labels[i]!
    support[y]!++
    if (pred[i] === y) {
      hit[y]!++
      right++
    }
  }
  let recallSum = 0
  let present = 0
  for (let c = 0; c < classes; c++) {
    if (!support[c]) continue
    recallSum += hit[c]! / support[c]!
    present++
  }
  let auc = NaN
  if (scores) {
    const s = Float64Array.from(rows, (i) => scores[i]!)
    const l = Int32Array.from(rows, (i) => labels[i]!)
    auc = rocAuc(s, l, positiveIndex)
  }
  return { accuracy: right / rows.length, balancedAccuracy: recallSum / Math.max(1, present), auc }
}

function rowsByGroup(groups: readonly string[]): number[][] {
  const map = new Map<string, number[]>()
  groups.forEach((g, i) => {
    const list = map.get(g)
    if (list) list.push(i)
    else map.set(g, [i])
  })
  return [...map.keys()].sort().map((g) => map.get(g)!)
}

/** Draws `iterations` resamples of whole groups (with replacement) and hands each one's rows to `visit`. */
function resampleGroups(byGroup: number[][], iterations: number, seed: number, visit: (rows: number[]) => void): void {
  const rng = seededRandom(seed)
  const G = byGroup.length
  for (let it = 0; it < iterations; it++) {
    const rows: number[] = []
    for (let g = 0; g < G; g++) for (const i of byGroup[Math.floor(rng() * G)]!) rows.push(i)
    visit(rows)
  }
}

function interval(values: number[], alpha: number): Interval {
  const finite = Float64Array.from(values.filter(Number.isFinite)).sort()
  if (!finite.length) return { lower: NaN, upper: NaN }
  return { lower: quantileSorted(finite, alpha / 2), upper: quantileSorted(finite, 1 - alpha / 2) }
}

export function probeScores(
  probabilities: Float64Array,
  labels: ArrayLike<number>,
  groups: readonly string[],
  classes: number,
  positiveIndex = 1,
  settings: BootstrapSettings = {}
): ProbeScores {
  const { iterations = 1000, seed = 0, alpha = 0.05 } = settings
  const n = labels.length
  if (probabilities.length !== n * classes) throw new Error(`probeScores: ${probabilities.length / classes} rows of probabilities for ${n} labels`)
  const pred = predictions(probabilities, classes, positiveIndex)
  const cm = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  for (let i = 0; i < n; i++) cm[labels[i]!]![pred[i]!]!++
  const metrics = metricsFromConfusion(cm, positiveIndex)
  if (!metrics) throw new Error('probeScores: no labelled tiles')
  const binary = classes === 2
  const scores = binary ? Float64Array.from({ length: n }, (_, i) => probabilities[i * classes + positiveIndex]!) : null
  if (scores) {
    const auc = rocAuc(scores, labels, positiveIndex)
    if (Number.isFinite(auc)) metrics.auc = auc
  }
  const acc: number[] = []
  const bal: number[] = []
  const auc: number[] = []
  const byGroup = rowsByGroup(groups)
  resampleGroups(byGroup, iterations, seed, (rows) => {
    const s = statsOf(rows, pred, labels, scores, classes, positiveIndex)
    acc.push(s.accuracy)
    bal.push(s.balancedAccuracy)
    auc.push(s.auc)
  })
  return {
    metrics,
    intervals: { accuracy: interval(acc, alpha), balancedAccuracy: interval(bal, alpha), ...(binary && metrics.auc !== undefined ? { auc: interval(auc, alpha) } : {}) },
    observations: byGroup.length,
    iterations
  }
}

export interface PairedDifference {
  /** A minus B on all tiles. */
  difference: number
  interval: Interval
  /** Two-sided bootstrap p-value of "no difference" (resampling observations). */
  p: number
}

export interface ProbeComparison {
  balancedAccuracy: PairedDifference
  auc?: PairedDifference
  /** Exact McNemar test on tiles one probe got right and the other wrong (treats tiles as independent). */
  mcnemar: { onlyA: number; onlyB: number; p: number }
}

/** Backbone A against backbone B, both probed on the same tiles with the same folds. */
export function compareProbes(
  a: Float64Array,
  b: Float64Array,
  labels: ArrayLike<number>,
  groups: readonly string[],
  classes: number,
  positiveIndex = 1,
  settings: BootstrapSettings = {}
): ProbeComparison {
  const { iterations = 1000, seed = 0, alpha = 0.05 } = settings
  const n = labels.length
  if (a.length !== n * classes || b.length !== n * classes) throw new Error('compareProbes: both probes must score the same tiles')
  const predA = predictions(a, classes, positiveIndex)
  const predB = predictions(b, classes, positiveIndex)
  const binary = classes === 2
  const scoreA = binary ? Float64Array.from({ length: n }, (_, i) => a[i * classes + positiveIndex]!) : null
  const scoreB = binary ? Float64Array.from({ length: n }, (_, i) => b[i * classes + positiveIndex]!) : null
  const all = Array.from({ length: n }, (_, i) => i)
  const sa = statsOf(all, predA, labels, scoreA, classes, positiveIndex)
  const sb = statsOf(all, predB, labels, scoreB, classes, positiveIndex)
  const dBal: number[] = []
  const dAuc: number[] = []
  resampleGroups(rowsByGroup(groups), iterations, seed, (rows) => {
    const ra = statsOf(rows, predA, labels, scoreA, classes, positiveIndex)
    const rb = statsOf(rows, predB, labels, scoreB, classes, positiveIndex)
    dBal.push(ra.balancedAccuracy - rb.balancedAccuracy)
    dAuc.push(ra.auc - rb.auc)
  })
  let onlyA = 0
  let onlyB = 0
  for (let i = 0; i < n; i++) {
    const ra = predA[i] === labels[i]
    const rb = predB[i] === labels[i]
    if (ra && !rb) onlyA++
    else if (rb && !ra) onlyB++
  }
  const paired = (estimate: number, diffs: number[]): PairedDifference => {
    const finite = diffs.filter(Number.isFinite)
    const below = finite.filter((d) => d <= 0).length
    const above = finite.filter((d) => d >= 0).length
    const p = finite.length ? Math.min(1, (2 * (Math.min(below, above) + 1)) / (finite.length + 1)) : NaN
    return { difference: estimate, interval: interval(diffs, alpha), p }
  }
  const out: ProbeComparison = {
    balancedAccuracy: paired(sa.balancedAccuracy - sb.balancedAccuracy, dBal),
    mcnemar: { onlyA, onlyB, p: mcnemarExact(onlyA, onlyB) }
  }
  if (binary && Number.isFinite(sa.auc) && Number.isFinite(sb.auc)) out.auc = paired(sa.auc - sb.auc, dAuc)
  return out
}

/** Two-sided exact McNemar p-value: 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped at 1. */
export function mcnemarExact(b: number, c: number): number {
  const m = b + c
  if (m === 0) return 1
  const low = Math.min(b, c)
  // log C(m, i) − m·log 2, summed in log space so large counts do not overflow.
  let logTerm = -m * Math.LN2 // i = 0
  let tail = Math.exp(logTerm)
  for (let i = 1; i <= low; i++) {
    logTerm += Math.log(m - i + 1) - Math.log(i)
    tail += Math.exp(logTerm)
  }
  return Math.min(1, 2 * tail)
}

// Classifier results at a chosen decision threshold, recomputed from stored probabilities (the
// renderer's slider and the engine's summary use the same code): predicted class, confusion matrix,
// accuracy and precision / recall / F1 per class, and histograms of one class's probability.
import type { ClassScores, InferenceMetrics } from '../ipc/schemas/inference'
import { rocAuc } from '../stats/roc'

/** What these functions need of a prediction. */
export interface ScoredRow {
  probabilities: readonly number[]
  label: number | null
}

/**
 * Predicted class of a row. Binary (two probabilities): the positive class (index 1) when its
 * probability is ≥ threshold. More classes: argmax (the threshold does not apply).
 */
export function predictAt(probabilities: readonly number[], threshold = 0.5): number {
  if (probabilities.length === 2) return probabilities[1]! >= threshold ? 1 : 0
  let best = 0
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i
  return best
}

/** Confusion matrix over the labelled rows; rows: true class, columns: predicted class. */
export function confusionAt(rows: readonly ScoredRow[], numClasses: number, threshold = 0.5): number[][] {
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0))
  for (const r of rows) {
    if (r.label === null || r.label < 0 || r.label >= numClasses) continue
    cm[r.label]![predictAt(r.probabilities, threshold)]! += 1
  }
  return cm
}

/** Precision, recall and F1 of class c (0 where undefined, as scikit-learn's zero_division=0). */
export function classScores(cm: readonly (readonly number[])[], c: number): ClassScores {
  const tp = cm[c]![c]!
  let predicted = 0
  let support = 0
  for (let i = 0; i < cm.length; i++) {
    predicted += cm[i]![c]!
    support += cm[c]![i]!
  }
  const precision = predicted ? tp / predicted : 0
  const recall = support ? tp / support : 0
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0
  return { precision, recall, f1, support }
}

/**
 * Metrics of a confusion matrix; binary: the scores of the positive class `positiveIndex` (a binary
 * run's class 1, where training puts it), else macro averages; balanced accuracy always (mean recall
 * over the classes present). Null when it is empty.
 */
export function metricsFromConfusion(cm: number[][], positiveIndex = 1): InferenceMetrics | null {
  const k = cm.length
  let total = 0
  let right = 0
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) total += cm[t]![p]!
    right += cm[t]![t]!
  }
  if (!total) return null
  const perClass = Array.from({ length: k }, (_, c) => classScores(cm, c))
  const avg = (key: 'precision' | 'recall' | 'f1') => perClass.reduce((s, x) => s + x[key], 0) / k
  const headline = k === 2 ? perClass[positiveIndex]! : { precision: avg('precision'), recall: avg('recall'), f1: avg('f1') }
  const present = perClass.filter((c) => c.support > 0)
  const balancedAccuracy = present.reduce((s, c) => s + c.recall, 0) / Math.max(1, present.length)
  return { labelled: total, accuracy: right / total, balancedAccuracy, confusion: cm, perClass, precision: headline.precision, recall: headline.recall, f1: headline.f1 }
}

/** ROC AUC of a binary run's positive class (index 1) over the labelled rows; null without both classes. */
export function aucOf(rows: readonly ScoredRow[]): number | null {
  const labelled = rows.filter((r) => r.label === 0 || r.label === 1)
  const auc = rocAuc(
    labelled.map((r) => r.probabilities[1] ?? NaN),
    labelled.map((r) => r.label!)
  )
  return Number.isFinite(auc) ? auc : null
}

/**
 * The threshold on the positive class's probability that maximises balanced accuracy (mean of the
 * positive and negative recalls) over images with their truth (`positive[i]` 1 or 0). Thresholds
 * sit midway between neighbouring distinct probabilities; of equally good ones, the one nearest
 * 0.5. Without both classes: 0.5 and NaN.
 */
export function balancedAccuracyThreshold(probabilities: readonly number[], positive: readonly number[]): { value: number; balancedAccuracy: number } {
  const n = probabilities.length
  let pos = 0
  for (let i = 0; i < n; i++) if (positive[i]) pos++
  const neg = n - pos
  if (!pos || !neg) return { value: 0.5, balancedAccuracy: NaN }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[a]! - probabilities[b]!)
  // Threshold below everything: all predicted positive (TPR 1, TNR 0).
  let best = { value: 0, balancedAccuracy: 0.5 }
  let negBelow = 0
  let posBelow = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j < n && probabilities[order[j]!] === probabilities[order[i]!]) {
      if (positive[order[j]!]) posBelow++
      else negBelow++
      j++
    }
    const hi = j < n ? probabilities[order[j]!]! : 1
    const value = j < n ? (probabilities[order[i]!]! + hi) / 2 : Math.min(1, probabilities[order[i]!]! + 1e-6)
    const ba = ((pos - posBelow) / pos + negBelow / neg) / 2
    const better = ba > best.balancedAccuracy + 1e-12 || (Math.abs(ba - best.balancedAccuracy) <= 1e-12 && Math.abs(value - 0.5) < Math.abs(best.value - 0.5))
    if (better) best = { value, balancedAccuracy: ba }
    i = j
  }
  return best
}

/** Everything the summary shows at one threshold. */
export function metricsAt(rows: readonly ScoredRow[], numClasses: number, threshold = 0.5): InferenceMetrics | null {
  const m = metricsFromConfusion(confusionAt(rows, numClasses, threshold))
  if (!m || numClasses !== 2) return m
  const auc = aucOf(rows)
  return auc === null ? m : { ...m, auc }
}

/** Counts of values in `bins` equal bins over [0, 1] (1 falls in the last bin). */
export function histogram(values: readonly number[], bins = 20): number[] {
  const out = new Array<number>(bins).fill(0)
  for (const v of values) {
    if (!Number.isFinite(v)) continue
    out[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]! += 1
  }
  return out
}

/** Histogram of class `scoreClass`'s probability for each true class (plus unlabelled rows, if any). */
export function histogramByTrueClass(rows: readonly ScoredRow[], numClasses: number, scoreClass: number, bins = 20): { label: number | null; counts: number[] }[] {
  const groups = new Map<number | null, number[]>()
  for (const r of rows) {
    const key = r.label !== null && r.label >= 0 && r.label < numClasses ? r.label : null
    const list = groups.get(key) ?? []
    list.push(r.probabilities[scoreClass] ?? NaN)
    groups.set(key, list)
  }
  const order = [...Array.from({ length: numClasses }, (_, i) => i), null] as (number | null)[]
  return order.filter((k) => groups.has(k)).map((label) => ({ label, counts: histogram(groups.get(label)!, bins) }))
}

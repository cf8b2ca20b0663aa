// Classifier results at a chosen decision threshold, recomputed from stored probabilities (the
// renderer's slider and the engine's summary use the same code): predicted class, confusion matrix,
// accuracy and precision / recall / F1 per class, and histograms of one class's probability.
import type { ClassScores, InferenceMetrics } from '../ipc/schemas/inference'

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

/** Metrics of a confusion matrix; binary: the positive class (1), else macro averages. Null when it is empty. */
export function metricsFromConfusion(cm: number[][]): InferenceMetrics | null {
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
  const headline = k === 2 ? perClass[1]! : { precision: avg('precision'), recall: avg('recall'), f1: avg('f1') }
  return { labelled: total, accuracy: right / total, confusion: cm, perClass, precision: headline.precision, recall: headline.recall, f1: headline.f1 }
}

/** Everything the summary shows at one threshold. */
export function metricsAt(rows: readonly ScoredRow[], numClasses: number, threshold = 0.5): InferenceMetrics | null {
  return metricsFromConfusion(confusionAt(rows, numClasses, threshold))
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

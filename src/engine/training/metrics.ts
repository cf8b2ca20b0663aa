// Evaluation metrics from a confusion matrix (rows: true class, columns: predicted class):
// accuracy, balanced accuracy, precision / recall / F1 of the positive class (binary) or macro-averaged, and the
// segmentation scores (per-class IoU, mIoU, pixel accuracy).

export class ConfusionMatrix {
  readonly counts: number[][]

  constructor(readonly numClasses: number) {
    this.counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0))
  }

  add(truth: number, pred: number, n = 1): void {
    this.counts[truth]![pred]! += n
  }

  /** Adds many (truth, pred) pairs at once. */
  addAll(truth: ArrayLike<number>, pred: ArrayLike<number>): void {
    const k = this.numClasses
    const flat = new Float64Array(k * k)
    for (let i = 0; i < truth.length; i++) flat[truth[i]! * k + pred[i]!]! += 1
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) this.counts[t]![p]! += flat[t * k + p]!
  }

  total(): number {
    return this.counts.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0)
  }

  accuracy(): number {
    const total = this.total()
    let right = 0
    for (let i = 0; i < this.numClasses; i++) right += this.counts[i]![i]!
    return total ? right / total : 0
  }

  /** Mean of the per-class recalls over the classes present in the truth (sklearn's balanced_accuracy_score). */
  balancedAccuracy(): number {
    const recalls: number[] = []
    for (let c = 0; c < this.numClasses; c++) {
      const actual = this.counts[c]!.reduce((a, b) => a + b, 0)
      if (actual) recalls.push(this.counts[c]![c]! / actual)
    }
    return recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0
  }

  /** Precision, recall and F1 of class c (0 where undefined, as sklearn's zero_division=0). */
  classScores(c: number): { precision: number; recall: number; f1: number } {
    const tp = this.counts[c]![c]!
    let predicted = 0
    let actual = 0
    for (let i = 0; i < this.numClasses; i++) {
      predicted += this.counts[i]![c]!
      actual += this.counts[c]![i]!
    }
    const precision = predicted ? tp / predicted : 0
    const recall = actual ? tp / actual : 0
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0
    return { precision, recall, f1 }
  }

  /**
   * Binary: scores of the positive class, named by its index (never "class 1" by folder order);
   * more classes: macro average.
   */
  summary(positiveIndex?: number): { accuracy: number; precision: number; recall: number; f1: number } {
    if (this.numClasses === 2) {
      if (positiveIndex !== 0 && positiveIndex !== 1) throw new Error('a binary confusion matrix needs the index of its positive class')
      return { accuracy: this.accuracy(), ...this.classScores(positiveIndex) }
    }
    const all = Array.from({ length: this.numClasses }, (_, c) => this.classScores(c))
    const avg = (k: 'precision' | 'recall' | 'f1') => all.reduce((s, x) => s + x[k], 0) / all.length
    return { accuracy: this.accuracy(), precision: avg('precision'), recall: avg('recall'), f1: avg('f1') }
  }

  /** IoU per class: TP / (TP + FP + FN); NaN for a class absent from both truth and prediction. */
  iou(): number[] {
    return Array.from({ length: this.numClasses }, (_, c) => {
      const tp = this.counts[c]![c]!
      let fp = 0
      let fn = 0
      for (let i = 0; i < this.numClasses; i++) {
        if (i === c) continue
        fp += this.counts[i]![c]!
        fn += this.counts[c]![i]!
      }
      const union = tp + fp + fn
      return union ? tp / union : NaN
    })
  }

  /** Mean IoU over classes present (NaN ones skipped, as mmseg's nanmean). */
  meanIou(): number {
    const present = this.iou().filter((v) => !Number.isNaN(v))
    return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0
  }
}

// The ROC AUC lives in shared code: the Inference view computes it from stored probabilities too.
export { rocAuc } from '@shared/stats/roc'

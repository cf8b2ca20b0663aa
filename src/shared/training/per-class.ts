// Per-class scores from a confusion matrix (rows: truth, columns: prediction): what a multi-class
// run (the landmark list's classes kept at import) needs beside its macro averages, one row a class.

export interface ClassScores {
  className: string
  /** Validation images of this class. */
  support: number
  /** null where the class was never predicted (precision) or never present (recall, F1). */
  precision: number | null
  recall: number | null
  f1: number | null
}

export function perClassScores(confusion: readonly (readonly number[])[], classNames: readonly string[]): ClassScores[] {
  return confusion.map((row, k) => {
    const tp = row[k] ?? 0
    const support = row.reduce((a, b) => a + b, 0)
    const predicted = confusion.reduce((a, r) => a + (r[k] ?? 0), 0)
    const precision = predicted ? tp / predicted : null
    const recall = support ? tp / support : null
    const f1 = precision !== null && recall !== null ? (precision + recall ? (2 * precision * recall) / (precision + recall) : 0) : null
    return { className: classNames[k] ?? `class ${k}`, support, precision, recall, f1 }
  })
}

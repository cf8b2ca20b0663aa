// The inference table as CSV (see ../csv/write.ts), for the view's export and `marsfm infer --csv`:
// one line per image with every class probability, the class predicted at the threshold and the
// true class where known.
import type { Prediction } from '../ipc/schemas/inference'
import { toCsv } from '../csv/write'
import { predictAt } from './threshold'

export function predictionsCsv(rows: readonly Prediction[], classes: readonly string[], threshold = 0.5): string {
  const header = ['name', 'path', ...classes.map((c) => `p_${c}`), 'predicted', 'true', 'correct']
  const lines = rows.map((r) => {
    const predicted = predictAt(r.probabilities, threshold)
    const truth = r.label === null ? '' : (classes[r.label] ?? String(r.label))
    return [r.name, r.path, ...r.probabilities, classes[predicted] ?? predicted, truth, r.label === null ? '' : predicted === r.label ? 1 : 0]
  })
  return toCsv([header, ...lines])
}

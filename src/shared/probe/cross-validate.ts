// Out-of-fold class probabilities of a probe: for each fold (whole observations), fit on the other
// folds and predict the held-out one. Every tile is scored exactly once, by a probe that never saw
// its observation.
import { groupedFolds } from './folds'
import { fitLogistic, predictLogistic, type LogisticOptions } from './logistic'
import { knnPredict, type KnnOptions } from './knn'
import { selectRows, unitRows, type EmbeddingMatrix } from './matrix'

export type ProbeMethod = ({ kind: 'logistic' } & LogisticOptions) | ({ kind: 'knn' } & KnnOptions)

export interface CrossValidationOptions {
  folds?: number
  /** Seed of the fold assignment: the same seed gives every backbone the same folds. */
  seed: number
  /** Called after each fold, for a progress bar. */
  onFold?: (done: number, total: number) => void
}

export interface OutOfFold {
  /** n × classes, row-major. */
  probabilities: Float64Array
  classes: number
  foldOf: Int32Array
  folds: number
  /** Folds whose training part lacked a class (the probe could not predict it there). */
  foldsMissingAClass: number
}

export function crossValidate(
  x: EmbeddingMatrix,
  labels: ArrayLike<number>,
  groups: readonly string[],
  classes: number,
  method: ProbeMethod,
  options: CrossValidationOptions
): OutOfFold {
  if (labels.length !== x.n || groups.length !== x.n) throw new Error(`crossValidate: ${x.n} embeddings, ${labels.length} labels, ${groups.length} observations`)
  const { foldOf, k } = groupedFolds(groups, options.folds ?? 5, options.seed)
  const input = method.kind === 'knn' ? unitRows(x) : x
  const probabilities = new Float64Array(x.n * classes)
  let foldsMissingAClass = 0
  for (let f = 0; f < k; f++) {
    const trainIdx: number[] = []
    const testIdx: number[] = []
    for (let i = 0; i < x.n; i++) (foldOf[i] === f ? testIdx : trainIdx).push(i)
    const trainLabels = Int32Array.from(trainIdx, (i) => labels[i]!)
    if (new Set(trainLabels).size < classes) foldsMissingAClass++
    const train = selectRows(input, trainIdx)
    const test = selectRows(input, testIdx)
    const p =
      method.kind === 'logistic'
        ? predictLogistic(fitLogistic(train, trainLabels, classes, method), test)
        : knnPredict(train, trainLabels, test, classes, method)
    testIdx.forEach((i, r) => probabilities.set(p.subarray(r * classes, (r + 1) * classes), i * classes))
    options.onFold?.(f + 1, k)
  }
  return { probabilities, classes, foldOf, folds: k, foldsMissingAClass }
}

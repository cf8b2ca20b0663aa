// k-nearest-neighbour probe on cosine similarity, and the "more tiles like this" search. Rows are
// expected unit length (see unitRows), so similarity is a dot product.
import { row, type EmbeddingMatrix } from './matrix'

export interface KnnOptions {
  /** Neighbours that vote; default 10 (fewer when the training set is smaller). */
  k?: number
  /**
   * 'balanced' (default): a class's votes are divided by its share of the training rows, so a
   * majority class does not win by being common; 'uniform': plain vote counts.
   */
  weighting?: 'balanced' | 'uniform'
}

export interface Neighbour {
  index: number
  similarity: number
}

/** The k rows of `pool` most similar to `query` (highest first; ties: lower index), skipping `exclude`. */
export function nearest(pool: EmbeddingMatrix, query: ArrayLike<number>, k: number, exclude = -1): Neighbour[] {
  if (query.length !== pool.dim) throw new Error(`nearest: the query has ${query.length} features, the pool ${pool.dim}`)
  const best: Neighbour[] = []
  for (let i = 0; i < pool.n; i++) {
    if (i === exclude) continue
    const r = row(pool, i)
    let sim = 0
    for (let j = 0; j < pool.dim; j++) sim += r[j]! * query[j]!
    if (best.length === k && sim <= best[k - 1]!.similarity) continue
    let at = best.length
    while (at > 0 && best[at - 1]!.similarity < sim) at--
    best.splice(at, 0, { index: i, similarity: sim })
    if (best.length > k) best.pop()
  }
  return best
}

/** Class probabilities (n_test × classes) from the votes of each test row's k nearest training rows. */
export function knnPredict(
  train: EmbeddingMatrix,
  trainLabels: ArrayLike<number>,
  test: EmbeddingMatrix,
  classes: number,
  options: KnnOptions = {}
): Float64Array {
  const { weighting = 'balanced' } = options
  const k = Math.min(options.k ?? 10, train.n)
  if (!Number.isInteger(k) || k < 1) throw new Error(`knnPredict: k must be a positive integer and the training set non-empty (k ${options.k}, ${train.n} rows)`)
  if (trainLabels.length !== train.n) throw new Error(`knnPredict: ${train.n} training rows but ${trainLabels.length} labels`)
  const share = new Array<number>(classes).fill(0)
  for (let i = 0; i < train.n; i++) share[trainLabels[i]!]! += 1 / train.n
  const out = new Float64Array(test.n * classes)
  for (let i = 0; i < test.n; i++) {
    const votes = new Array<number>(classes).fill(0)
    for (const nb of nearest(train, row(test, i), k)) {
      const c = trainLabels[nb.index]!
      votes[c]! += weighting === 'balanced' ? 1 / share[c]! : 1
    }
    const total = votes.reduce((s, v) => s + v, 0)
    for (let c = 0; c < classes; c++) out[i * classes + c] = votes[c]! / total
  }
  return out
}

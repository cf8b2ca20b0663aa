// A 2-D map of embeddings: their first two principal components. Deterministic (seeded power
// iteration), so the same embeddings always draw the same picture; linear, so distances along the
// axes mean something, unlike t-SNE's.
import { seededNormal } from '../random'
import type { EmbeddingMatrix } from './matrix'

export interface EmbeddingMap {
  /** n × 2, row-major. */
  coords: Float32Array
  /** Share of the total variance along each axis. */
  explained: [number, number]
}

export function principalMap(x: EmbeddingMatrix, seed = 0): EmbeddingMap {
  const { n, dim, data } = x
  if (n < 2) throw new Error('a map needs at least 2 embeddings')
  const mean = new Float64Array(dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += data[i * dim + j]! / n
  const xc = new Float64Array(n * dim)
  let total = 0
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++) {
      const v = data[i * dim + j]! - mean[j]!
      xc[i * dim + j] = v
      total += v * v
    }
  const normal = seededNormal(seed)
  const components: Float64Array[] = []
  const variances: number[] = []
  const xv = new Float64Array(n)
  for (let c = 0; c < Math.min(2, dim); c++) {
    let v = Float64Array.from({ length: dim }, () => normal())
    let lambda = 0
    for (let it = 0; it < 300; it++) {
      for (const u of components) orthogonalise(v, u)
      normalise(v)
      // w = Xcᵀ (Xc v): the covariance applied without forming it (dim may be 1024).
      for (let i = 0; i < n; i++) {
        let s = 0
        for (let j = 0; j < dim; j++) s += xc[i * dim + j]! * v[j]!
        xv[i] = s
      }
      const w = new Float64Array(dim)
      for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) w[j]! += xc[i * dim + j]! * xv[i]!
      for (const u of components) orthogonalise(w, u)
      const next = Math.sqrt(w.reduce((s, t) => s + t * t, 0))
      const settled = Math.abs(next - lambda) <= 1e-10 * Math.max(1, next)
      lambda = next
      v = w
      if (settled) break
    }
    normalise(v)
    // Sign: the loading of largest magnitude is positive, so the map never flips between runs.
    let big = 0
    for (let j = 1; j < dim; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!)) big = j
    if (v[big]! < 0) for (let j = 0; j < dim; j++) v[j] = -v[j]!
    components.push(v)
    variances.push(lambda)
  }
  const coords = new Float32Array(n * 2)
  components.forEach((v, c) => {
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let j = 0; j < dim; j++) s += xc[i * dim + j]! * v[j]!
      coords[i * 2 + c] = s
    }
  })
  const share = (k: number) => (total > 0 && variances[k] !== undefined ? variances[k]! / total : 0)
  return { coords, explained: [share(0), share(1)] }
}

function orthogonalise(v: Float64Array, u: Float64Array): void {
  let d = 0
  for (let j = 0; j < v.length; j++) d += v[j]! * u[j]!
  for (let j = 0; j < v.length; j++) v[j]! -= d * u[j]!
}

function normalise(v: Float64Array): void {
  const s = Math.sqrt(v.reduce((a, t) => a + t * t, 0))
  if (s > 0) for (let j = 0; j < v.length; j++) v[j]! /= s
}

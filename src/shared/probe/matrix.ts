// Embeddings as one row-major matrix: n tiles × dim features. The probes, the 2-D map and the
// neighbour search all read this shape, so a backbone's output is converted once.

export interface EmbeddingMatrix {
  n: number
  dim: number
  /** Row i is data[i·dim .. (i+1)·dim). */
  data: Float32Array
}

export function embeddingMatrix(rows: readonly ArrayLike<number>[]): EmbeddingMatrix {
  if (!rows.length) throw new Error('no embeddings')
  const dim = rows[0]!.length
  if (!dim) throw new Error('embeddings have no features')
  const data = new Float32Array(rows.length * dim)
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new Error(`embedding ${i} has ${r.length} features, the first has ${dim}`)
    for (let j = 0; j < dim; j++) {
      const v = r[j]!
      if (!Number.isFinite(v)) throw new Error(`embedding ${i} has a non-finite feature (${v}) at ${j}`)
      data[i * dim + j] = v
    }
  })
  return { n: rows.length, dim, data }
}

export function row(m: EmbeddingMatrix, i: number): Float32Array {
  return m.data.subarray(i * m.dim, (i + 1) * m.dim)
}

/** The rows `indices` as a new matrix. */
export function selectRows(m: EmbeddingMatrix, indices: readonly number[]): EmbeddingMatrix {
  const data = new Float32Array(indices.length * m.dim)
  indices.forEach((src, k) => data.set(row(m, src), k * m.dim))
  return { n: indices.length, dim: m.dim, data }
}

/** Every row scaled to unit length (a zero row stays zero): cosine similarity becomes a dot product. */
export function unitRows(m: EmbeddingMatrix): EmbeddingMatrix {
  const data = new Float32Array(m.data.length)
  for (let i = 0; i < m.n; i++) {
    const r = row(m, i)
    let s = 0
    for (let j = 0; j < m.dim; j++) s += r[j]! * r[j]!
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0
    for (let j = 0; j < m.dim; j++) data[i * m.dim + j] = r[j]! * inv
  }
  return { n: m.n, dim: m.dim, data }
}

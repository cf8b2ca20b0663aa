// The embedding cache: one folder per (backbone weights, input size, preprocessing), holding a
// row per image rectangle: the CLS token and the mean of the patch tokens, float32. Rows are keyed
// by the image's SHA-256 and rectangle, so any dataset version that shares tiles reuses them.
//
//   index.json   { format, dim, keys: [...] }   row i ↔ keys[i]
//   vectors.f32  rows × 2 × dim float32 (little-endian): CLS then mean-pooled
//
// Appends write the vectors first and the index last (atomically, by rename), so an interrupted job
// leaves a valid store: rows beyond the index are ignored and overwritten next time.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'

const FORMAT = 'marsfm-embeddings/1'
const Index = z.object({ format: z.literal(FORMAT), dim: z.number().int().positive(), keys: z.array(z.string()) })

export type Pooling = 'cls' | 'mean'

export class EmbeddingStore {
  private readonly rowOf = new Map<string, number>()
  private keys: string[]

  private constructor(
    readonly dir: string,
    readonly dim: number,
    keys: string[]
  ) {
    this.keys = keys
    keys.forEach((k, i) => this.rowOf.set(k, i))
  }

  /** Opens the store in `dir`, or makes an empty one for vectors of `dim` features. */
  static open(dir: string, dim: number): EmbeddingStore {
    const indexPath = join(dir, 'index.json')
    if (!existsSync(indexPath)) {
      mkdirSync(dir, { recursive: true })
      return new EmbeddingStore(dir, dim, [])
    }
    const index = Index.parse(JSON.parse(readFileSync(indexPath, 'utf8')))
    if (index.dim !== dim) throw new Error(`the embedding cache ${dir} holds ${index.dim}-feature vectors, this backbone gives ${dim}`)
    const bytes = existsSync(join(dir, 'vectors.f32')) ? statSync(join(dir, 'vectors.f32')).size : 0
    if (bytes < index.keys.length * 2 * dim * 4) throw new Error(`the embedding cache ${dir} is damaged (vectors.f32 is shorter than its index): delete the folder to rebuild it`)
    return new EmbeddingStore(dir, dim, index.keys)
  }

  /** Opens an existing store for reading (its size from its index). */
  static read(dir: string): EmbeddingStore {
    const indexPath = join(dir, 'index.json')
    if (!existsSync(indexPath)) throw new Error(`no embeddings in ${dir}`)
    const index = Index.parse(JSON.parse(readFileSync(indexPath, 'utf8')))
    return EmbeddingStore.open(dir, index.dim)
  }

  get size(): number {
    return this.keys.length
  }

  has(key: string): boolean {
    return this.rowOf.has(key)
  }

  /** Appends rows (cls and mean: n × dim each) for `keys`, then publishes the new index. */
  append(keys: readonly string[], cls: Float32Array, mean: Float32Array): void {
    const d = this.dim
    if (cls.length !== keys.length * d || mean.length !== keys.length * d) throw new Error('EmbeddingStore.append: vector sizes do not match the keys')
    const fresh = keys.filter((k) => !this.rowOf.has(k))
    if (!fresh.length) return
    const block = new Float32Array(fresh.length * 2 * d)
    let r = 0
    keys.forEach((k, i) => {
      if (this.rowOf.has(k)) return
      block.set(cls.subarray(i * d, (i + 1) * d), r * 2 * d)
      block.set(mean.subarray(i * d, (i + 1) * d), r * 2 * d + d)
      r++
    })
    const fd = openSync(join(this.dir, 'vectors.f32'), existsSync(join(this.dir, 'vectors.f32')) ? 'r+' : 'w')
    try {
      const bytes = new Uint8Array(block.buffer)
      let done = 0
      const at = this.keys.length * 2 * d * 4 // after the last published row, over any orphaned tail
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done)
    } finally {
      closeSync(fd)
    }
    const next = [...this.keys, ...fresh]
    const tmp = join(this.dir, 'index.json.partial')
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, dim: d, keys: next }))
    renameSync(tmp, join(this.dir, 'index.json'))
    this.keys = next
    fresh.forEach((k, i) => this.rowOf.set(k, this.keys.length - fresh.length + i))
  }

  /** The vectors of `keys` (n × dim, in that order) for one pooling; a missing key is an error. */
  vectors(keys: readonly string[], pooling: Pooling): Float32Array {
    const d = this.dim
    const rows = keys.map((k) => {
      const r = this.rowOf.get(k)
      if (r === undefined) throw new Error(`the embedding cache ${this.dir} has no vector for ${k}`)
      return r
    })
    const out = new Float32Array(keys.length * d)
    const bytes = new Uint8Array(out.buffer)
    // Only the rows asked for: the cache is shared by every version, and may be much larger.
    const fd = openSync(join(this.dir, 'vectors.f32'), 'r')
    try {
      rows.forEach((r, i) => {
        const at = (r * 2 * d + (pooling === 'mean' ? d : 0)) * 4
        readSync(fd, bytes, i * d * 4, d * 4, at)
      })
    } finally {
      closeSync(fd)
    }
    return out
  }
}

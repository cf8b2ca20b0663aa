// Engine jobs behind the Backbones view, `marsfm embed` and `marsfm probe`, and the neighbour
// search ("more tiles like this") as a short call.
import { nearest, unitRows } from '@shared/probe'
import { registerJob } from '../jobs/registry'
import { registerMethod } from '../methods'
import { join } from 'node:path'
import { runEmbedding } from './embed'
import { NeighbourParams, runBackboneStudy } from './study'
import { EmbeddingStore } from './store'

registerJob('embed', (params, ctx) =>
  runEmbedding(params, {
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message)
  })
)

registerJob('backbone-study', (params, ctx) =>
  runBackboneStudy(params, {
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message)
  })
)

registerMethod('embeddings-neighbours', (_tf, raw) => {
  const p = NeighbourParams.parse(raw)
  const store = EmbeddingStore.read(join(p.storeRoot, p.storeKey))
  const keys = p.keys.filter((k) => store.has(k))
  const at = keys.indexOf(p.query)
  if (at < 0) throw new Error(`the tile ${p.query} has no embedding in this study`)
  const pool = unitRows({ n: keys.length, dim: store.dim, data: store.vectors(keys, p.pooling) })
  const query = pool.data.subarray(at * store.dim, (at + 1) * store.dim)
  return nearest(pool, query, p.k, at).map((n) => ({ key: keys[n.index]!, similarity: n.similarity }))
})

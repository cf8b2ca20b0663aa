// Frozen embeddings of image rectangles by one backbone, for the backbone comparison: the encoder
// graph exported once per weights and size, run by ONNX Runtime (CPU or the GPU) in batches, each
// image preprocessed as the backbone's family expects; CLS and mean-pooled tokens go into the
// embedding cache. Images already cached are not recomputed; an image that cannot be read is
// reported and skipped, never the end of the job.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PRITHVI_HLS_STATS, type BandStats } from '@shared/bands'
import { canonicalJson } from '@shared/datasets/manifest'
import type { EngineJobInput, EngineJobReturn } from '@shared/engine/jobs'
import { assertUsable, loadCheckpoint } from '../checkpoint'
import type { PrithviConfig } from '../model/config'
import { randomWeights } from '../model/params'
import type { WeightMap } from '../model/weights'
import { exportOnnxFile } from '../onnx/export-file'
import { createSession, run, sessionNotes } from '../onnx/runtime'
import { pixelsShape } from '../onnx/input-layout'
import { modelInputs, modelRgb } from '../inference/images'
import { familyPreprocessing, type Preprocessing } from '../training/data'
import { MAE_NATIVE_METHOD } from '@shared/models/mae-input'
import { EmbeddingStore } from './store'
import { checkAborted } from '../jobs/abort'

export type EmbedParams = EngineJobInput<'embed'>

/** What the job returns (the ledger's schema: ipc/schemas/backbones.ts). */
export type EmbedOutcome = EngineJobReturn<'embed'>

export interface EmbedEnv {
  signal?: AbortSignal
  progress?: (done: number, total: number, message: string) => void
}

/** Embeds `p.items` (params already parsed: the job's boundary, or EmbedJobParams.parse). */
export async function runEmbedding(p: EmbedParams, env: EmbedEnv = {}): Promise<EmbedOutcome> {
  const progress = env.progress ?? (() => {})
  const t0 = performance.now()
  progress(0, 1, 'loading the backbone')
  let cfg: PrithviConfig
  let weights: () => WeightMap
  let weightsId: string
  let stats: BandStats
  if (p.backbone.kind === 'checkpoint') {
    const loaded = await loadCheckpoint(p.backbone.path, { ...(p.backbone.config ? { config: p.backbone.config } : {}), numFrames: 1, decoder: false })
    assertUsable(loaded, p.backbone.path)
    cfg = { ...loaded.config, num_frames: 1 }
    weights = () => loaded.weights
    weightsId = loaded.sha256
    stats = p.stats ?? loaded.stats ?? PRITHVI_HLS_STATS
  } else {
    const { config, seed } = p.backbone
    cfg = { ...config, num_frames: 1 }
    weights = () => randomWeights(cfg, seed, { decoder: false })
    // Names the initialiser too: untrained weights of another generator are other weights, and
    // must not reuse this cache (bump when randomWeights changes).
    weightsId = `random-xoshiro128ss-${seed}`
    stats = p.stats ?? PRITHVI_HLS_STATS
  }
  const pre: Preprocessing = familyPreprocessing(cfg, { stats, recipe: p.preprocessing.recipe, truncate: p.preprocessing.truncate, tileNorm: p.preprocessing.tileNorm })
  // What was really done: the MAE layout takes its own input (recipe 'native', its 0-1 mean/std).
  const preprocessing = pre.native
    ? { recipe: MAE_NATIVE_METHOD, truncate: false, tileNorm: p.preprocessing.tileNorm, stats: { bands: pre.native.in_chans === 1 ? ['grey'] : ['R', 'G', 'B'], mean: pre.native.mean, std: pre.native.std } }
    : { ...p.preprocessing, stats }
  // Everything that changes a vector names the cache folder; nothing else does.
  const storeKey = createHash('sha256')
    .update(canonicalJson({ weights: weightsId, config: cfg, preprocessing }))
    .digest('hex')
    .slice(0, 32)
  const store = EmbeddingStore.open(join(p.storeRoot, storeKey), cfg.embed_dim)

  const unique = [...new Map(p.items.map((it) => [it.key, it])).values()]
  const todo = unique.filter((it) => !store.has(it.key))
  const reused = unique.length - todo.length
  const failed: EmbedOutcome['failed'] = []
  const notes: string[] = []
  let device = 'none (all cached)'
  if (todo.length) {
    const S = cfg.img_size
    const graph = join(p.cacheDir, `encoder-${createHash('sha256').update(canonicalJson({ weights: weightsId, config: cfg })).digest('hex').slice(0, 24)}-${S}px.onnx`)
    if (!existsSync(graph)) {
      progress(0, todo.length, 'exporting the encoder graph')
      exportOnnxFile(cfg, weights(), 'encoder', graph)
      notes.push(`exported the encoder graph to ${graph}`)
    } else notes.push(`reused the encoder graph ${graph}`)
    checkAborted(env.signal)
    const session = await createSession(graph, { device: p.device, keepWarm: true, ...(p.threads ? { intraOpThreads: p.threads } : {}) })
    device = session.device
    notes.push(...sessionNotes(session))
    try {
      const D = cfg.embed_dim
      for (let start = 0; start < todo.length; start += p.batch) {
        checkAborted(env.signal)
        const batch = todo.slice(start, start + p.batch)
        const ok: typeof batch = []
        const rgbs: Uint8Array[] = []
        for (const it of batch) {
          try {
            rgbs.push(await modelRgb({ path: it.path, name: it.key, label: null, ...(it.region ? { region: it.region } : {}) }, S))
            ok.push(it)
          } catch (e) {
            failed.push({ key: it.key, path: it.path, error: e instanceof Error ? e.message : String(e) })
          }
        }
        if (ok.length) {
          const out = await run(session, { pixels: { data: modelInputs(rgbs, S, pre), shape: pixelsShape(session, ok.length, cfg.in_chans, S) } }, ['features'])
          const features = out.features!.data // [n, 1 + L, D]
          const tokens = features.length / (ok.length * D)
          const cls = new Float32Array(ok.length * D)
          const mean = new Float32Array(ok.length * D)
          for (let i = 0; i < ok.length; i++) {
            const base = i * tokens * D
            cls.set(features.subarray(base, base + D), i * D)
            for (let t = 1; t < tokens; t++) for (let d = 0; d < D; d++) mean[i * D + d]! += features[base + t * D + d]!
            for (let d = 0; d < D; d++) mean[i * D + d]! /= tokens - 1
          }
          store.append(
            ok.map((it) => it.key),
            cls,
            mean
          )
        }
        progress(Math.min(start + p.batch, todo.length), todo.length, `embedded ${Math.min(start + p.batch, todo.length)} of ${todo.length} images (${reused} cached)`)
      }
    } finally {
      await session.release()
    }
  }
  return {
    storeKey,
    dim: cfg.embed_dim,
    weights: weightsId,
    config: cfg,
    preprocessing,
    computed: todo.length - failed.length,
    reused,
    failed,
    device,
    notes,
    seconds: (performance.now() - t0) / 1000
  }
}

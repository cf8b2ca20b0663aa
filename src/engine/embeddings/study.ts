// The backbone comparison, one engine job: embed a frozen dataset version's labelled tiles with
// each backbone (cached), then probe every backbone on the same tiles with the same folds
// (grouped by observation) on several split seeds: a logistic probe and kNN, on the CLS token and
// on the mean of the patch tokens; scores with intervals, paired tests against each other, and a
// 2-D map per backbone. Tiles any backbone failed to read are left out of every probe, so the
// comparison stays paired.
import { z } from 'zod'
import {
  compareProbes,
  crossValidate,
  principalMap,
  probeScores,
  type EmbeddingMatrix,
  type ProbeScores
} from '@shared/probe'
import { EmbedJobParams } from '@shared/engine/backbones'
import type { EngineJobInput, EngineJobReturn } from '@shared/engine/jobs'
import { runEmbedding, type EmbedOutcome } from './embed'
import { EmbeddingStore } from './store'
import { join } from 'node:path'
import { checkAborted } from '../jobs/abort'

export type StudyParams = EngineJobInput<'backbone-study'>

// The outcome's types are the ledger's schemas (ipc/schemas/backbones.ts): one declaration.
export type BackboneStudyOutcome = EngineJobReturn<'backbone-study'>
type ProbeRow = BackboneStudyOutcome['backbones'][number]['rows'][number]
type BackboneResult = BackboneStudyOutcome['backbones'][number]

export interface StudyEnv {
  signal?: AbortSignal
  progress?: (done: number, total: number, message: string) => void
}

function meanSd(values: number[]): { mean: number; sd: number } {
  const m = values.reduce((s, v) => s + v, 0) / values.length
  const v = values.length > 1 ? values.reduce((s, x) => s + (x - m) ** 2, 0) / (values.length - 1) : 0
  return { mean: m, sd: Math.sqrt(v) }
}

/** The study (params already parsed: the job's boundary, or BackboneStudyParams.parse). */
export async function runBackboneStudy(p: StudyParams, env: StudyEnv = {}): Promise<BackboneStudyOutcome> {
  const t0 = performance.now()
  const progress = env.progress ?? (() => {})
  const K = p.classes.length
  if (p.probe && K < 2) throw new Error(`a probe needs tiles of at least 2 classes; these have ${K} (${p.classes.join(', ')})`)
  if (p.probe && p.positiveIndex >= K) throw new Error(`the positive class index ${p.positiveIndex} is not one of the ${K} classes`)
  for (const t of p.tiles) if (t.label >= K) throw new Error(`tile ${t.key} has class index ${t.label}, beyond the ${K} classes`)
  const names = new Set<string>()
  for (const b of p.backbones) {
    if (names.has(b.name)) throw new Error(`two backbones are named "${b.name}": give each a distinct name`)
    names.add(b.name)
  }

  // Phase 1: embeddings (the slow part; cached per backbone and preprocessing).
  const embeds: EmbedOutcome[] = []
  const B = p.backbones.length
  // Progress counts tile embeddings (per backbone) and then probe fits, so the bar reads in units
  // a user recognises.
  const N = p.tiles.length
  const fits = p.probe ? B * p.probe.poolings.length * p.probe.methods.length * p.probe.seeds.length : 0
  const grand = B * N + fits
  for (const [i, b] of p.backbones.entries()) {
    checkAborted(env.signal)
    const outcome = await runEmbedding(
      EmbedJobParams.parse({
        backbone: b.backbone,
        ...(b.stats ? { stats: b.stats } : {}),
        preprocessing: b.preprocessing,
        items: p.tiles.map((t) => ({ key: t.key, path: t.path, ...(t.region ? { region: t.region } : {}) })),
        storeRoot: p.storeRoot,
        cacheDir: p.cacheDir,
        device: p.device,
        batch: p.batch
      }),
      {
        signal: env.signal,
        progress: (done, total, message) => progress(i * N + Math.round((N * done) / Math.max(1, total)), grand, `${b.name}: ${message}`)
      }
    )
    embeds.push(outcome)
  }
  const skippedKeys = new Set(embeds.flatMap((e) => e.failed.map((f) => f.key)))
  const skipped = [...new Map(embeds.flatMap((e) => e.failed).map((f) => [f.key, f])).values()]
  const tiles = p.tiles.filter((t) => !skippedKeys.has(t.key)).map((t) => ({ key: t.key, label: t.label, observation: t.observation }))
  const observations = new Set(tiles.map((t) => t.observation)).size
  const base = { classes: p.classes, positiveIndex: p.positiveIndex, tiles, skipped, observations, settings: p.probe }
  if (!p.probe) {
    return { ...base, backbones: p.backbones.map((b, i) => ({ name: b.name, embed: embeds[i]!, rows: [], map: null })), comparisons: [], seconds: (performance.now() - t0) / 1000 }
  }
  if (tiles.length < 2) throw new Error(`only ${tiles.length} tile(s) could be embedded by every backbone: nothing to probe`)
  if (observations < 2) throw new Error(`the tiles come from ${observations} observation(s): grouped cross-validation needs at least 2`)

  // Phase 2: probes, every backbone on the same tiles and folds.
  const s = p.probe
  const labels = Int32Array.from(tiles, (t) => t.label)
  const groups = tiles.map((t) => t.observation)
  const keys = tiles.map((t) => t.key)
  let done = 0
  const oof = new Map<string, Float64Array>() // `${backbone}|${pooling}|${method}` → first seed's probabilities
  const backbones: BackboneResult[] = []
  for (const [i, b] of p.backbones.entries()) {
    const store = EmbeddingStore.read(join(p.storeRoot, embeds[i]!.storeKey))
    const rows: ProbeRow[] = []
    let map: BackboneResult['map'] = null
    for (const pooling of s.poolings) {
      const x: EmbeddingMatrix = { n: keys.length, dim: store.dim, data: store.vectors(keys, pooling) }
      if (pooling === s.poolings[0]) {
        const m = principalMap(x)
        map = { pooling, coords: Array.from(m.coords, (v) => Math.round(v * 1e4) / 1e4), explained: m.explained }
      }
      for (const method of s.methods) {
        const perSeed: ProbeRow['perSeed'] = []
        for (const seed of s.seeds) {
          checkAborted(env.signal)
          const probe = method === 'logistic' ? { kind: 'logistic' as const, l2: s.l2 } : { kind: 'knn' as const, k: s.knnK }
          const out = crossValidate(x, labels, groups, K, probe, { folds: s.folds, seed })
          if (seed === s.seeds[0]) oof.set(`${b.name}|${pooling}|${method}`, out.probabilities)
          perSeed.push({ seed, scores: probeScores(out.probabilities, labels, groups, K, p.positiveIndex, { iterations: s.bootstrap, seed }) })
          done++
          progress(B * N + done, grand, `probe fit ${done} of ${fits}: ${b.name} (${pooling}, ${method}, seed ${seed})`)
        }
        const stat = (f: (sc: ProbeScores) => number | undefined) => {
          const v = perSeed.map((r) => f(r.scores)).filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
          return v.length ? meanSd(v) : null
        }
        const acc = stat((sc) => sc.metrics.accuracy)!
        const bal = stat((sc) => sc.metrics.balancedAccuracy)!
        const auc = stat((sc) => sc.metrics.auc)
        rows.push({
          pooling,
          method,
          perSeed,
          mean: { accuracy: acc.mean, balancedAccuracy: bal.mean, auc: auc?.mean ?? null },
          sd: { accuracy: acc.sd, balancedAccuracy: bal.sd, auc: auc?.sd ?? null }
        })
      }
    }
    backbones.push({ name: b.name, embed: embeds[i]!, rows, map })
  }
  const comparisons: BackboneStudyOutcome['comparisons'] = []
  for (let a = 0; a < B; a++)
    for (let c = a + 1; c < B; c++)
      for (const pooling of s.poolings)
        for (const method of s.methods) {
          const pa = oof.get(`${p.backbones[a]!.name}|${pooling}|${method}`)!
          const pb = oof.get(`${p.backbones[c]!.name}|${pooling}|${method}`)!
          comparisons.push({
            a: p.backbones[a]!.name,
            b: p.backbones[c]!.name,
            pooling,
            method,
            seed: s.seeds[0]!,
            result: compareProbes(pa, pb, labels, groups, K, p.positiveIndex, { iterations: s.bootstrap, seed: s.seeds[0]! })
          })
        }
  return { ...base, backbones, comparisons, seconds: (performance.now() - t0) / 1000 }
}

export const NeighbourParams = z.object({
  storeRoot: z.string().min(1),
  storeKey: z.string().regex(/^[0-9a-f]{32}$/),
  /** The tiles to search among. */
  keys: z.array(z.string()).min(1),
  query: z.string().min(1),
  k: z.number().int().min(1).max(100).default(12),
  pooling: z.enum(['cls', 'mean']).default('cls')
})

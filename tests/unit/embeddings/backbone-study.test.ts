// The backbone comparison in the engine, on real HiRISE landmark tiles from ../shared/data: the
// shipped demo model and its untrained floor embedded by ONNX Runtime (checked against the tfjs
// encoder to 1e-4), cached and reused, an unreadable tile skipped by every probe, and the probes'
// outcome on the same tiles and folds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runBackboneStudy, type StudyEnv } from '@engine/embeddings/study'
import { runEmbedding } from '@engine/embeddings/embed'
import { BackboneStudyParams, EmbedJobParams } from '@shared/engine/backbones'
import type { z } from 'zod'
import { EmbeddingStore } from '@engine/embeddings/store'
import { loadCheckpoint } from '@engine/checkpoint'
import { PrithviMAE } from '@engine/model/prithvi'
import { loadTf, type Tf } from '@engine/tf/backend'
import { modelInputs, modelRgb } from '@engine/inference/images'
import { SHARED_DATA } from '../../support/built'

const DEMO = resolve(__dirname, '../../../resources/models/marsfm-demo.safetensors')
const demoMeta = JSON.parse(readFileSync(DEMO.replace(/\.safetensors$/, '.json'), 'utf8'))
const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1')

let dir: string
let tf: Tf
const tiles: z.input<typeof BackboneStudyParams>['tiles'] = []
// The engine parses a job's params at its boundary; the tests do the same.
const embed = (p: z.input<typeof EmbedJobParams>) => runEmbedding(EmbedJobParams.parse(p))
const study = (p: z.input<typeof BackboneStudyParams>, env: StudyEnv = {}) => runBackboneStudy(BackboneStudyParams.parse(p), env)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marsfm-backbones-'))
  // Craters (label 1 in the landmark list) against the rest, 48 tiles from as many observations as come.
  const lines = readFileSync(join(LANDMARKS, 'labels-map-proj.txt'), 'utf8').trim().split(/\r?\n/).map((l) => l.trim().split(/\s+/))
  const crater = lines.filter(([, c]) => c === '1').slice(0, 24)
  const other = lines.filter(([, c]) => c !== '1' && c !== '6').slice(0, 24)
  for (const [file, c] of [...crater, ...other]) {
    tiles.push({ key: file!, path: join(LANDMARKS, 'map-proj', file!), label: c === '1' ? 1 : 0, observation: file!.split('_RED-')[0]! })
  }
  const broken = join(dir, 'broken.jpg')
  writeFileSync(broken, 'not a jpeg')
  tiles.push({ key: 'broken', path: broken, label: 0, observation: 'ESP_000000_0000' })
  tf = (await loadTf({ prefer: 'wasm' })).tf
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const demo = { kind: 'checkpoint' as const, path: DEMO, config: demoMeta.config }

describe('embeddings', () => {
  it('match the tfjs encoder (CLS and patch-token mean) within 1e-4, and are reused from the cache', async () => {
    const items = tiles.slice(0, 5).map((t) => ({ key: t.key, path: t.path }))
    const params = { backbone: demo, stats: demoMeta.stats, items, storeRoot: join(dir, 'store'), cacheDir: join(dir, 'onnx'), device: 'cpu' as const, batch: 2 }
    const first = await embed(params)
    expect(first).toMatchObject({ computed: 5, reused: 0, failed: [], dim: 128, device: 'cpu' })
    const store = EmbeddingStore.read(join(dir, 'store', first.storeKey))
    const keys = items.map((i) => i.key)
    const cls = store.vectors(keys, 'cls')
    const mean = store.vectors(keys, 'mean')

    const ck = await loadCheckpoint(DEMO, { config: demoMeta.config, numFrames: 1, decoder: false })
    const model = PrithviMAE.fromWeights(tf, ck.config, ck.weights, { decoder: false, seed: 0 })
    const S = ck.config.img_size
    const rgbs = await Promise.all(items.map((i) => modelRgb({ path: i.path, name: i.key, label: null }, S)))
    const x = modelInputs(rgbs, S, { stats: demoMeta.stats, recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' })
    const L = model.numPatches
    const noise = Float32Array.from({ length: 5 * L }, (_, i) => i % L)
    const latent = model.forwardEncoder(tf.tensor(x, [5, 6, 1, S, S]), 0, noise).latent
    const ref = (await latent.data()) as Float32Array // [5, 1 + L, D]
    latent.dispose()
    model.dispose()
    let worst = 0
    for (let i = 0; i < 5; i++)
      for (let d = 0; d < 128; d++) {
        const base = i * (1 + L) * 128
        let m = 0
        for (let t = 1; t <= L; t++) m += ref[base + t * 128 + d]!
        worst = Math.max(worst, Math.abs(cls[i * 128 + d]! - ref[base + d]!), Math.abs(mean[i * 128 + d]! - m / L))
      }
    expect(worst).toBeLessThan(1e-4)

    const again = await embed({ ...params, items: tiles.slice(0, 7).map((t) => ({ key: t.key, path: t.path })) })
    expect(again).toMatchObject({ storeKey: first.storeKey, computed: 2, reused: 5 })
    const other = await embed({ ...params, preprocessing: { recipe: 'means', truncate: true, tileNorm: 'none' } })
    expect(other.storeKey).not.toBe(first.storeKey) // another preprocessing, another cache
  })

  it('refuse a damaged cache instead of reading garbage', async () => {
    const store = EmbeddingStore.open(join(dir, 'damaged'), 4)
    store.append(['a', 'b'], new Float32Array(8).fill(1), new Float32Array(8).fill(2))
    expect(Array.from(EmbeddingStore.read(join(dir, 'damaged')).vectors(['b'], 'mean'))).toEqual([2, 2, 2, 2])
    writeFileSync(join(dir, 'damaged', 'vectors.f32'), new Uint8Array(20))
    expect(() => EmbeddingStore.read(join(dir, 'damaged'))).toThrow(/damaged .*delete the folder/)
    expect(() => EmbeddingStore.read(join(dir, 'damaged-not')).size).toThrow(/no embeddings in/)
    const fresh = EmbeddingStore.open(join(dir, 'store2'), 4)
    fresh.append(['a'], new Float32Array(4), new Float32Array(4))
    expect(() => fresh.vectors(['a', 'zzz'], 'cls')).toThrow(/has no vector for zzz/)
  })
})

describe('backbone study', () => {
  it('probes every backbone on the same tiles and folds, skipping the unreadable tile everywhere', async () => {
    const steps: string[] = []
    const counts: [number, number][] = []
    const out = await study(
      {
        backbones: [
          { name: 'demo', backbone: demo, stats: demoMeta.stats, preprocessing: { recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' } },
          { name: 'random', backbone: { kind: 'random', config: demoMeta.config, seed: 0 }, stats: demoMeta.stats, preprocessing: { recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' } }
        ],
        tiles,
        classes: ['other', 'crater'],
        positiveIndex: 1,
        storeRoot: join(dir, 'store'),
        cacheDir: join(dir, 'onnx'),
        device: 'cpu',
        probe: { folds: 4, seeds: [0, 1], methods: ['logistic', 'knn'], poolings: ['cls', 'mean'], bootstrap: 100, knnK: 5, l2: 0.01 }
      },
      { progress: (d, t, m) => (steps.push(m), counts.push([d, t])) }
    )
    expect(out.skipped.map((s) => s.key)).toEqual(['broken'])
    expect(out.skipped[0]!.error).toMatch(/broken\.jpg|unsupported|decode|image/i)
    expect(out.tiles).toHaveLength(48)
    expect(out.observations).toBeGreaterThanOrEqual(4)
    expect(out.backbones.map((b) => b.name)).toEqual(['demo', 'random'])
    for (const b of out.backbones) {
      expect(b.rows).toHaveLength(4) // 2 poolings × 2 methods
      for (const r of b.rows) {
        expect(r.perSeed.map((s) => s.seed)).toEqual([0, 1])
        for (const s of r.perSeed) {
          expect(s.scores.metrics.labelled).toBe(48)
          expect(s.scores.metrics.auc).toBeGreaterThanOrEqual(0)
          expect(s.scores.intervals.balancedAccuracy.lower).toBeLessThanOrEqual(s.scores.metrics.balancedAccuracy!)
        }
        expect(r.mean.balancedAccuracy).toBeCloseTo((r.perSeed[0]!.scores.metrics.balancedAccuracy! + r.perSeed[1]!.scores.metrics.balancedAccuracy!) / 2, 12)
      }
      expect(b.map!.coords).toHaveLength(96)
      expect(b.map!.explained[0]).toBeGreaterThan(b.map!.explained[1] - 1e-12)
    }
    // One pair × 2 poolings × 2 methods, paired on the first seed.
    expect(out.comparisons).toHaveLength(4)
    expect(out.comparisons[0]).toMatchObject({ a: 'demo', b: 'random', seed: 0 })
    expect(steps.some((s) => s.startsWith('demo: '))).toBe(true)
    // One bar in tiles embedded (49 per backbone) then probe fits (16): it never goes back, and ends full.
    expect(counts.every(([, t]) => t === 2 * 49 + 16)).toBe(true)
    expect(counts.every(([d], i) => i === 0 || d >= counts[i - 1]![0])).toBe(true)
    expect(counts.at(-1)).toEqual([114, 114])
    expect(steps.some((s) => /^probe fit \d+ of 16: random \(cls, logistic, seed 0\)$/.test(s))).toBe(true)
  })

  it('refuses tiles from a single observation and duplicate backbone names', async () => {
    const one = tiles.slice(0, 4).map((t) => ({ ...t, observation: 'ESP_1' }))
    const base = { classes: ['other', 'crater'], storeRoot: join(dir, 'store'), cacheDir: join(dir, 'onnx'), device: 'cpu' as const }
    const b = { name: 'demo', backbone: demo, stats: demoMeta.stats, preprocessing: { recipe: 'postnorm-dup' as const, truncate: true, tileNorm: 'none' as const } }
    await expect(study({ ...base, backbones: [b], tiles: one })).rejects.toThrow(/1 observation\(s\): grouped cross-validation needs at least 2/)
    await expect(study({ ...base, backbones: [b, b], tiles })).rejects.toThrow(/two backbones are named "demo"/)
    // One class: embedding only (filling the cache) works; a probe is refused with the reason.
    const craters = tiles.filter((t) => t.label === 1).slice(0, 3).map((t) => ({ ...t, label: 0 }))
    const only = await study({ ...base, classes: ['crater'], backbones: [b], tiles: craters, probe: null })
    expect(only.backbones[0]!.embed.computed + only.backbones[0]!.embed.reused).toBe(3)
    expect(only.backbones[0]!.rows).toEqual([])
    await expect(study({ ...base, classes: ['crater'], backbones: [b], tiles: craters })).rejects.toThrow(/a probe needs tiles of at least 2 classes; these have 1 \(crater\)/)
  })
})

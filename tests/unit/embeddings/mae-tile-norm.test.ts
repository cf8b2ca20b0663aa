// Per-tile standardisation (tileNorm 'standardize') of an MAE-family backbone's own input, on the
// engine paths that feed it: the training loader, inference's model inputs and the frozen
// embeddings. Each gives the PyTorch fixture's standardised inputs within 1e-5 and, through the
// exported encoder, its CLS and mean-pooled features within 1e-4
// (tests/fixtures/mae/make_tile_norm_fixture.py: every channel mean 0, std 1 over the tile). A
// classifier trained with it keeps it: classification and the heat map of its checkpoint score
// the fixture's standardised inputs (within 1e-5) and record 'native' with tileNorm 'standardize'.
import { afterAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseMaeConfig } from '@engine/checkpoint'
import { runEmbedding } from '@engine/embeddings/embed'
import { EmbeddingStore } from '@engine/embeddings/store'
import { modelInputs, modelRgb } from '@engine/inference/images'
import { familyPreprocessing, ImageCache, validationBatches, type LoaderOptions } from '@engine/training/data'
import { runClassification } from '@engine/inference/classify'
import { openClassifierRunner, readClassifierCheckpoint } from '@engine/inference/classifier'
import { runHeatmap } from '@engine/inference/heatmap'
import { probabilitiesFromLogits } from '@engine/inference/runners'
import { loadTf } from '@engine/tf/backend'
import { runTraining } from '@engine/training/runner'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { parseEngineJobParams } from '@shared/engine/parse'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { ROOT } from '../../support/built'

const FIX = resolve(ROOT, 'tests/fixtures/mae')
const CFG = parseMaeConfig(readFileSync(join(FIX, 'tiny_mae.json'), 'utf8'))
const fixture = JSON.parse(readFileSync(join(FIX, 'tile_norm_expected.json'), 'utf8')) as Record<'inputs' | 'features', { shape: number[]; data: string }>
const TILES = [join(FIX, 'tile_rgb.png'), join(FIX, 'tile_grey.png')]
const S = 32
const dir = mkdtempSync(join(tmpdir(), 'marsfm-mae-tilenorm-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const floats = (a: { data: string }) => {
  const b = Buffer.from(a.data, 'base64')
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}
const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let w = 0
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!))
  return w
}
const pre = (tileNorm: 'none' | 'standardize') => familyPreprocessing(CFG, { stats: PRITHVI_HLS_STATS, recipe: 'postnorm-dup', truncate: true, tileNorm })

describe('tile standardisation of the MAE family input', () => {
  const want = floats(fixture.inputs) // [2, 3, 32, 32]

  it('the training loader standardises each channel as PyTorch does', async () => {
    const opts: LoaderOptions = { task: 'classification', imgSize: S, resize: S, flip: false, augment: false, numClasses: 2, pre: pre('standardize'), seed: 0, batchSize: 2, prefetch: 0, cacheBytes: 1 << 20 }
    const batches = []
    for await (const b of validationBatches(TILES.map((path, label) => ({ path, label })), opts, new ImageCache(opts), 2)) batches.push(b)
    expect(batches).toHaveLength(1)
    expect(worst(batches[0]!.x, want)).toBeLessThanOrEqual(1e-5)
    // Not the plain native input: that one keeps the tiles' own brightness and contrast.
    const plain = await (async () => {
      const o = { ...opts, pre: pre('none') }
      for await (const b of validationBatches(TILES.map((path, label) => ({ path, label })), o, new ImageCache(o), 2)) return b.x
    })()
    expect(worst(plain!, want)).toBeGreaterThan(0.1)
  })

  it("inference's model inputs are the same", async () => {
    const rgbs = await Promise.all(TILES.map((path) => modelRgb({ path, name: path, label: null }, S)))
    expect(worst(modelInputs(rgbs, S, pre('standardize')), want)).toBeLessThanOrEqual(1e-5)
  })

  it('frozen embeddings match the PyTorch features and record the standardisation', async () => {
    const run = (tileNorm: 'none' | 'standardize') =>
      runEmbedding(
        parseEngineJobParams('embed', {
          backbone: { kind: 'checkpoint', path: join(FIX, 'tiny_mae.pth'), config: CFG },
          items: TILES.map((path, i) => ({ key: `t${i}`, path })),
          preprocessing: { tileNorm },
          storeRoot: join(dir, 'store'),
          cacheDir: join(dir, 'cache'),
          device: 'cpu',
          threads: 1
        })
      )
    const out = await run('standardize')
    expect(out.failed).toEqual([])
    expect(out.preprocessing).toMatchObject({ recipe: 'native', tileNorm: 'standardize' })
    const store = EmbeddingStore.read(join(dir, 'store', out.storeKey))
    const feats = floats(fixture.features) // [2, 17, 32]
    const [T, D] = [17, 32]
    const cls = store.vectors(['t0', 't1'], 'cls')
    const mean = store.vectors(['t0', 't1'], 'mean')
    const wantCls = new Float32Array(2 * D)
    const wantMean = new Float32Array(2 * D)
    for (let i = 0; i < 2; i++)
      for (let d = 0; d < D; d++) {
        wantCls[i * D + d] = feats[i * T * D + d]!
        let m = 0
        for (let t = 1; t < T; t++) m += feats[(i * T + t) * D + d]!
        wantMean[i * D + d] = m / (T - 1)
      }
    expect(worst(cls, wantCls)).toBeLessThanOrEqual(1e-4)
    expect(worst(mean, wantMean)).toBeLessThanOrEqual(1e-4)
    // The plain input is another cache (other vectors), never a reuse of these.
    expect((await run('none')).storeKey).not.toBe(out.storeKey)
  })

  it('a classifier trained on standardised tiles is scored on them by classification and the heat map', async () => {
    const tf = (await loadTf({ prefer: 'wasm' })).tf
    const data = join(dir, 'data')
    for (const split of ['train', 'valid'])
      TILES.forEach((tile, c) => {
        mkdirSync(join(data, split, `class${c}`), { recursive: true })
        for (let k = 0; k < 2; k++) copyFileSync(tile, join(data, split, `class${c}`, `${k}.png`))
      })
    const config = RunConfig.parse({
      name: 'mae standardised',
      task: 'classification',
      model: { random: CFG },
      data: { kind: 'folder', path: data, layout: 'imagefolder' },
      steps: 2,
      batchSize: 2,
      seed: 1,
      maskRatio: 0,
      optimizer: { name: 'adamw', lr: 1e-3 },
      eval: { everySteps: 2 },
      preprocessing: { recipe: 'postnorm-dup', truncate: true, tileNorm: 'standardize' }
    })
    const logs: string[] = []
    const hooks = { signal: new AbortController().signal, shouldPause: () => false, emit: () => {}, progress: () => {}, log: (_l: string, m: string) => logs.push(m), backend: 'wasm', device: 'test' }
    const runDir = join(dir, 'run')
    const outcome = await runTraining(tf, { runId: 1, runDir, config, model: { path: join(FIX, 'tiny_mae_encoder.pth'), config: CFG, stats: PRITHVI_HLS_STATS } }, hooks)
    expect(outcome.status).toBe('done')
    expect(logs.join('\n')).toContain("the MAE family's own input (0-1 scale, grey replicated to RGB, mean 0.5006/0.5006/0.5006, std 0.1664/0.1664/0.1664, per-tile standardised)")
    const checkpoint = join(runDir, 'checkpoints', 'last.safetensors')
    const ck = await readClassifierCheckpoint(checkpoint)
    expect(ck.pre.tileNorm).toBe('standardize')
    // What PyTorch's standardised inputs give through this checkpoint's classifier.
    const cacheDir = join(dir, 'cache')
    const runner = await openClassifierRunner(ck, { backend: 'ort', device: 'cpu', cacheDir, threads: 1 })
    const expected = probabilitiesFromLogits(await runner.run(want, 2), 2, 2).map((p) => p[1]!)
    await runner.dispose()
    const classified = await runClassification(parseEngineJobParams('inference-classify', { checkpoint, files: TILES, backend: 'ort', device: 'cpu', cacheDir, threads: 1, thumbnails: 0 }))
    expect(classified.preprocessing).toMatchObject({ recipe: 'native', truncate: false, tileNorm: 'standardize' })
    expect(worst(classified.predictions.map((p) => p.probabilities[1]!), expected)).toBeLessThanOrEqual(1e-5)
    // One 32-px window over the 32-px tile: the same input, the same probability.
    const map = await runHeatmap(parseEngineJobParams('inference-heatmap', { checkpoint, image: TILES[0]!, backend: 'ort', device: 'cpu', cacheDir, threads: 1, previewSide: 64 }))
    expect(map.preprocessing).toMatchObject({ recipe: 'native', truncate: false, tileNorm: 'standardize' })
    expect(map.windows).toHaveLength(1)
    expect(Math.abs(map.windows[0]!.probability - expected[0]!)).toBeLessThanOrEqual(1e-5)
  })
})

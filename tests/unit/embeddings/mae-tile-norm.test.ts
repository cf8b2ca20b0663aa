// Per-tile standardisation (tileNorm 'standardize') of an MAE-family backbone's own input, on the
// three engine paths that feed it: the training loader, inference's model inputs and the frozen
// embeddings. Each gives the PyTorch fixture's standardised inputs within 1e-5 and, through the
// exported encoder, its CLS and mean-pooled features within 1e-4
// (tests/fixtures/mae/make_tile_norm_fixture.py: every channel mean 0, std 1 over the tile).
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseMaeConfig } from '@engine/checkpoint'
import { runEmbedding } from '@engine/embeddings/embed'
import { EmbeddingStore } from '@engine/embeddings/store'
import { modelInputs, modelRgb } from '@engine/inference/images'
import { familyPreprocessing, ImageCache, validationBatches, type LoaderOptions } from '@engine/training/data'
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
})

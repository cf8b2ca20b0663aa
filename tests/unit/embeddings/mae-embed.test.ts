// Frozen embeddings of a facebookresearch-MAE backbone (MOMO's layout): the fixture's RGB and grey
// tiles through the family's own preprocessing and the exported encoder (ONNX Runtime) give the
// PyTorch re-implementation's CLS and mean-pooled features (tests/fixtures/mae/make_fixtures.py)
// within 1e-4, and the outcome records the 'native' preprocessing with the model's statistics.
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseMaeConfig } from '@engine/checkpoint'
import { runEmbedding } from '@engine/embeddings/embed'
import { EmbeddingStore } from '@engine/embeddings/store'
import { parseEngineJobParams } from '@shared/engine/parse'
import { ROOT } from '../../support/built'

const FIX = resolve(ROOT, 'tests/fixtures/mae')
const fixture = JSON.parse(readFileSync(join(FIX, 'tiny_expected.json'), 'utf8')) as { features: { shape: number[]; data: string } }
const dir = mkdtempSync(join(tmpdir(), 'marsfm-mae-embed-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function features(): Float32Array {
  const b = Buffer.from(fixture.features.data, 'base64')
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) // [2, 17, 32]
}

describe('embeddings of an MAE-family backbone', () => {
  it('match PyTorch (CLS and mean-pooled) and record the native preprocessing', async () => {
    const out = await runEmbedding(
      parseEngineJobParams('embed', {
        // The architecture recorded at import, as the app passes it (heads leave no trace in shapes).
        backbone: { kind: 'checkpoint', path: join(FIX, 'tiny_mae.pth'), config: parseMaeConfig(readFileSync(join(FIX, 'tiny_mae.json'), 'utf8')) },
        items: [
          { key: 'rgb', path: join(FIX, 'tile_rgb.png') },
          { key: 'grey', path: join(FIX, 'tile_grey.png') }
        ],
        storeRoot: join(dir, 'store'),
        cacheDir: join(dir, 'cache'),
        device: 'cpu',
        threads: 1
      })
    )
    expect(out.failed).toEqual([])
    expect(out.preprocessing).toEqual({ recipe: 'native', truncate: false, tileNorm: 'none', stats: { bands: ['R', 'G', 'B'], mean: [0.5006, 0.5006, 0.5006], std: [0.1664, 0.1664, 0.1664] } })
    const store = EmbeddingStore.read(join(dir, 'store', out.storeKey))
    const want = features()
    const [T, D] = [17, 32]
    const cls = store.vectors(['rgb', 'grey'], 'cls')
    const mean = store.vectors(['rgb', 'grey'], 'mean')
    let worst = 0
    for (let i = 0; i < 2; i++) {
      for (let d = 0; d < D; d++) {
        worst = Math.max(worst, Math.abs(cls[i * D + d]! - want[i * T * D + d]!))
        let m = 0
        for (let t = 1; t < T; t++) m += want[(i * T + t) * D + d]!
        worst = Math.max(worst, Math.abs(mean[i * D + d]! - m / (T - 1)))
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-4)
  })
})

// The study pipeline for a facebookresearch-MAE model (MOMO's layout): the fixture's RGB and grey
// tiles through the 'native' preprocessing and the tiny MAE with given noise, on ONNX Runtime and
// TensorFlow.js, against the PyTorch losses (tests/fixtures/mae/make_fixtures.py); the recipes and
// the encoder-only checkpoint are refused with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { loadTf } from '@engine/tf/backend'
import type { TfHandle } from '@engine/tf/handle'
import { runStudy } from '@engine/reconstruction/study'
import { parseEngineJobParams } from '@shared/engine/parse'
import { ROOT } from '../../support/built'

const FIX = resolve(ROOT, 'tests/fixtures/mae')
const expected = JSON.parse(readFileSync(join(FIX, 'tiny_expected.json'), 'utf8')) as { mae: { per_tile_loss: number[] } }
const noise = JSON.parse(readFileSync(join(FIX, 'noise.json'), 'utf8')) as number[][]
let dir: string
let tf: TfHandle
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marsfm-mae-study-'))
  tf = await loadTf({ prefer: 'cpu' })
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function study(backend: 'ort' | 'tfjs', extra: Record<string, unknown> = {}) {
  return runStudy(
    parseEngineJobParams('reconstruction-study', {
      checkpoint: join(FIX, 'tiny_mae.pth'),
      configPath: join(FIX, 'tiny_mae.json'),
      images: [join(FIX, 'tile_rgb.png'), join(FIX, 'tile_grey.png')],
      methods: ['native'],
      maskRatio: 0.5,
      noise,
      backend,
      cacheDir: join(dir, 'cache'),
      galleryDir: join(dir, `gallery-${backend}`),
      galleryTiles: 2,
      bootstrapIterations: 200,
      ...extra
    }),
    { tf }
  )
}

describe('reconstruction study of an MAE-family model', () => {
  for (const backend of ['ort', 'tfjs'] as const) {
    it(`${backend}: the native input gives PyTorch's loss per tile within 1e-4`, async () => {
      const out = await study(backend)
      expect(out.rows.map((r) => r.method)).toEqual(['native', 'native'])
      out.rows.forEach((r, i) => expect(Math.abs(r.modelLoss - expected.mae.per_tile_loss[i]!)).toBeLessThanOrEqual(1e-4))
      for (const r of out.rows) expect(r.psnr).toBeGreaterThan(0)
      expect(out.gallery?.tiles).toHaveLength(2)
    })
  }

  it('refuses the imputation recipes and an encoder-only checkpoint, saying why', async () => {
    await expect(study('ort', { methods: ['means'] })).rejects.toThrow('use --methods native, not means')
    await expect(study('ort', { checkpoint: join(FIX, 'tiny_mae_encoder.pth') })).rejects.toThrow("no decoder weights (encoder only, like MOMO's merged momo.pth)")
  })
})

// The study pipeline against PyTorch: real 32×32 HiRISE crops through the five band methods and
// the tiny Prithvi checkpoint, with given noise, on ONNX Runtime and on TensorFlow.js.
// Expected values: tests/fixtures/reconstruction/make_expected.py (no Python needed here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { loadTf } from '@engine/tf/backend'
import type { TfHandle } from '@engine/tf/handle'
import { runStudy } from '@engine/reconstruction/study'
import { parseEngineJobParams } from '@shared/engine/parse'
import { cutTiles, decodeImage } from '@engine/reconstruction/images'
import { tileNoise } from '@engine/reconstruction/noise'
import type { StudyOutcome } from '@shared/ipc/schemas/reconstruction'
import { ROOT, SHARED_DATA } from '../../support/built'

interface Case {
  file: string
  size: number
  rgb: number[]
  noise: number[]
  mask: number[]
  methods: Record<string, { model_loss: number; rgb_loss: number }>
}
const expected = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/reconstruction/expected.json'), 'utf8')) as { mask_ratio: number; cases: Case[] }
const CHECKPOINT = resolve(ROOT, 'tests/fixtures/checkpoints/tiny_prithvi.pt')
const CONFIG = resolve(ROOT, 'tests/fixtures/checkpoints/Prithvi_tiny_config.yaml')
const METHODS = ['means', 'prenorm-dup', 'postnorm-dup', 'luminance-dup', 'zero-reflectance']

let dir: string
let images: string[]
let tf: TfHandle
const outcomes: Partial<Record<'ort' | 'tfjs', StudyOutcome>> = {}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marsfm-recon-'))
  images = []
  for (const [i, c] of expected.cases.entries()) {
    const path = join(dir, `crop${i}.png`) // lossless, so the pixels are exactly the fixture's
    await sharp(Buffer.from(c.rgb), { raw: { width: c.size, height: c.size, channels: 3 } }).png().toFile(path)
    images.push(path)
  }
  tf = await loadTf({ prefer: 'cpu' })
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function study(backend: 'ort' | 'tfjs', extra: Record<string, unknown> = {}) {
  return runStudy(
    parseEngineJobParams('reconstruction-study', {
      checkpoint: CHECKPOINT,
      configPath: CONFIG,
      images,
      methods: METHODS,
      maskRatio: expected.mask_ratio,
      noise: expected.cases.map((c) => c.noise),
      backend,
      batchSize: 7,
      cacheDir: join(dir, 'cache'),
      bootstrapIterations: 500,
      ...extra
    }),
    { tf }
  )
}

describe('reconstruction study vs PyTorch', () => {
  for (const backend of ['ort', 'tfjs'] as const) {
    it(`${backend}: model and RGB losses per crop and method within 1e-4`, async () => {
      const out = await study(backend)
      outcomes[backend] = out
      expect(out.backend.name).toBe(backend)
      expect(out.rows).toHaveLength(expected.cases.length * METHODS.length)
      for (const [i, c] of expected.cases.entries()) {
        for (const m of METHODS) {
          const row = out.rows.find((r) => r.tile === `crop${i}.png` && r.method === m)!
          expect(row.maskSeed).toBe(-1)
          expect(Math.abs(row.modelLoss - c.methods[m]!.model_loss)).toBeLessThan(1e-4)
          expect(Math.abs(row.rgbLoss - c.methods[m]!.rgb_loss)).toBeLessThan(1e-4)
        }
      }
    })
  }

  it('ONNX Runtime and TensorFlow.js agree on every metric', () => {
    const a = outcomes.ort!
    const b = outcomes.tfjs!
    expect(a && b).toBeTruthy()
    for (const [k, r] of a.rows.entries()) {
      const s = b.rows[k]!
      expect([s.tile, s.method]).toEqual([r.tile, r.method])
      expect(Math.abs(s.modelLoss - r.modelLoss)).toBeLessThan(1e-4)
      expect(Math.abs(s.rgbLoss - r.rgbLoss)).toBeLessThan(1e-4)
      expect(Math.abs(s.ssim - r.ssim)).toBeLessThan(1e-3)
    }
  })

  it('aggregates every method and compares every pair', () => {
    const s = outcomes.ort!.summary
    expect(s.tiles).toBe(expected.cases.length)
    expect(s.methods.map((m) => m.method)).toEqual(METHODS)
    for (const m of s.methods) {
      const a = m.metrics.rgbLoss
      const mean = expected.cases.reduce((t, c) => t + c.methods[m.method]!.rgb_loss, 0) / expected.cases.length
      expect(Math.abs(a.mean - mean)).toBeLessThan(1e-4)
      expect(a.lower).toBeLessThanOrEqual(a.mean)
      expect(a.upper).toBeGreaterThanOrEqual(a.mean)
    }
    expect(s.pairs).toHaveLength(2 * (METHODS.length * (METHODS.length - 1)) / 2)
    for (const p of s.pairs) expect(p.pValue).toBeGreaterThan(0)
  })

  it('reuses the cached ONNX export keyed by model hash and mask ratio', async () => {
    const files = readdirSync(join(dir, 'cache'))
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^mae-[0-9a-f]{64}-r0\.5-32px\.onnx$/)
    const again = await study('ort', { methods: ['means'] })
    expect(again.backend.notes.join(' ')).toMatch(/reused the cached/)
  })

  it('seeded masks: one per tile shared by all methods, several seeds, gallery PNGs', async () => {
    const gallery = join(dir, 'gallery')
    const out = await study('ort', { noise: undefined, seed: 7, maskSeeds: 2, galleryDir: gallery, galleryTiles: 2, methods: ['means', 'postnorm-dup'] })
    expect(out.rows).toHaveLength(expected.cases.length * 2 * 2)
    expect(new Set(out.rows.map((r) => r.maskSeed))).toEqual(new Set([7, 8]))
    expect(out.gallery!.tiles).toHaveLength(2)
    const t0 = out.gallery!.tiles[0]!
    expect(t0.panels.map((p) => p.kind)).toEqual(['original', 'masked', 'recon', 'error', 'recon', 'error'])
    for (const p of t0.panels) expect(existsSync(join(gallery, p.file))).toBe(true)
    const meta = await sharp(join(gallery, t0.panels[2]!.file)).metadata()
    expect([meta.width, meta.height, meta.format]).toEqual([32, 32, 'png'])
    // The same study again gives the same numbers (seeded masks, seeded bootstrap).
    const again = await study('ort', { noise: undefined, seed: 7, maskSeeds: 2, methods: ['means', 'postnorm-dup'] })
    expect(again.rows).toEqual(out.rows)
    expect(again.summary).toEqual(out.summary)
  })
})

describe('masks and tiles', () => {
  it('tileNoise is a seeded permutation with distinct float32 values', () => {
    const a = tileNoise(16, 3, 0)
    expect(tileNoise(16, 3, 0)).toEqual(a)
    expect(tileNoise(16, 3, 1)).not.toEqual(a)
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => Math.fround((i + 0.5) / 16)))
  })

  it.runIf(existsSync(join(SHARED_DATA, 'hirise-rgb')))('sharp + centre crop of the real tiles give the fixture pixels', async () => {
    for (const c of expected.cases) {
      const path = join(SHARED_DATA, 'hirise-rgb', c.file)
      const [tile] = cutTiles(path, await decodeImage(path), 32, 'centre-crop')
      expect(Array.from(tile!.rgb.data)).toEqual(c.rgb)
    }
  })

  it.runIf(existsSync(join(SHARED_DATA, 'hirise-rgb')))('tiles a 512² HiRISE image into 16×16 cells of 32², and resizes to one', async () => {
    const path = join(SHARED_DATA, 'hirise-rgb', 'ESP_011472_1225_1_0.jpg')
    const img = await decodeImage(path)
    const tiles = cutTiles(path, img, 32, 'tile')
    expect(tiles).toHaveLength(256)
    expect(tiles[17]!.ref).toBe('ESP_011472_1225_1_0.jpg#r1c1')
    expect(cutTiles(path, img, 32, 'resize')).toHaveLength(1)
  })
})

// Prithvi-EO-2.0 as IBM publishes it, against PyTorch: tests/fixtures/prithvi-eo2 holds a tiny TL
// checkpoint saved in TerraTorch's layout (`encoder.` / `decoder.` keys, 4-frame position buffers, TL
// scale tensors, patch 7) with its Hugging Face config.json, and the outputs of our own re-implementation
// of TerraTorch's PrithviMAE (make_fixtures.py) at T = 1 and at another input size. The .pt goes
// through our reader with the config.json, then runs on TensorFlow.js (wasm) and on ONNX Runtime.
// Tolerances: 1e-4 for model outputs, 1e-5 for the bicubic resize, 1e-6 for position tables.
import { beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { assertUsable, loadCheckpoint, type LoadedCheckpoint } from '@engine/checkpoint'
import { bicubicResize } from '@engine/model/interpolate'
import { familyPosEmbed as positionTable } from '@engine/model/posEmbed'
import { PrithviMAE } from '@engine/model/prithvi'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { createSession, run } from '@engine/onnx/runtime'
import { loadTf, type Tf } from '@engine/tf/backend'
import { toReflectance } from '@shared/imputation/preprocess'
import { buildModelInput, presetRecipe } from '@shared/imputation/recipes'
import type { PrithviConfig } from '@shared/models/prithvi-mae'
import { f32, maxAbsDiff, type FixtureArray } from './fixture'

const TOL = 1e-4
const dir = (name: string): string => fileURLToPath(new URL(`../../fixtures/prithvi-eo2/${name}`, import.meta.url))
const PT = dir('Prithvi_EO_V2_tiny_TL.pt')
const CONFIG = dir('config.json')

interface Eo2Fixture {
  state_dict_keys: Record<string, number[]>
  pos_embed: Record<'t1' | 'other' | 'decoder_other', FixtureArray>
  inputs: { x: FixtureArray; noise: FixtureArray }
  encoder: { ratio0: FixtureArray; ratio05: FixtureArray }
  mae: { mask_ratio: number; loss: number; loss_r075: number; pred: FixtureArray; mask: FixtureArray }
  other_size: { img_size: number; x: FixtureArray; noise: FixtureArray; latent_ratio0: FixtureArray; mask_ratio: number; loss: number; pred: FixtureArray }
  imputation: { mask_ratio: number; cases: { size: number; rgb: number[]; noise: number[]; methods: Record<string, { model_loss: number; rgb_loss: number }> }[] }
  bicubic: { input: FixtureArray; output: FixtureArray }[]
}

const fx = JSON.parse(readFileSync(dir('expected.json'), 'utf8')) as Eo2Fixture
const hfConfig = JSON.parse(readFileSync(CONFIG, 'utf8')) as { pretrained_cfg: { mean: number[]; std: number[] } }
let ckpt: LoadedCheckpoint
let tf: Tf

beforeAll(async () => {
  ckpt = await loadCheckpoint(PT, { configPath: CONFIG })
  tf = (await loadTf({ prefer: 'wasm' })).tf
})

describe('bicubicResize (torch interpolate, bicubic, align_corners=True)', () => {
  it('matches PyTorch on up- and down-sizing, a one-row grid and a single output', () => {
    expect(fx.bicubic).toHaveLength(5)
    for (const c of fx.bicubic) {
      const x = f32(c.input)
      const y = f32(c.output)
      const [C, h, w] = x.shape as [number, number, number]
      const out = bicubicResize(x.data, C, h, w, y.shape[1]!, y.shape[2]!)
      expect(maxAbsDiff(out, y.data), `${x.shape} -> ${y.shape}`).toBeLessThanOrEqual(1e-5)
    }
  })

  it('is the identity at the same size and refuses sizes that do not fit', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i))
    expect(maxAbsDiff(bicubicResize(data, 2, 3, 4, 3, 4), data)).toBe(0)
    expect(() => bicubicResize(data, 2, 3, 3, 4, 4)).toThrow(/24 values do not fill \[2, 3, 3\]/)
    expect(() => bicubicResize(data, 2, 3, 4, 0, 4)).toThrow(/outH must be a positive integer/)
  })
})

describe('Prithvi_EO_V2_*.pt with its config.json', () => {
  it('reads the sizes, the pre-training grid, the TL flags and this model’s band statistics', () => {
    expect(ckpt.configSource).toBe('yaml')
    expect(ckpt.config).toMatchObject({ img_size: 28, patch_size: 7, tubelet_size: 1, num_frames: 1, pretrain_img_size: 28, embed_dim: 32, depth: 2, num_heads: 4, coords_encoding: ['time', 'location'], coords_scale_learn: true })
    expect(ckpt.stats).toEqual({ bands: ['BLUE', 'GREEN', 'RED', 'NIR_NARROW', 'SWIR_1', 'SWIR_2'], mean: hfConfig.pretrained_cfg.mean, std: hfConfig.pretrained_cfg.std })
    expect(ckpt.notes.join('\n')).toMatch(/pre-trained at 28 px with 4 frame\(s\)/)
    expect(ckpt.notes.join('\n')).toMatch(/time and location encoding present \(TL\)/)
  })

  it('maps every key: encoder./decoder. stripped, the 4-frame tables and TL scales accepted but not loaded', () => {
    assertUsable(ckpt)
    expect(ckpt.report.unexpected).toEqual([])
    expect(ckpt.report.missing).toEqual([])
    expect(ckpt.report.ignored.sort()).toEqual(['decoder_pos_embed', 'location_embed_dec.scale', 'location_embed_enc.scale', 'pos_embed', 'temporal_embed_dec.scale', 'temporal_embed_enc.scale'])
    expect(ckpt.hasDecoder).toBe(true)
    const fileKeys = Object.keys(fx.state_dict_keys).filter((k) => !/pos_embed|\.scale$/.test(k))
    expect([...ckpt.weights.keys()].sort()).toEqual(fileKeys.map((k) => k.replace(/^(encoder|decoder)\./, '')).sort())
  })

  it('refuses a config.json that lacks a size, naming the field', async () => {
    const { parsePrithviConfig } = await import('@engine/checkpoint')
    const bad = JSON.parse(readFileSync(CONFIG, 'utf8'))
    delete bad.pretrained_cfg.decoder_depth
    expect(() => parsePrithviConfig(JSON.stringify(bad), 'config.json')).toThrow('config.json: pretrained_cfg.decoder_depth is missing')
    bad.pretrained_cfg.decoder_depth = 1
    bad.pretrained_cfg.patch_size = [1, 7, 8]
    expect(() => parsePrithviConfig(JSON.stringify(bad), 'config.json')).toThrow(/patch_size \[1,7,8\] has non-square patches/)
    bad.pretrained_cfg.patch_size = [1, 7, 7]
    bad.pretrained_cfg.mean = [1, 2, 3]
    expect(() => parsePrithviConfig(JSON.stringify(bad), 'config.json')).toThrow('config.json: pretrained_cfg.mean has 3 entries but in_chans is 6')
    expect(() => parsePrithviConfig('{"architecture": "x"}', 'config.json')).toThrow(/model_args is missing .*pretrained_cfg/)
    const good = () => JSON.parse(readFileSync(CONFIG, 'utf8'))
    const refused: [(c: { pretrained_cfg: Record<string, unknown> }) => unknown, string | RegExp][] = [
      [(c) => (c.pretrained_cfg = [1, 2] as never), 'config.json: pretrained_cfg must be a mapping'],
      [(c) => (c.pretrained_cfg.depth = 1e9), 'config.json: depth 1000000000 is absurdly large (at most 256)'],
      [(c) => (c.pretrained_cfg.embed_dim = -32), 'config.json: pretrained_cfg.embed_dim must be a positive integer, got -32'],
      [(c) => (c.pretrained_cfg.img_size = [28, 30]), /img_size \[28,30\] is not square/],
      [(c) => (c.pretrained_cfg.img_size = 30), 'config.json: img_size 30 is not a multiple of patch_size 7'],
      [(c) => (c.pretrained_cfg.coords_encoding = ['time', 'rm -rf']), /coords_encoding must be a list of "time" and "location"/],
      [(c) => (c.pretrained_cfg.std = [1, 1, 1, 1, 1, 0]), 'config.json: pretrained_cfg.std must be positive'],
      [(c) => (c.pretrained_cfg.coords_scale_learn = 'yes'), 'config.json: pretrained_cfg.coords_scale_learn must be true or false'],
      [(c) => (c.pretrained_cfg.mask_ratio = 1.5), 'config.json: pretrained_cfg.mask_ratio must be a number in [0, 1)']
    ]
    for (const [spoil, message] of refused) {
      const c = good()
      spoil(c)
      expect(() => parsePrithviConfig(JSON.stringify(c), 'config.json'), String(message)).toThrow(message)
    }
  })
})

describe('position tables as TerraTorch makes them', () => {
  it('recomputes the 4-frame tables for one frame (float64 sin-cos) and resizes them bicubically for 42 px', () => {
    const cfg = ckpt.config
    expect(maxAbsDiff(positionTable(cfg, 32), f32(fx.pos_embed.t1).data)).toBeLessThanOrEqual(1e-6)
    const other: PrithviConfig = { ...cfg, img_size: fx.other_size.img_size }
    expect(maxAbsDiff(positionTable(other, 32), f32(fx.pos_embed.other).data)).toBeLessThanOrEqual(1e-6)
    expect(maxAbsDiff(positionTable(other, 16), f32(fx.pos_embed.decoder_other).data)).toBeLessThanOrEqual(1e-6)
    // Prithvi-100M's convention is untouched: a config without pretrain_img_size computes the grid directly.
    const { pretrain_img_size: _, ...v1 } = other
    expect(maxAbsDiff(positionTable(v1, 32), f32(fx.pos_embed.other).data)).toBeGreaterThan(1e-3)
  })
})

describe('parity with PyTorch at T = 1', () => {
  it('gives the encoder features and the MAE loss on TensorFlow.js', () => {
    const model = PrithviMAE.fromWeights(tf, ckpt.config, ckpt.weights, { decoder: true })
    const x = f32(fx.inputs.x)
    const noise = f32(fx.inputs.noise).data
    tf.tidy(() => {
      const input = tf.tensor(x.data, x.shape)
      expect(maxAbsDiff(model.forwardEncoder(input, 0).latent.dataSync(), f32(fx.encoder.ratio0).data)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(model.forwardEncoder(input, 0.5, noise).latent.dataSync(), f32(fx.encoder.ratio05).data)).toBeLessThanOrEqual(TOL)
      const mae = model.forwardMae(input, fx.mae.mask_ratio, noise)
      expect(Math.abs(mae.loss.dataSync()[0]! - fx.mae.loss)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(mae.pred.dataSync(), f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(mae.mask.dataSync(), f32(fx.mae.mask).data)).toBe(0)
      expect(Math.abs(model.forwardMae(input, 0.75, noise).loss.dataSync()[0]! - fx.mae.loss_r075)).toBeLessThanOrEqual(TOL)
    })
    model.dispose()
  })

  it('gives the same on ONNX Runtime (MAE graph with the noise as an input; encoder graph)', async () => {
    const x = f32(fx.inputs.x)
    const noise = f32(fx.inputs.noise)
    const mae = await createSession(exportPrithviOnnx(ckpt.config, ckpt.weights, 'mae', { maskRatio: fx.mae.mask_ratio }), { device: 'cpu' })
    try {
      const out = await run(mae, { pixels: { data: x.data, shape: x.shape }, noise: { data: noise.data, shape: noise.shape } })
      expect(Math.abs(out.loss!.data[0]! - fx.mae.loss)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(out.pred!.data, f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
    } finally {
      await mae.release()
    }
    const enc = await createSession(exportPrithviOnnx(ckpt.config, ckpt.weights, 'encoder'), { device: 'cpu' })
    try {
      const out = await run(enc, { pixels: { data: x.data, shape: x.shape } })
      expect(maxAbsDiff(out.features!.data, f32(fx.encoder.ratio0).data)).toBeLessThanOrEqual(TOL)
    } finally {
      await enc.release()
    }
  })

  it('gives the three imputations’ losses on real HiRISE crops, with this model’s mean / std', () => {
    const model = PrithviMAE.fromWeights(tf, ckpt.config, ckpt.weights, { decoder: true })
    const stats = ckpt.stats!
    for (const c of fx.imputation.cases) {
      const refl = toReflectance(c.rgb, c.size, c.size, stats, { truncate: true })
      for (const method of ['means', 'prenorm-dup', 'postnorm-dup'] as const) {
        const input = buildModelInput(refl, presetRecipe(method, stats), stats)
        tf.tidy(() => {
          const x = tf.tensor(input, [1, 6, 1, c.size, c.size])
          const out = model.forwardMae(x, fx.imputation.mask_ratio, c.noise)
          expect(Math.abs(out.loss.dataSync()[0]! - c.methods[method]!.model_loss), method).toBeLessThanOrEqual(TOL)
          const rgb = model.forwardLoss(x, out.pred, out.mask, { channels: [0, 1, 2] }).dataSync()[0]!
          expect(Math.abs(rgb - c.methods[method]!.rgb_loss), method).toBeLessThanOrEqual(TOL)
        })
      }
    }
    model.dispose()
  })
})

describe('parity at an input size other than the pre-training size (42 px from 28 px)', () => {
  it('matches PyTorch on TensorFlow.js and ONNX Runtime', async () => {
    const cfg: PrithviConfig = { ...ckpt.config, img_size: fx.other_size.img_size }
    const loaded = await loadCheckpoint(PT, { config: cfg })
    assertUsable(loaded)
    const x = f32(fx.other_size.x)
    const noise = f32(fx.other_size.noise)
    const model = PrithviMAE.fromWeights(tf, cfg, loaded.weights, { decoder: true })
    tf.tidy(() => {
      const input = tf.tensor(x.data, x.shape)
      expect(maxAbsDiff(model.forwardEncoder(input, 0).latent.dataSync(), f32(fx.other_size.latent_ratio0).data)).toBeLessThanOrEqual(TOL)
      const mae = model.forwardMae(input, fx.other_size.mask_ratio, noise.data)
      expect(Math.abs(mae.loss.dataSync()[0]! - fx.other_size.loss)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(mae.pred.dataSync(), f32(fx.other_size.pred).data)).toBeLessThanOrEqual(TOL)
    })
    model.dispose()
    const session = await createSession(exportPrithviOnnx(cfg, loaded.weights, 'mae', { maskRatio: fx.other_size.mask_ratio }), { device: 'cpu' })
    try {
      const out = await run(session, { pixels: { data: x.data, shape: x.shape }, noise: { data: noise.data, shape: noise.shape } })
      expect(Math.abs(out.loss!.data[0]! - fx.other_size.loss)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(out.pred!.data, f32(fx.other_size.pred).data)).toBeLessThanOrEqual(TOL)
    } finally {
      await session.release()
    }
  })
})

// The facebookresearch MAE family (MOMO / the original MAE) against an independent PyTorch
// re-implementation of MOMO's models/mae.py (tests/fixtures/mae/make_fixtures.py): both checkpoint
// forms load ({'model', 'args'} and the bare state dict), an encoder-only one loads without a
// decoder, and the tfjs model (wasm) and the ONNX export (ONNX Runtime) give PyTorch's encoder
// features and MAE losses within 1e-4; its ONNX graphs take [N, C, H, W] and every ORT consumer
// (encoder, classifier, the frozen prefix) agrees with tfjs within 1e-4.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { classifierWeights, createOrtClassifier, createTfjsClassifier } from '@engine/inference/runners'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertUsable, loadCheckpoint, parseMaeConfig } from '@engine/checkpoint'
import { PrithviMAE } from '@engine/model/prithvi'
import { sincos2dPosEmbed } from '@engine/model/posEmbed'
import type { WeightMap } from '@engine/model/weights'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { createSession, run, type OnnxSession } from '@engine/onnx/runtime'
import { inputRank, pixelsShape } from '@engine/onnx/input-layout'
import { exportFrozenPrefixOnnx } from '@engine/onnx/export-prefix'
import { FrozenPrefix } from '@engine/training/frozen-prefix'
import { planMasking } from '@engine/model/masking'
import { decodeModel } from '../onnx/decode-onnx'
import { loadTf, type Tf } from '@engine/tf/backend'
import { facebookMae, maeTiny, momoVitB, type MaeConfig } from '@shared/models/mae'
import { familyOf } from '@shared/models/registry'
import { ModelSummary } from '@shared/ipc/schemas/models'

const TOL = 1e-4
const dir = (name: string): string => new URL(`../../fixtures/mae/${name}`, import.meta.url).pathname

interface Arr {
  dtype: 'float32'
  shape: number[]
  data: string
}
const f32 = (a: Arr): Float32Array => {
  const b = Buffer.from(a.data, 'base64')
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}
const fixture = JSON.parse(readFileSync(dir('tiny_expected.json'), 'utf8')) as {
  config: Record<string, unknown>
  layer_norm_eps: number
  weights: Record<string, Arr>
  inputs: { x: Arr; noise: Arr }
  features: Arr
  mae: { mask_ratio: number; loss: number; loss_norm_pix: number; pred: Arr; mask: Arr }
  mae75: { mask_ratio: number; loss: number; mask: Arr }
}
const cfg: MaeConfig = parseMaeConfig(readFileSync(dir('tiny_mae.json'), 'utf8'), 'tiny_mae.json')
const x = f32(fixture.inputs.x) // [2, 3, 32, 32]
const noise = f32(fixture.inputs.noise) // [2, 16]
const N = fixture.inputs.x.shape[0]!

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('the MAE family spec and config', () => {
  it('reads the JSON config with one mean/std for all channels', () => {
    expect(cfg).toEqual(maeTiny({ mean: [0.5006, 0.5006, 0.5006], std: [0.1664, 0.1664, 0.1664] }))
    expect(familyOf(cfg)).toBe(facebookMae)
    expect(ModelSummary.shape.config.parse(cfg)).toEqual(cfg) // the union keeps the family tag
  })

  it('names what is wrong in a config', () => {
    const text = (o: Record<string, unknown>) => JSON.stringify({ ...fixture.config, ...o })
    expect(() => parseMaeConfig(text({ in_chans: 4, mean: 0.5 }), 'c.json')).toThrow('c.json: in_chans must be 1 (grey) or 3 (RGB), got 4')
    expect(() => parseMaeConfig(text({ mean: [0.5, 0.5] }), 'c.json')).toThrow('c.json: mean has 2 value(s) but in_chans is 3')
    expect(() => parseMaeConfig(text({ mean: 127, std: 40 }), 'c.json')).toThrow('0-1 pixel scale')
    expect(() => parseMaeConfig(text({ depth: undefined }), 'c.json')).toThrow('c.json: depth is missing')
    expect(() => parseMaeConfig('{"family": "prithvi"}', 'c.json')).toThrow('"family" must be "mae"')
  })

  it('ships MOMO presets at patch 16 with 3 channels', () => {
    expect(momoVitB()).toMatchObject({ img_size: 224, patch_size: 16, in_chans: 3, embed_dim: 768, depth: 12, num_heads: 12, decoder_embed_dim: 512 })
    expect(facebookMae.presets['momo-vit-l']!()).toMatchObject({ embed_dim: 1024, depth: 24, num_heads: 16 })
  })

  it('computes the stored position tables (MAE: first grid coordinate is w)', () => {
    const stored = f32(fixture.weights.pos_embed!)
    expect(maxDiff(sincos2dPosEmbed(32, 4, true), stored)).toBeLessThan(1e-6)
    expect(maxDiff(sincos2dPosEmbed(16, 4, true), f32(fixture.weights.decoder_pos_embed!))).toBeLessThan(1e-6)
  })
})

describe('MAE checkpoints load', () => {
  it("loads {'model', 'args'} with its JSON config, stored position tables included", async () => {
    const loaded = await loadCheckpoint(dir('tiny_mae.pth'), { configPath: dir('tiny_mae.json') })
    assertUsable(loaded)
    expect(loaded.stateDictPath).toEqual(['model'])
    expect(loaded.configSource).toBe('json')
    expect(loaded.config).toEqual(cfg)
    expect(loaded.hasDecoder).toBe(true)
    expect(loaded.report.missing).toEqual([])
    expect(loaded.report.ignored).toEqual(['pos_embed', 'decoder_pos_embed'])
    expect(loaded.weights.get('patch_embed.proj.weight')!.shape).toEqual([32, 3, 8, 8])
    expect(maxDiff(loaded.weights.get('pos_embed')!.data, f32(fixture.weights.pos_embed!))).toBe(0)
    expect(loaded.notes.join('\n')).toContain("using the checkpoint's own pos_embed and decoder_pos_embed")
  })

  it('loads the bare state dict and infers the architecture, saying what it assumed', async () => {
    const loaded = await loadCheckpoint(dir('tiny_mae_bare.pth'))
    assertUsable(loaded)
    expect(loaded.stateDictPath).toEqual([])
    expect(loaded.configSource).toBe('inferred')
    // Heads leave no trace in shapes: 32 and 16 wide are no published ViT, so one 32-wide head is assumed.
    expect(loaded.config).toEqual({ ...cfg, num_heads: 1, decoder_num_heads: 1 })
    const notes = loaded.notes.join('\n')
    expect(notes).toContain('head counts cannot be read from shapes')
    expect(notes).toContain("mean/std assumed MOMO's merged statistics 0.5006/0.1664")
  })

  it("reads the training arguments of a checkpoint saved with them (norm_pix_loss, the original MAE's eps)", async () => {
    const momo = await loadCheckpoint(dir('tiny_mae.pth'))
    expect(momo.config).toMatchObject({ norm_pix_loss: false, layer_norm_eps: 1e-5 })
    expect(momo.notes.join('\n')).toContain("norm_pix_loss false, from the checkpoint's training arguments")
    const original = await loadCheckpoint(dir('tiny_mae_original.pth'))
    expect(original.config).toMatchObject({ norm_pix_loss: true, layer_norm_eps: 1e-6 })
    expect(original.notes.join('\n')).toContain("LayerNorm eps 1e-6: the training arguments name the original MAE's mae_vit_tiny_patch8")
  })

  it('loads an encoder-only checkpoint without a decoder', async () => {
    const loaded = await loadCheckpoint(dir('tiny_mae_encoder.pth'), { configPath: dir('tiny_mae.json') })
    assertUsable(loaded)
    expect(loaded.hasDecoder).toBe(false)
    expect([...loaded.weights.keys()].some((k) => k.startsWith('decoder'))).toBe(false)
    const inferred = await loadCheckpoint(dir('tiny_mae_encoder.pth'))
    expect(inferred.notes.join('\n')).toContain('encoder only')
  })
})

describe('MAE parity with PyTorch', () => {
  let tf: Tf
  let weights: WeightMap
  const sessions: OnnxSession[] = []
  beforeAll(async () => {
    tf = (await loadTf({ prefer: 'wasm' })).tf
    weights = (await loadCheckpoint(dir('tiny_mae.pth'), { configPath: dir('tiny_mae.json') })).weights
  })
  afterAll(async () => {
    for (const s of sessions) await s.release()
  })
  const session = async (bytes: Uint8Array) => {
    const s = await createSession(bytes, { device: 'cpu', intraOpThreads: 1 })
    sessions.push(s)
    return s
  }

  it('tfjs (wasm): encoder features and the MAE loss at mask ratio 0.5 and 0.75', async () => {
    expect(tf.getBackend()).toBe('wasm')
    const model = PrithviMAE.fromWeights(tf, cfg, weights)
    const pixels = tf.tensor5d(x, [N, 3, 1, 32, 32])
    try {
      const enc = model.forwardEncoder(pixels, 0) // no noise, ratio 0: patches in grid order
      expect(maxDiff(await enc.latent.data(), f32(fixture.features))).toBeLessThanOrEqual(TOL)
      for (const t of Object.values(enc)) t.dispose()
      const out = model.forwardMae(pixels, 0.5, noise)
      expect(Math.abs((await out.loss.data())[0]! - fixture.mae.loss)).toBeLessThanOrEqual(TOL)
      expect(maxDiff(await out.pred.data(), f32(fixture.mae.pred))).toBeLessThanOrEqual(TOL)
      expect(maxDiff(await out.mask.data(), f32(fixture.mae.mask))).toBe(0)
      for (const t of Object.values(out)) t.dispose()
      const out75 = model.forwardMae(pixels, 0.75, noise)
      expect(Math.abs((await out75.loss.data())[0]! - fixture.mae75.loss)).toBeLessThanOrEqual(TOL)
      for (const t of Object.values(out75)) t.dispose()
    } finally {
      pixels.dispose()
      model.dispose()
    }
    const normPix = PrithviMAE.fromWeights(tf, { ...cfg, norm_pix_loss: true }, weights)
    const again = tf.tensor5d(x, [N, 3, 1, 32, 32])
    const out = normPix.forwardMae(again, 0.5, noise)
    expect(Math.abs((await out.loss.data())[0]! - fixture.mae.loss_norm_pix)).toBeLessThanOrEqual(TOL)
    for (const t of Object.values(out)) t.dispose()
    again.dispose()
    normPix.dispose()
  })

  it('ONNX Runtime: the exported encoder and MAE graphs take [N, C, H, W]', async () => {
    for (const graph of ['encoder', 'mae', 'classifier'] as const) {
      const withHead: WeightMap = new Map([...weights, ['classifier.weight', { shape: [2, 32], data: new Float32Array(64) }], ['classifier.bias', { shape: [2], data: new Float32Array(2) }]])
      expect(decodeModel(exportPrithviOnnx(cfg, withHead, graph)).inputs[0]!.shape).toEqual(['N', 3, 32, 32])
    }
    const enc = await session(exportPrithviOnnx(cfg, weights, 'encoder'))
    expect(inputRank(enc, 'pixels')).toBe(4)
    expect(pixelsShape(enc, N, 3, 32)).toEqual([N, 3, 32, 32])
    const pixels = { data: x, shape: [N, 3, 32, 32] }
    const features = (await run(enc, { pixels })).features!
    expect(features.shape).toEqual([N, 17, 32])
    expect(maxDiff(features.data, f32(fixture.features))).toBeLessThanOrEqual(TOL)
    // ... and agrees with the tfjs model the engine trains (which keeps its one-frame [N, C, 1, H, W]).
    const model = PrithviMAE.fromWeights(tf, cfg, weights, { decoder: false })
    const x5 = tf.tensor5d(x, [N, 3, 1, 32, 32])
    const tfEnc = model.forwardEncoder(x5, 0)
    expect(maxDiff(features.data, await tfEnc.latent.data())).toBeLessThanOrEqual(TOL)
    for (const t of Object.values(tfEnc)) t.dispose()
    x5.dispose()
    model.dispose()
    await expect(run(enc, { pixels: { data: x, shape: [N, 3, 1, 32, 32] } })).rejects.toThrow()
    const mae = await session(exportPrithviOnnx(cfg, weights, 'mae', { maskRatio: 0.5 }))
    const out = await run(mae, { pixels, noise: { data: noise, shape: [N, 16] } })
    expect(Math.abs(out.loss!.data[0]! - fixture.mae.loss)).toBeLessThanOrEqual(TOL)
    expect(maxDiff(out.pred!.data, f32(fixture.mae.pred))).toBeLessThanOrEqual(TOL)
    const np = await session(exportPrithviOnnx({ ...cfg, norm_pix_loss: true }, weights, 'mae', { maskRatio: 0.5 }))
    const outNp = await run(np, { pixels, noise: { data: noise, shape: [N, 16] } })
    expect(Math.abs(outNp.loss!.data[0]! - fixture.mae.loss_norm_pix)).toBeLessThanOrEqual(TOL)
  })

  it('the frozen prefix of partial fine-tuning takes [N, C, H, W] and matches the encoder', async () => {
    expect(decodeModel(exportFrozenPrefixOnnx(cfg, weights, cfg.depth)).inputs[0]!.shape).toEqual(['N', 3, 32, 32])
    const prefix = new FrozenPrefix(cfg, weights, cfg.depth, { device: 'cpu', intraOpThreads: 1 })
    try {
      const hidden = await prefix.forward(x, planMasking(N, 16, 0)) // every patch kept, in grid order
      expect(maxDiff(hidden, f32(fixture.features))).toBeLessThanOrEqual(TOL)
    } finally {
      await prefix.release()
    }
  })

  it('the inference classifier: ONNX Runtime on the 4-D graph gives the tfjs logits', async () => {
    const K = 3
    const head: WeightMap = new Map([
      ['head.weight', { shape: [K, 32], data: Float32Array.from({ length: K * 32 }, (_, i) => Math.sin(i) * 0.1) }],
      ['head.bias', { shape: [K], data: Float32Array.from([0.1, -0.2, 0.05]) }]
    ])
    const cacheDir = mkdtempSync(join(tmpdir(), 'marsfm-mae-cls-'))
    const ort = await createOrtClassifier({ cacheDir, sha256: 'mae-test', step: 0, cfg, weights: () => classifierWeights(weights, head), device: 'cpu', intraOpThreads: 1 })
    const tfjs = createTfjsClassifier(tf, 'wasm', { cfg, backbone: weights, head, numClasses: K, pool: 'cls' })
    try {
      const a = await ort.run(x, N)
      const b = await tfjs.run(x, N)
      expect(a.length).toBe(N * K)
      expect(maxDiff(a, b)).toBeLessThanOrEqual(TOL)
    } finally {
      await ort.dispose()
      await tfjs.dispose()
      rmSync(cacheDir, { recursive: true, force: true })
    }
  })

  it('a Conv3d-shaped patch kernel does not fit the MAE layout', () => {
    const bad = new Map(weights)
    const w = weights.get('patch_embed.proj.weight')!
    bad.set('patch_embed.proj.weight', { shape: [32, 3, 1, 8, 8], data: w.data })
    expect(() => exportPrithviOnnx(cfg, bad, 'encoder')).toThrow('patch_embed.proj.weight has shape [32, 3, 1, 8, 8], expected [32, 3, 8, 8]')
  })
})

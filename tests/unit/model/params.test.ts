// Weights handling of the tfjs Prithvi MAE: shape validation messages, PyTorch <-> tfjs layouts
// (toWeightMap round trip), random timm-like initialisation, presets, encoder-only models, dispose.

import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS, prithvi100m, prithviTiny } from '@engine/model/config'
import { keepCount, planMasking } from '@engine/model/masking'
import { paramSpecs, randomWeights } from '@engine/model/params'
import { PrithviMAE } from '@engine/model/prithvi'
import { numel, type WeightMap } from '@engine/model/weights'
import { loadTf, type Tf } from '@engine/tf/backend'
import { f32, fixtureWeights, loadFixture, maxAbsDiff, studyWeights } from './fixture'

const fx = loadFixture()

describe('parameters', () => {
  let tf: Tf
  beforeAll(async () => {
    tf = (await loadTf({ prefer: 'cpu' })).tf
  })

  it('lists exactly the checkpoint names of the official model', () => {
    const names = paramSpecs(prithviTiny({ num_frames: 3 })).map((s) => s.name)
    const official = Object.keys(fx.weights).filter((k) => k !== 'pos_embed' && k !== 'decoder_pos_embed')
    expect([...names].sort()).toEqual([...official].sort())
    for (const s of paramSpecs(prithviTiny())) expect(fx.weights[s.name]!.shape).toEqual(s.torchShape)
  })

  it('prithvi-100m preset has the ViT-B/16 encoder (86.2M) and the 8 x 512 decoder (24.9M)', () => {
    const count = (decoder: boolean) => paramSpecs(PRESETS['prithvi-100m'](), { decoder }).reduce((n, s) => n + numel(s.torchShape), 0)
    const block = (d: number) => 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    const encoder = 768 * 6 * 16 * 16 + 768 + 768 + 12 * block(768) + 2 * 768
    const decoder = 512 + (768 * 512 + 512) + 8 * block(512) + 2 * 512 + (512 * 1536 + 1536)
    expect(count(false)).toBe(encoder)
    expect(encoder).toBe(86_237_184)
    expect(count(true)).toBe(encoder + decoder)
  })

  it('names the offending key and shapes', () => {
    const bad = studyWeights()
    bad.set('blocks.1.attn.qkv.weight', { shape: [96, 31], data: new Float32Array(96 * 31) })
    expect(() => PrithviMAE.fromWeights(tf, prithviTiny(), bad)).toThrow('blocks.1.attn.qkv.weight has shape [96, 31], expected [96, 32]')
    const missing = studyWeights()
    missing.delete('decoder_norm.bias')
    expect(() => PrithviMAE.fromWeights(tf, prithviTiny(), missing)).toThrow('missing weight decoder_norm.bias (expected shape [16])')
    const conv = studyWeights()
    conv.set('patch_embed.proj.weight', { shape: [32, 6, 3, 8, 8], data: new Float32Array(32 * 6 * 3 * 64) })
    expect(() => PrithviMAE.fromWeights(tf, prithviTiny(), conv)).toThrow('patch_embed.proj.weight has shape [32, 6, 3, 8, 8], expected [32, 6, 1, 8, 8]')
  })

  it('toWeightMap returns the loaded state dict bit for bit, with recomputed pos embeds', async () => {
    const before = tf.memory().numTensors
    const w = fixtureWeights()
    const model = PrithviMAE.fromWeights(tf, prithviTiny({ num_frames: 3 }), w)
    const back = await model.toWeightMap()
    expect([...back.keys()].sort()).toEqual([...w.keys()].sort())
    for (const [name, t] of w) {
      expect(back.get(name)!.shape, name).toEqual(t.shape)
      const tol = name.includes('pos_embed') ? 1e-6 : 0
      expect(maxAbsDiff(back.get(name)!.data, t.data), name).toBeLessThanOrEqual(tol)
    }
    expect(model.trainableVariables().every((v) => v.trainable)).toBe(true)
    model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('randomWeights: full, deterministic, timm-like init, loadable', () => {
    const cfg = prithviTiny()
    const a = randomWeights(cfg, 42)
    const b = randomWeights(cfg, 42)
    const c = randomWeights(cfg, 43)
    expect(a.size).toBe(paramSpecs(cfg).length + 2)
    expect(maxAbsDiff(a.get('blocks.0.attn.qkv.weight')!.data, b.get('blocks.0.attn.qkv.weight')!.data)).toBe(0)
    expect(maxAbsDiff(a.get('blocks.0.attn.qkv.weight')!.data, c.get('blocks.0.attn.qkv.weight')!.data)).toBeGreaterThan(0)
    const bound = Math.sqrt(6 / (32 + 96))
    expect(Math.max(...a.get('blocks.0.attn.qkv.weight')!.data.map(Math.abs))).toBeLessThanOrEqual(bound)
    expect(a.get('blocks.0.attn.qkv.bias')!.data.every((v) => v === 0)).toBe(true)
    expect(a.get('blocks.0.norm1.weight')!.data.every((v) => v === 1)).toBe(true)
    expect(Math.max(...a.get('cls_token')!.data.map(Math.abs))).toBeLessThan(0.1)
    expect(maxAbsDiff(a.get('pos_embed')!.data, f32(fx.pos_embed.encoder).data)).toBeLessThanOrEqual(1e-6)
    const model = PrithviMAE.fromWeights(tf, cfg, a)
    const x = tf.randomNormal([1, 6, 1, 32, 32])
    const out = model.forwardMae(x, 0.75)
    expect(Number.isFinite(out.loss.dataSync()[0])).toBe(true)
    expect(tf.tidy(() => tf.sum(out.mask).dataSync()[0])).toBe(12)
    tf.dispose([x, out.loss, out.pred, out.mask, out.idsRestore])
    model.dispose()
  })

  it('encoder-only models need no decoder weights and refuse MAE calls', () => {
    const w: WeightMap = studyWeights()
    for (const k of [...w.keys()]) if (k.startsWith('decoder') || k === 'mask_token') w.delete(k)
    const model = PrithviMAE.fromWeights(tf, prithviTiny(), w, { decoder: false })
    const x = tf.zeros([1, 6, 1, 32, 32])
    const enc = model.forwardEncoder(x, 0)
    expect(enc.latent.shape).toEqual([1, 17, 32])
    expect(() => model.forwardMae(x)).toThrow('built without decoder')
    expect(() => model.forwardEncoder(tf.zeros([1, 3, 1, 32, 32]), 0)).toThrow('input has shape [1, 3, 1, 32, 32], expected [N, 6, 1, 32, 32]')
    tf.dispose([x, enc.latent, enc.mask, enc.idsRestore])
    model.dispose()
    expect(() => model.forwardEncoder(x, 0)).toThrow('disposed')
  })

  it('masking: int(L * (1 - ratio)) kept, ascending noise kept first, seeded noise reproducible', () => {
    expect(keepCount(196, 0.75)).toBe(49)
    expect(keepCount(16, 0.5)).toBe(8)
    expect(() => keepCount(16, 1)).toThrow('mask ratio')
    const plan = planMasking(1, 4, 0.5, [0.9, 0.1, 0.5, 0.3])
    expect(Array.from(plan.idsShuffle)).toEqual([1, 3, 2, 0])
    expect(Array.from(plan.idsRestore)).toEqual([3, 0, 2, 1])
    expect(Array.from(plan.mask)).toEqual([1, 0, 1, 0])
    expect(prithvi100m().num_frames).toBe(1)
  })
})

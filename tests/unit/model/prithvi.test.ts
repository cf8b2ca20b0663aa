// PyTorch parity of the tfjs Prithvi MAE on the cpu, wasm and (where an adapter exists) webgpu backends, against the fixtures written by
// tests/fixtures/prithvi/make_fixtures.py (tiny model, num_frames=1 as in the study, plus 3 frames).

import type { Tensor } from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prithviTiny } from '@engine/model/config'
import { PrithviMAE } from '@engine/model/prithvi'
import { sincos3dPosEmbed } from '@engine/model/posEmbed'
import { loadTf, type Tf } from '@engine/tf/backend'
import { withWebGpu } from '../../support/webgpu'
import { f32, fixtureWeights, i32, loadFixture, maxAbsDiff, studyWeights } from './fixture'

const TOL = 1e-4
const fx = loadFixture()

describe('fixture', () => {
  it('matches the presets and the real HLS statistics', async () => {
    const { PRITHVI_HLS_STATS } = await import('@engine/model/config')
    const { num_frames: _f, ...tinyRest } = prithviTiny()
    const { num_frames: _g, ...fxRest } = fx.config
    expect(fxRest).toEqual(tinyRest)
    expect(fx.config.num_frames).toBe(1)
    expect(fx.config_pretrained.num_frames).toBe(3)
    expect(fx.stats.mean).toEqual(PRITHVI_HLS_STATS.mean)
    expect(fx.stats.std).toEqual(PRITHVI_HLS_STATS.std)
    expect(fx.layer_norm_eps).toBe(1e-5)
  })

  it('pos embeds are computed exactly as the official get_3d_sincos_pos_embed (1 and 3 frames)', () => {
    const cases: [ReturnType<typeof f32>, number, [number, number, number]][] = [
      [f32(fx.pos_embed.encoder), 32, [1, 4, 4]],
      [f32(fx.pos_embed.decoder), 16, [1, 4, 4]],
      [f32(fx.weights.pos_embed!), 32, [3, 4, 4]],
      [f32(fx.weights.decoder_pos_embed!), 16, [3, 4, 4]]
    ]
    for (const [want, dim, grid] of cases) {
      const got = sincos3dPosEmbed(dim, grid, true)
      expect(want.shape).toEqual([1, 1 + grid[0] * grid[1] * grid[2], dim])
      expect(maxAbsDiff(got, want.data)).toBeLessThanOrEqual(1e-6)
    }
  })
})

describe.each(withWebGpu(['cpu', 'wasm'] as const))('PrithviMAE on %s', (backend) => {
  let tf: Tf
  let model: PrithviMAE
  let model3: PrithviMAE
  const cfg = prithviTiny()
  const noise = f32(fx.inputs.noise).data
  // data(), not dataSync(): WebGPU has no synchronous read in Node.
  const read = async (t: Tensor): Promise<Float32Array> => (await t.data()) as Float32Array

  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
    expect(tf.getBackend()).toBe(backend)
    model = PrithviMAE.fromWeights(tf, cfg, studyWeights())
    model3 = PrithviMAE.fromWeights(tf, prithviTiny({ num_frames: 3 }), fixtureWeights())
  })

  afterAll(() => {
    model?.dispose()
    model3?.dispose()
  })

  const input = (a = fx.inputs.x) => {
    const d = f32(a)
    return tf.tensor(d.data, d.shape)
  }

  it('patchify / unpatchify round trip and (tub p q c) order', async () => {
    const x = tf.tensor(Float32Array.from({ length: 2 * 6 * 3 * 32 * 32 }, (_, i) => i), [2, 6, 3, 32, 32])
    const p = model3.patchify(x)
    expect(p.shape).toEqual([2, 48, 384])
    const pd = await read(p)
    // element (b=1, l=(t=2, h=1, w=3), k=(tub=0, p=5, q=7, c=4)) comes from imgs[1, 4, 2, 1*8+5, 3*8+7]
    const l = (2 * 4 + 1) * 4 + 3
    const k = (5 * 8 + 7) * 6 + 4
    expect(pd[(1 * 48 + l) * 384 + k]).toBe((((1 * 6 + 4) * 3 + 2) * 32 + 13) * 32 + 31)
    const back = model3.unpatchify(p)
    expect(back.shape).toEqual([2, 6, 3, 32, 32])
    expect(maxAbsDiff(await read(back), await read(x))).toBe(0)
    tf.dispose([x, p, back])
  })

  it('random masking keeps the same tokens as torch (mask, ids_restore)', async () => {
    for (const ratio of [0, 0.5] as const) {
      const want = fx.encoder[ratio === 0 ? 'ratio0' : 'ratio05']
      const plan = model.randomMasking(2, ratio, noise)
      expect(Array.from(plan.idsRestore)).toEqual(Array.from(i32(want.ids_restore).data))
      expect(Array.from(plan.mask)).toEqual(Array.from(f32(want.mask).data))
      expect(plan.lenKeep).toBe(ratio === 0 ? 16 : 8)
    }
  })

  it('encoder features match (mask ratio 0 and 0.5 with the given noise)', async () => {
    const x = input()
    for (const key of ['ratio0', 'ratio05'] as const) {
      const want = fx.encoder[key]
      const out = model.forwardEncoder(x, want.mask_ratio, noise)
      expect(out.latent.shape).toEqual(want.latent.shape)
      expect(maxAbsDiff(await read(out.latent), f32(want.latent).data)).toBeLessThanOrEqual(TOL)
      expect(Array.from((await out.mask.data()))).toEqual(Array.from(f32(want.mask).data))
      expect(Array.from((await out.idsRestore.data()))).toEqual(Array.from(i32(want.ids_restore).data))
      tf.dispose([out.latent, out.mask, out.idsRestore])
    }
    x.dispose()
  })

  it('forwardDecoder on the encoder output reproduces pred; noise may be a tensor', async () => {
    const x = input()
    const noiseT = tf.tensor2d(noise, [2, 16])
    const enc = model.forwardEncoder(x, fx.mae.mask_ratio, noiseT)
    const pred = model.forwardDecoder(enc.latent, enc.idsRestore)
    expect(pred.shape).toEqual([2, 16, 384])
    expect(maxAbsDiff(await read(pred), f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
    tf.dispose([x, noiseT, enc.latent, enc.mask, enc.idsRestore, pred])
  })

  it('mask ratio 0 without noise gives the same features in patch order', async () => {
    const x = input()
    const out = model.forwardEncoder(x, 0)
    const want = f32(fx.encoder.ratio0.latent).data // [2, 17, 32], kept tokens in noise order
    const ids = i32(fx.encoder.ratio0.ids_restore).data
    const got = await read(out.latent)
    const D = 32
    let m = 0
    for (let n = 0; n < 2; n++) {
      m = Math.max(m, maxAbsDiff(got.subarray(n * 17 * D, n * 17 * D + D), want.subarray(n * 17 * D, n * 17 * D + D)))
      for (let tok = 0; tok < 16; tok++) {
        const src = (n * 17 + 1 + ids[n * 16 + tok]!) * D
        const dst = (n * 17 + 1 + tok) * D
        m = Math.max(m, maxAbsDiff(got.subarray(dst, dst + D), want.subarray(src, src + D)))
      }
    }
    expect(m).toBeLessThanOrEqual(TOL)
    tf.dispose([x, out.latent, out.mask, out.idsRestore])
  })

  it('MAE loss, pred and mask match (mask ratio 0.5), also with norm_pix_loss', async () => {
    const x = input()
    const out = model.forwardMae(x, fx.mae.mask_ratio, noise)
    expect(out.pred.shape).toEqual(fx.mae.pred.shape)
    expect(maxAbsDiff(await read(out.pred), f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
    expect(Math.abs((await out.loss.data())[0]! - fx.mae.loss)).toBeLessThanOrEqual(TOL)
    expect(Array.from((await out.mask.data()))).toEqual(Array.from(f32(fx.mae.mask).data))
    expect(Array.from((await out.idsRestore.data()))).toEqual(Array.from(i32(fx.mae.ids_restore).data))
    const normPix = PrithviMAE.fromWeights(tf, { ...cfg, norm_pix_loss: true }, studyWeights())
    const l2 = normPix.forwardLoss(x, out.pred, out.mask)
    expect(Math.abs((await l2.data())[0]! - fx.mae.loss_norm_pix)).toBeLessThanOrEqual(TOL)
    normPix.dispose()
    tf.dispose([x, out.loss, out.pred, out.mask, out.idsRestore, l2])
  })

  it('3-frame model (as pre-trained) matches: temporal patchify and pos embed', async () => {
    const x = input(fx.frames3.x)
    const out = model3.forwardMae(x, fx.frames3.mask_ratio, f32(fx.frames3.noise).data)
    expect(maxAbsDiff(await read(out.pred), f32(fx.frames3.pred).data)).toBeLessThanOrEqual(TOL)
    expect(Math.abs((await out.loss.data())[0]! - fx.frames3.loss)).toBeLessThanOrEqual(TOL)
    expect(Array.from((await out.idsRestore.data()))).toEqual(Array.from(i32(fx.frames3.ids_restore).data))
    tf.dispose([x, out.loss, out.pred, out.mask, out.idsRestore])
  })

  it.each(['means', 'prenorm_dup', 'postnorm_dup'] as const)('imputation "%s": loss, pred and RGB loss match', async (method) => {
    const c = fx.imputation[method]
    const x = input(c.input)
    const out = model.forwardMae(x, fx.imputation.mask_ratio, f32(fx.imputation.noise).data)
    expect(maxAbsDiff(await read(out.pred), f32(c.pred).data)).toBeLessThanOrEqual(TOL)
    expect(Math.abs((await out.loss.data())[0]! - c.loss)).toBeLessThanOrEqual(TOL)
    const rgb = model.forwardLoss(x, out.pred, out.mask, { channels: [0, 1, 2] })
    expect(Math.abs((await rgb.data())[0]! - c.rgb_loss)).toBeLessThanOrEqual(TOL)
    tf.dispose([x, out.loss, out.pred, out.mask, out.idsRestore, rgb])
  })

  it('leaks no tensors across forward calls', async () => {
    const x = input()
    const decoderInput = model.forwardEncoder(x, 0.5, noise)
    const before = tf.memory().numTensors
    for (let i = 0; i < 2; i++) {
      const e = model.forwardEncoder(x, 0.5, noise)
      const e0 = model.forwardEncoder(x, 0)
      const pred = model.forwardDecoder(decoderInput.latent, decoderInput.idsRestore)
      const m = model.forwardMae(x, 0.75)
      const l = model.forwardLoss(x, m.pred, m.mask, { channels: [0, 1, 2] })
      const p = model.patchify(x)
      const u = model.unpatchify(p)
      tf.dispose([e.latent, e.mask, e.idsRestore, e0.latent, e0.mask, e0.idsRestore, pred, m.loss, m.pred, m.mask, m.idsRestore, l, p, u])
    }
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, decoderInput.latent, decoderInput.mask, decoderInput.idsRestore])
  })
})

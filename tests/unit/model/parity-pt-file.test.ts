// The whole chain a user runs, against PyTorch: the torch.save'd tiny_prithvi.pt (written by
// tests/fixtures/prithvi/make_fixtures.py from an independent re-implementation of the official
// Prithvi MAE, pre-trained shape num_frames = 3) is read by our .pt reader with num_frames = 1,
// then run on TensorFlow.js and, exported to ONNX, on ONNX Runtime. Tolerance: max |diff| ≤ 1e-4.
import { beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { loadCheckpoint, assertLoadable, type LoadedCheckpoint } from '@engine/checkpoint'
import { PrithviMAE } from '@engine/model/prithvi'
import { loadTf, type Tf } from '@engine/tf/backend'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { createSession, run } from '@engine/onnx/runtime'
import { f32, i32, loadFixture, maxAbsDiff } from './fixture'

const TOL = 1e-4
const PT = fileURLToPath(new URL('../../fixtures/prithvi/tiny_prithvi.pt', import.meta.url))
const fx = loadFixture()
let ckpt: LoadedCheckpoint
let tf: Tf

beforeAll(async () => {
  ckpt = await loadCheckpoint(PT, { numFrames: 1 })
  assertLoadable(ckpt.report)
  tf = (await loadTf({ prefer: 'wasm' })).tf
})

describe('tiny_prithvi.pt (torch.save) → our reader → tfjs and ONNX Runtime vs PyTorch', () => {
  it('reads the pre-trained 3-frame checkpoint for 1 frame, recomputing the position tables', () => {
    expect(ckpt.config.num_frames).toBe(1)
    expect(ckpt.report.ignored.sort()).toEqual(['decoder_pos_embed', 'pos_embed'])
    expect(ckpt.report.missing).toEqual([])
    for (const [name, w] of ckpt.weights) {
      const ref = fx.weights[name]
      expect(ref, name).toBeDefined()
      expect(maxAbsDiff(w.data, f32(ref!).data), name).toBe(0)
    }
  })

  it('gives PyTorch’s encoder features, MAE loss and predictions on TensorFlow.js', () => {
    const cfg = { ...fx.config }
    const model = PrithviMAE.fromWeights(tf, cfg, ckpt.weights, { decoder: true })
    const x = f32(fx.inputs.x)
    const noise = f32(fx.inputs.noise).data
    tf.tidy(() => {
      const input = tf.tensor(x.data, x.shape)
      const enc = model.forwardEncoder(input, 0.5, noise)
      expect(maxAbsDiff(enc.latent.dataSync(), f32(fx.encoder.ratio05.latent).data)).toBeLessThanOrEqual(TOL)
      const mae = model.forwardMae(input, fx.mae.mask_ratio, noise)
      expect(Math.abs(mae.loss.dataSync()[0]! - fx.mae.loss)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(mae.pred.dataSync(), f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
      const mask = fx.mae.mask.dtype === 'float32' ? f32(fx.mae.mask).data : i32(fx.mae.mask as never).data
      expect(maxAbsDiff(mae.mask.dataSync(), mask)).toBe(0)
    })
    model.dispose()
  })

  it('gives the same numbers on ONNX Runtime (exported MAE graph, mask noise as an input)', async () => {
    const bytes = exportPrithviOnnx(fx.config, ckpt.weights, 'mae', { maskRatio: fx.mae.mask_ratio })
    const session = await createSession(bytes, { device: 'cpu' })
    try {
      const x = f32(fx.inputs.x)
      const noise = f32(fx.inputs.noise)
      const out = await run(session, { pixels: { data: x.data, shape: x.shape }, noise: { data: noise.data, shape: noise.shape } })
      expect(Math.abs(out.loss!.data[0]! - fx.mae.loss)).toBeLessThanOrEqual(TOL)
      expect(maxAbsDiff(out.pred!.data, f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
    } finally {
      await session.release()
    }
  })

  it('agrees between ONNX Runtime and TensorFlow.js on the encoder graph (mask ratio 0)', async () => {
    const x = f32(fx.inputs.x)
    const model = PrithviMAE.fromWeights(tf, fx.config, ckpt.weights, { decoder: false })
    const tfjs = tf.tidy(() => model.forwardEncoder(tf.tensor(x.data, x.shape), 0).latent.dataSync())
    model.dispose()
    const session = await createSession(exportPrithviOnnx(fx.config, ckpt.weights, 'encoder'), { device: 'cpu' })
    try {
      const out = await run(session, { pixels: { data: x.data, shape: x.shape } })
      expect(maxAbsDiff(out.features!.data, tfjs)).toBeLessThanOrEqual(TOL)
    } finally {
      await session.release()
    }
  })
})

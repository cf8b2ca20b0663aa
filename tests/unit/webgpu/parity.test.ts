// The tiny Prithvi MAE on WebGPU with every fused kernel against the PyTorch fixtures
// (tests/unit/model/fixture.ts), within the same 1e-4 as the cpu and wasm parity tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prithviTiny } from '@engine/model/config'
import { PrithviMAE } from '@engine/model/prithvi'
import type { Tf } from '@engine/tf/backend'
import { fusedWebGpu } from '@engine/tf/webgpu-kernels'
import { f32, i32, loadFixture, maxAbsDiff, studyWeights } from '../model/fixture'
import { noAdapter, read, webgpuTf } from './helpers'

const TOL = 1e-4
const fx = loadFixture()

describe.skipIf(noAdapter)('PrithviMAE on WebGPU (fused kernels) vs PyTorch', () => {
  let tf: Tf
  let model: PrithviMAE
  const noise = f32(fx.inputs.noise).data
  const input = () => {
    const d = f32(fx.inputs.x)
    return tf.tensor(d.data, d.shape)
  }

  beforeAll(async () => {
    tf = await webgpuTf()
    expect(fusedWebGpu(tf)).toBe(true)
    model = PrithviMAE.fromWeights(tf, prithviTiny(), studyWeights())
  })
  afterAll(() => model?.dispose())

  it('encoder features (mask ratio 0 and 0.5) match', async () => {
    const x = input()
    for (const key of ['ratio0', 'ratio05'] as const) {
      const want = fx.encoder[key]
      const out = model.forwardEncoder(x, want.mask_ratio, noise)
      expect(out.latent.shape).toEqual(want.latent.shape)
      const [latent, ids] = await read([out.latent, out.idsRestore])
      expect(maxAbsDiff(latent!, f32(want.latent).data)).toBeLessThanOrEqual(TOL)
      expect(Array.from(ids!)).toEqual(Array.from(i32(want.ids_restore).data))
      out.mask.dispose()
    }
    x.dispose()
  })

  it('MAE loss, pred and mask (mask ratio 0.5) match', async () => {
    const x = input()
    const out = model.forwardMae(x, fx.mae.mask_ratio, noise)
    const [pred, loss, mask] = await read([out.pred, out.loss, out.mask])
    expect(maxAbsDiff(pred!, f32(fx.mae.pred).data)).toBeLessThanOrEqual(TOL)
    expect(Math.abs(loss![0]! - fx.mae.loss)).toBeLessThanOrEqual(TOL)
    expect(Array.from(mask!)).toEqual(Array.from(f32(fx.mae.mask).data))
    tf.dispose([x, out.idsRestore])
  })
})

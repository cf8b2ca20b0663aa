// Gradient sanity of the tfjs Prithvi MAE on cpu and wasm: every trainable variable gets a finite
// gradient, finite differences agree for single parameters and along a random direction, and the
// hand-written customGrad ops agree with tfjs autodiff of the plain formulas.

import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prithviTiny } from '@engine/model/config'
import { bmm, gelu, layerNorm, linear } from '@engine/model/ops'
import { PrithviMAE } from '@engine/model/prithvi'
import { seededNormal } from '@shared/random'
import { loadTf, type Tf } from '@engine/tf/backend'
import { f32, loadFixture, maxAbsDiff, studyWeights } from './fixture'

const fx = loadFixture()

/** erf in float64 (series below 3, continued fraction above) for accuracy checks. */
function erf64(x: number): number {
  const ax = Math.abs(x)
  let r: number
  if (ax < 3) {
    let sum = 0
    let term = ax
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1)
      term *= (-ax * ax) / (n + 1)
      if (Math.abs(term) < 1e-17) break
    }
    r = (2 / Math.sqrt(Math.PI)) * sum
  } else {
    let f = 0
    for (let k = 80; k >= 1; k--) f = k / 2 / (ax + f)
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f)
  }
  return x < 0 ? -r : r
}

describe.each(['cpu', 'wasm'] as const)('gradients on %s', (backend) => {
  let tf: Tf
  let model: PrithviMAE
  let x: Tensor
  const noise = f32(fx.inputs.noise).data

  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
    model = PrithviMAE.fromWeights(tf, prithviTiny(), studyWeights())
    const d = f32(fx.inputs.x)
    x = tf.tensor(d.data, d.shape)
  })

  afterAll(() => {
    model?.dispose()
    x?.dispose()
  })

  const lossValue = (): number => tf.tidy(() => model.forwardMae(x, 0.5, noise).loss.dataSync()[0]!)

  const gradients = () => tf.variableGrads(() => model.forwardMae(x, 0.5, noise).loss as Scalar, model.trainableVariables())

  it('every trainable variable gets a finite, non-zero gradient; no tensors leak', () => {
    const before = tf.memory().numTensors
    const { value, grads } = gradients()
    const vars = model.trainableVariables()
    expect(Object.keys(grads).length).toBe(vars.length)
    for (const v of vars) {
      const g = grads[v.name]
      expect(g, v.name).toBeDefined()
      expect(g!.shape).toEqual(v.shape)
      const data = g!.dataSync()
      expect(data.every(Number.isFinite), v.name).toBe(true)
      expect(data.some((e) => e !== 0), v.name).toBe(true)
    }
    tf.dispose([value, ...Object.values(grads)])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('matches central finite differences for single parameters', () => {
    const { value, grads } = gradients()
    const names = [
      'patch_embed.proj.weight',
      'cls_token',
      'blocks.0.attn.qkv.weight',
      'blocks.0.mlp.fc2.weight',
      'blocks.1.norm1.bias',
      'norm.weight',
      'decoder_embed.weight',
      'mask_token',
      'decoder_blocks.0.mlp.fc1.bias',
      'decoder_norm.weight',
      'decoder_pred.weight'
    ]
    const eps = 1e-2
    for (const name of names) {
      const v = model.variable(name)
      const g = grads[v.name]!.dataSync()
      // The entry with the largest gradient, so float32 round-off stays far below the signal.
      let index = 0
      g.forEach((e, i) => (Math.abs(e) > Math.abs(g[index]!) ? (index = i) : 0))
      const analytic = g[index]!
      const orig = v.dataSync().slice() as Float32Array
      const shifted = (delta: number): number => {
        const d = orig.slice()
        d[index] = d[index]! + delta
        tf.tidy(() => v.assign(tf.tensor(d, v.shape)))
        return lossValue()
      }
      const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
      tf.tidy(() => v.assign(tf.tensor(orig, v.shape)))
      expect(Math.abs(numeric - analytic), `${name}[${index}]: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(2e-5 + 1e-2 * Math.abs(analytic))
    }
    tf.dispose([value, ...Object.values(grads)])
  })

  it('matches the finite difference along a direction in all parameters at once', () => {
    const { value, grads } = gradients()
    const vars = model.trainableVariables()
    const normal = seededNormal(11)
    // direction = gradient + equally large random noise per variable (so a wrong gradient anywhere shows)
    const dirs = vars.map((v) => {
      const g = grads[v.name]!.dataSync() as Float32Array
      const rms = Math.sqrt(g.reduce((a, e) => a + e * e, 0) / g.length)
      return Float32Array.from(g, (e) => e + rms * normal())
    })
    let analytic = 0
    let norm2 = 0
    vars.forEach((v, i) => {
      const g = grads[v.name]!.dataSync()
      for (let k = 0; k < g.length; k++) {
        analytic += g[k]! * dirs[i]![k]!
        norm2 += dirs[i]![k]! ** 2
      }
    })
    const originals = vars.map((v) => v.dataSync().slice() as Float32Array)
    const moveAll = (step: number) =>
      tf.tidy(() => vars.forEach((v: Variable, i) => v.assign(tf.tensor(originals[i]!.map((o, k) => o + step * dirs[i]![k]!), v.shape))))
    const eps = 1e-2 / Math.sqrt(norm2)
    moveAll(eps)
    const up = lossValue()
    moveAll(-eps)
    const down = lossValue()
    moveAll(0)
    const numeric = (up - down) / (2 * eps)
    expect(Math.abs(numeric - analytic), `numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(3e-3 * Math.abs(analytic))
    expect(lossValue()).toBeCloseTo(value.dataSync()[0]!, 6)
    tf.dispose([value, ...Object.values(grads)])
  })

  it('customGrad ops agree with autodiff of the plain formulas', () => {
    const before = tf.memory().numTensors
    tf.tidy(() => {
      const normal = seededNormal(5)
      const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal()), shape)
      const x = rand([2, 5, 8]) as Tensor3D
      const w = rand([8, 6]) as Tensor2D
      const b = rand([6]) as Tensor1D
      const lw = rand([8]) as Tensor1D
      const lb = rand([8]) as Tensor1D
      const a3 = rand([3, 4, 5]) as Tensor3D
      const b3 = rand([3, 5, 2]) as Tensor3D
      const compare = (mine: (...t: Tensor[]) => Tensor, plain: (...t: Tensor[]) => Tensor, inputs: Tensor[]) => {
        const weight = rand(mine(...inputs).shape)
        const g1 = tf.grads((...t: Tensor[]) => tf.sum(tf.mul(mine(...t), weight)))(inputs)
        const g2 = tf.grads((...t: Tensor[]) => tf.sum(tf.mul(plain(...t), weight)))(inputs)
        expect(maxAbsDiff(mine(...inputs).dataSync(), plain(...inputs).dataSync())).toBeLessThanOrEqual(1e-5)
        g1.forEach((g, i) => expect(maxAbsDiff(g.dataSync(), g2[i]!.dataSync())).toBeLessThanOrEqual(1e-4))
      }
      compare((xi, wi, bi) => linear(tf, xi!, wi as Tensor2D, bi as Tensor1D), (xi, wi, bi) => tf.add(tf.matMul(xi as Tensor3D, tf.tile(tf.expandDims(wi!, 0), [2, 1, 1]) as Tensor3D), bi!), [x, w, b])
      compare(
        (xi, wi, bi) => layerNorm(tf, xi!, wi as Tensor1D, bi as Tensor1D, 1e-5),
        (xi, wi, bi) => {
          const { mean, variance } = tf.moments(xi!, -1, true)
          return tf.add(tf.mul(tf.div(tf.sub(xi!, mean), tf.sqrt(tf.add(variance, 1e-5))), wi!), bi!)
        },
        [x, lw, lb]
      )
      compare((xi) => gelu(tf, xi!), (xi) => tf.mul(tf.mul(xi!, 0.5), tf.add(1, tf.erf(tf.div(xi!, Math.SQRT2)))), [x])
      compare((ai, bi) => bmm(tf, ai as Tensor3D, bi as Tensor3D), (ai, bi) => tf.matMul(ai as Tensor3D, bi as Tensor3D), [a3, b3])
    })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('erf (hence exact GELU) is accurate to well under 1e-6', () => {
    const xs = Float32Array.from({ length: 24001 }, (_, i) => -6 + i * 5e-4)
    const got = tf.tidy(() => tf.erf(tf.tensor1d(xs)).dataSync())
    let worst = 0
    xs.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - erf64(v)))))
    expect(worst).toBeLessThan(backend === 'cpu' ? 2.5e-7 : 1e-7)
  })
})

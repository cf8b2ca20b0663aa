// The fused WebGPU kernels (src/engine/tf/webgpu-kernels.ts) against the unfused tfjs ops on the
// same adapter (forward and gradients, tolerance 1e-5: absolute on O(1) values, relative to the
// largest value for column sums over many rows), GELU against a
// float64 reference (1e-6 absolute), and the mask gather against the one-hot matmul it replaces.
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Tf } from '@engine/tf/backend'
import { bmm, gatherRows, gelu, layerNorm, linear } from '@engine/model/ops'
import { attention, type BlockParams } from '@engine/model/blocks'
import { keepMatrix, maskIndices, planMasking, restoreMatrix } from '@engine/model/masking'
import { patchify, unpatchify } from '@engine/model/patchify'
import { setDirectDispatch, webgpuSoftmaxGrad } from '@engine/tf/webgpu-kernels'
import { maxAbsDiff, noAdapter, onBackend, randomArray, read, scaledDiff, webgpuTf, withFused } from './helpers'

const TOL = 1e-5

/** erf in float64 (series below 3, continued fraction above). */
function erf64(x: number): number {
  const ax = Math.abs(x)
  let r: number
  if (ax < 3) {
    let sum = 0
    let term = ax
    for (let n = 0; n < 300; n++) {
      sum += term / (2 * n + 1)
      term *= (-ax * ax) / (n + 1)
      if (Math.abs(term) < 1e-18) break
    }
    r = (2 / Math.sqrt(Math.PI)) * sum
  } else {
    let f = 0
    for (let k = 100; k >= 1; k--) f = k / 2 / (ax + f)
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f)
  }
  return x < 0 ? -r : r
}

describe.skipIf(noAdapter)('fused WebGPU kernels', () => {
  let tf: Tf
  beforeAll(async () => {
    tf = await webgpuTf()
  })

  /** Value and gradients (w.r.t. every input) of sum(f(inputs) * r), fused or not. */
  function valueAndGrads(fused: boolean, f: (...x: Tensor[]) => Tensor, inputs: Tensor[], r: Tensor): Promise<Float32Array[]> {
    const out = withFused(fused, () =>
      tf.tidy(() => {
        const y = f(...inputs)
        const grads = tf.grads((...x: Tensor[]) => tf.sum(tf.mul(f(...x), r)))(inputs)
        return [y, ...grads]
      })
    )
    return read(out)
  }

  it.each([
    [[3, 5, 40], 1e-5],
    [[2, 7, 150], 1e-6],
    [[1, 200], 1e-5],
    [[70000, 3], 1e-5] // more rows than one dispatch dimension allows (65535): the backend folds it into 2-D
  ])('LayerNorm %j (eps %s): forward, dx, dw, db equal the unfused ops within 1e-5', async (shape, eps) => {
    const d = shape[shape.length - 1]!
    const n = shape.reduce((a, b) => a * b, 1)
    const x = tf.tensor(randomArray(n, 1, -3, 5), shape)
    const w = tf.tensor1d(randomArray(d, 2, 0.5, 1.5))
    const b = tf.tensor1d(randomArray(d, 3))
    const r = tf.tensor(randomArray(n, 4), shape)
    const f = (xi: Tensor, wi: Tensor, bi: Tensor) => layerNorm(tf, xi, wi as Tensor1D, bi as Tensor1D, eps)
    const fused = await valueAndGrads(true, f, [x, w, b], r)
    setDirectDispatch(false) // the fallback: statistics and affine, dw and db as separate programs
    const twoPrograms = await valueAndGrads(true, f, [x, w, b], r).finally(() => setDirectDispatch(true))
    const plain = await valueAndGrads(false, f, [x, w, b], r)
    for (let i = 0; i < 4; i++) expect(scaledDiff(fused[i]!, plain[i]!), ['y', 'dx', 'dw', 'db'][i]).toBeLessThan(TOL)
    for (let i = 0; i < 4; i++) expect(scaledDiff(twoPrograms[i]!, plain[i]!), `fallback ${['y', 'dx', 'dw', 'db'][i]}`).toBeLessThan(TOL)
    // The check can fail: the outputs are not trivially zero.
    expect(Math.max(...plain[3]!.map(Math.abs))).toBeGreaterThan(0.1)
    tf.dispose([x, w, b, r])
  })

  it('linear (bias in the matMul, transpose flags in the backward) and bmm equal the unfused ops within 1e-5', async () => {
    const x = tf.tensor3d(randomArray(2 * 9 * 12, 13), [2, 9, 12])
    const w = tf.tensor2d(randomArray(12 * 7, 14), [12, 7])
    const b = tf.tensor1d(randomArray(7, 15))
    const r = tf.tensor3d(randomArray(2 * 9 * 7, 16), [2, 9, 7])
    const f = (xi: Tensor, wi: Tensor, bi: Tensor) => linear(tf, xi, wi as Tensor2D, bi as Tensor1D)
    const fused = await valueAndGrads(true, f, [x, w, b], r)
    const plain = await valueAndGrads(false, f, [x, w, b], r)
    for (let i = 0; i < 4; i++) expect(scaledDiff(fused[i]!, plain[i]!), ['y', 'dx', 'dw', 'db'][i]).toBeLessThan(TOL)
    const y = tf.tensor3d(randomArray(2 * 12 * 5, 17), [2, 12, 5])
    const r2 = tf.tensor3d(randomArray(2 * 9 * 5, 18), [2, 9, 5])
    const g = (xi: Tensor, yi: Tensor) => bmm(tf, xi as Tensor3D, yi as Tensor3D)
    const fusedB = await valueAndGrads(true, g, [x, y], r2)
    const plainB = await valueAndGrads(false, g, [x, y], r2)
    for (let i = 0; i < 3; i++) expect(scaledDiff(fusedB[i]!, plainB[i]!), ['z', 'dx', 'dy'][i]).toBeLessThan(TOL)
    expect(Math.max(...plain[2]!.map(Math.abs))).toBeGreaterThan(0.1)
    tf.dispose([x, w, b, r, y, r2])
  })

  it.each([
    [2, 5, 4, 16], // N, S, heads, D
    [1, 70, 3, 24] // S above the row kernels' 64 threads
  ])('attention (N %i, S %i, %i heads, D %i): output and gradients (x, qkv, proj) equal the unfused ops within 1e-5', async (n, s, heads, d) => {
    const x = tf.tensor3d(randomArray(n * s * d, 19), [n, s, d])
    const qkvW = tf.tensor2d(randomArray(d * 3 * d, 20, -0.5, 0.5), [d, 3 * d])
    const qkvB = tf.tensor1d(randomArray(3 * d, 21))
    const projW = tf.tensor2d(randomArray(d * d, 22), [d, d])
    const projB = tf.tensor1d(randomArray(d, 23))
    const r = tf.tensor3d(randomArray(n * s * d, 24), [n, s, d])
    const f = (xi: Tensor, qw: Tensor, qb: Tensor, pw: Tensor, pb: Tensor) => {
      const p = { qkv: { weight: qw, bias: qb }, proj: { weight: pw, bias: pb } } as unknown as BlockParams
      return attention(tf, xi as Tensor3D, p, heads)
    }
    const fused = await valueAndGrads(true, f, [x, qkvW, qkvB, projW, projB], r)
    const plain = await valueAndGrads(false, f, [x, qkvW, qkvB, projW, projB], r)
    const names = ['y', 'dx', 'dqkv.w', 'dqkv.b', 'dproj.w', 'dproj.b']
    for (let i = 0; i < names.length; i++) expect(scaledDiff(fused[i]!, plain[i]!), names[i]).toBeLessThan(TOL)
    expect(Math.max(...plain[2]!.map(Math.abs))).toBeGreaterThan(0.01) // the attention weights get a gradient
    tf.dispose([x, qkvW, qkvB, projW, projB, r])
  })

  it('GELU: forward and gradient equal the unfused ops within 1e-5', async () => {
    const shape = [4, 9, 33]
    const n = shape.reduce((a, b) => a * b, 1)
    const x = tf.tensor(randomArray(n, 5, -6, 6), shape)
    const r = tf.tensor(randomArray(n, 6), shape)
    const fused = await valueAndGrads(true, (xi) => gelu(tf, xi), [x], r)
    const plain = await valueAndGrads(false, (xi) => gelu(tf, xi), [x], r)
    expect(maxAbsDiff(fused[0]!, plain[0]!)).toBeLessThan(TOL)
    expect(maxAbsDiff(fused[1]!, plain[1]!)).toBeLessThan(TOL)
    tf.dispose([x, r])
  })

  it('dispatches past 65,535 workgroups (folded into 2-D by the backend): GELU on 4.5M values, softmax backward on 70,000 rows', async () => {
    const n = 4_500_000 // > 65535 * 64 threads
    const xs = randomArray(n, 25, -4, 4)
    const x = tf.tensor1d(xs)
    const [fused] = await read([withFused(true, () => gelu(tf, x))])
    // float64 reference on every 997th value and the last 2,000 (the last workgroups)
    let err = 0
    for (let i = 0; i < n; i += i < n - 2000 ? 997 : 1) err = Math.max(err, Math.abs(fused![i]! - xs[i]! * 0.5 * (1 + erf64(xs[i]! / Math.SQRT2))))
    expect(err).toBeLessThan(1e-6)
    const logits = tf.tensor2d(randomArray(70000 * 5, 26, -3, 3), [70000, 5])
    const dy = tf.tensor2d(randomArray(70000 * 5, 27), [70000, 5])
    const [gFused, gPlain] = await read(
      tf.tidy(() => {
        const y = tf.softmax(logits)
        return [webgpuSoftmaxGrad(tf, y, dy), tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), -1, true)))]
      })
    )
    expect(maxAbsDiff(gFused!, gPlain!)).toBeLessThan(TOL)
    expect(Math.max(...gPlain!.subarray(gPlain!.length - 1000).map(Math.abs))).toBeGreaterThan(0.01) // the last rows were written
    tf.dispose([x, logits, dy])
  })

  it('GELU: forward and derivative within 1e-6 absolute of float64 over [-8, 8]', async () => {
    const n = 16001
    const xs = Float32Array.from({ length: n }, (_, i) => -8 + (16 * i) / (n - 1))
    const [y, dx] = (await read(
      withFused(true, () =>
        tf.tidy(() => {
          const x = tf.tensor1d(xs)
          return [gelu(tf, x), tf.grad((xi: Tensor) => tf.sum(gelu(tf, xi)))(x)]
        })
      )
    )) as [Float32Array, Float32Array]
    let errY = 0
    let errD = 0
    for (let i = 0; i < n; i++) {
      const v = xs[i]! // the float32 input, exactly
      const cdf = 0.5 * (1 + erf64(v / Math.SQRT2))
      const pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI)
      errY = Math.max(errY, Math.abs(y[i]! - v * cdf))
      errD = Math.max(errD, Math.abs(dx[i]! - (cdf + v * pdf)))
    }
    console.log(`fused GELU max abs error vs float64 on [-8, 8]: forward ${errY.toExponential(2)}, derivative ${errD.toExponential(2)}`)
    expect(errY).toBeLessThan(1e-6)
    expect(errD).toBeLessThan(1e-6)
  })

  it('mask gather: keep and restore equal the one-hot matmuls, values and gradients', async () => {
    const [n, L, D, ratio] = [3, 16, 24, 0.75]
    const plan = planMasking(n, L, ratio, randomArray(n * L, 7, 0, 1))
    const K = plan.lenKeep
    const { kept, restored } = maskIndices(plan)
    const x = tf.tensor3d(randomArray(n * L * D, 8), [n, L, D])
    const rKeep = tf.tensor3d(randomArray(n * K * D, 9), [n, K, D])
    const rFull = tf.tensor3d(randomArray(n * L * D, 10), [n, L, D])
    const run = (gather: boolean) =>
      tf.tidy(() => {
        const keepOp = (t: Tensor) => (gather ? gatherRows(tf, t as Tensor3D, kept, restored, K) : bmm(tf, tf.tensor3d(keepMatrix(plan), [n, K, L]), t as Tensor3D))
        const restoreOp = (t: Tensor) => (gather ? gatherRows(tf, t as Tensor3D, restored, kept, L) : bmm(tf, tf.tensor3d(restoreMatrix(plan), [n, L, K]), t as Tensor3D))
        const k = keepOp(x)
        const back = restoreOp(k)
        const gk = tf.grad((t: Tensor) => tf.sum(tf.mul(keepOp(t), rKeep)))(x)
        const gr = tf.grad((t: Tensor) => tf.sum(tf.mul(restoreOp(t), rFull)))(k)
        return [k, back, gk, gr]
      })
    const fused = await read(run(true))
    const plain = await read(run(false))
    for (let i = 0; i < 4; i++) expect(maxAbsDiff(fused[i]!, plain[i]!), ['keep', 'restore', 'd keep', 'd restore'][i]).toBeLessThan(1e-6)
    // restore(keep(x)) is x on kept tokens and 0 on removed ones
    const [xs] = (await read([x.clone()])) as [Float32Array]
    const back = fused[1]!
    for (let s = 0; s < n; s++)
      for (let t = 0; t < L; t++) {
        const row = (s * L + t) * D
        expect(back[row]).toBe(plan.mask[s * L + t] === 0 ? xs[row] : 0)
      }
    tf.dispose([x, rKeep, rFull])
  })

  it('patchify / unpatchify of one frame (rank-6 transposes on WebGPU) equal cpu exactly', async () => {
    const shape = [2, 3, 1, 16, 24]
    const data = randomArray(shape.reduce((a, b) => a * b, 1), 12)
    const g = { patchSize: 8, tubeletSize: 1, inChans: 3 }
    const run = () =>
      tf.tidy(() => {
        const p = patchify(tf, tf.tensor(data, shape), g)
        return [p, unpatchify(tf, p, g, [1, 2, 3])]
      })
    const gpu = await read(run())
    const cpu = await onBackend(tf, 'cpu', () => read(run()))
    expect(Array.from(gpu[0]!)).toEqual(Array.from(cpu[0]!))
    expect(Array.from(gpu[1]!)).toEqual(Array.from(data))
  })

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors
    withFused(true, () =>
      tf.tidy(() => {
        const x = tf.tensor2d(randomArray(40, 11), [4, 10])
        const w = tf.ones([10]) as Tensor1D
        const b = tf.zeros([10]) as Tensor1D
        tf.grads((a: Tensor, c: Tensor, e: Tensor) => tf.sum(gelu(tf, layerNorm(tf, a, c as Tensor1D, e as Tensor1D, 1e-5))))([x, w, b])
      })
    )
    expect(tf.memory().numTensors).toBe(before)
  })
})

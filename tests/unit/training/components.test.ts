// Pieces of the training engine: schedules (the study's LambdaLR), the matmul forms of the neck's
// transposed convolution and the head's 3x3 convolution against direct loops, metrics, smoothing,
// derived randomness, sliding windows, and Adam against a hand computation.
import { describe, expect, it, beforeAll } from 'vitest'
import type { Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core'
import { loadTf, type Tf } from '@engine/tf/backend'
import { lrFactor } from '@engine/training/schedule'
import { conv3x3, convTranspose2x2 } from '@engine/training/convs'
import { ConfusionMatrix } from '@engine/training/metrics'
import { deriveSeed, permutation, streamRandom } from '@engine/training/rng'
import { windowStarts } from '@engine/training/evaluate'
import { AdamOptimizer, clipGlobalNorm, globalNorm } from '@engine/training/optimizer'
import { HeadParams, classifierSpecs, classifierForward, headFromProbe } from '@engine/training/heads'
import { fitLogistic, predictLogistic } from '@shared/probe/logistic'
import { seededRandom } from '@shared/random'
import { smoothSeries } from '@shared/training/smoothing'
import { toCsv } from '@shared/csv/write'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { RUN_PRESETS } from '@shared/training/presets'

const sched = (name: 'linear' | 'cosine' | 'poly' | 'constant', warmupSteps: number) => ({ name, warmupSteps, power: 1, minLrRatio: 0 })

describe('learning-rate schedules', () => {
  it("the study's linear warm-up then linear decay (LambdaLR: 0 at the first step)", () => {
    const s = sched('linear', 100)
    expect(lrFactor(s, 0, 300)).toBe(0)
    expect(lrFactor(s, 50, 300)).toBe(0.5)
    expect(lrFactor(s, 100, 300)).toBe(1)
    expect(lrFactor(s, 200, 300)).toBe(0.5)
    expect(lrFactor(s, 300, 300)).toBe(0)
    // The study's 2,000 warm-up steps of 2,000: warm-up all the way.
    expect(lrFactor(sched('linear', 2000), 1999, 2000)).toBeCloseTo(0.9995, 6)
  })
  it('cosine and poly decay to their floor', () => {
    expect(lrFactor(sched('cosine', 0), 0, 100)).toBe(1)
    expect(lrFactor(sched('cosine', 0), 50, 100)).toBeCloseTo(0.5, 12)
    expect(lrFactor(sched('cosine', 0), 100, 100)).toBeCloseTo(0, 12)
    expect(lrFactor({ ...sched('poly', 10), power: 2 }, 55, 100)).toBeCloseTo(0.25, 12)
    expect(lrFactor(sched('constant', 10), 5, 100)).toBe(0.5)
  })
})

describe.each(['wasm', 'cpu'] as const)('convolutions as matrix products on %s', (backend) => {
  let tf: Tf
  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
  })
  const rand = (n: number, seed: number) => {
    const r = streamRandom(seed, 'test')
    return Float32Array.from({ length: n }, () => r() * 2 - 1)
  }

  it('ConvTranspose2d(k=2, s=2) equals the direct definition', () => {
    const [n, h, w, ci, co] = [2, 3, 4, 5, 3]
    const x = rand(n * h * w * ci, 1)
    const wt = rand(ci * 4 * co, 2) // [ci, (a, b, co)]
    const b = rand(co, 3)
    const y = tf.tidy(() => convTranspose2x2(tf, tf.tensor4d(x, [n, h, w, ci]), tf.tensor2d(wt, [ci, 4 * co]), tf.tensor1d(b)).dataSync())
    let worst = 0
    for (let s = 0; s < n; s++)
      for (let i = 0; i < 2 * h; i++)
        for (let j = 0; j < 2 * w; j++)
          for (let c = 0; c < co; c++) {
            const [hi, a, wi, bb] = [Math.floor(i / 2), i % 2, Math.floor(j / 2), j % 2]
            let v = b[c]!
            for (let k = 0; k < ci; k++) v += x[((s * h + hi) * w + wi) * ci + k]! * wt[k * 4 * co + (a * 2 + bb) * co + c]!
            worst = Math.max(worst, Math.abs(v - y[((s * 2 * h + i) * 2 * w + j) * co + c]!))
          }
    expect(worst).toBeLessThan(1e-5)
  })

  it('conv3x3 (padding 1) equals the direct definition, forward and backward', () => {
    const [n, h, w, c, o] = [2, 5, 4, 3, 4]
    const x = rand(n * h * w * c, 4)
    const wt = rand(9 * c * o, 5) // [(ky, kx, c), o]
    const dyv = rand(n * h * w * o, 6)
    const direct = (xv: Float32Array, wv: Float32Array) => {
      const out = new Float64Array(n * h * w * o)
      for (let s = 0; s < n; s++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++)
            for (let q = 0; q < o; q++) {
              let v = 0
              for (let ky = 0; ky < 3; ky++)
                for (let kx = 0; kx < 3; kx++) {
                  const yi = i + ky - 1
                  const xj = j + kx - 1
                  if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue
                  for (let k = 0; k < c; k++) v += xv[((s * h + yi) * w + xj) * c + k]! * wv[((ky * 3 + kx) * c + k) * o + q]!
                }
              out[((s * h + i) * w + j) * o + q] = v
            }
      return out
    }
    const { y, gx, gw } = tf.tidy(() => {
      const xt = tf.tensor4d(x, [n, h, w, c])
      const wtt = tf.tensor2d(wt, [9 * c, o])
      const dy = tf.tensor4d(dyv, [n, h, w, o])
      const y = conv3x3(tf, xt, wtt).dataSync()
      const g = tf.grads((a, b) => tf.sum(tf.mul(conv3x3(tf, a as Tensor4D, b as Tensor2D), dy)))([xt, wtt])
      return { y, gx: g[0]!.dataSync(), gw: g[1]!.dataSync() }
    })
    const ref = direct(x, wt)
    expect(Math.max(...Array.from(ref, (v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-5)
    // d/dx and d/dw of sum(conv * dy) by finite differences of the (linear) direct form.
    const lossOf = (xv: Float32Array, wv: Float32Array) => direct(xv, wv).reduce((s, v, i) => s + v * dyv[i]!, 0)
    for (const idx of [0, 7, 29, 59]) {
      const xp = x.slice()
      xp[idx]! += 1
      expect(gx[idx]!).toBeCloseTo(lossOf(xp, wt) - lossOf(x, wt), 4)
    }
    for (const idx of [0, 11, 50, 107]) {
      const wp = wt.slice()
      wp[idx]! += 1
      expect(gw[idx]!).toBeCloseTo(lossOf(x, wp) - lossOf(x, wt), 4)
    }
  })

  it('Adam follows torch.optim.Adam by hand for two steps, with L2 weight decay', async () => {
    const v = tf.variable(tf.tensor1d([1, -2, 0.5]))
    const opt = new AdamOptimizer(tf, { name: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, [{ name: 'p', variable: v }])
    let p = [1, -2, 0.5]
    const m = [0, 0, 0]
    const s2 = [0, 0, 0]
    for (let t = 1; t <= 2; t++) {
      const g = [0.3, -0.1 * t, 2]
      const grads = new Map([['p', tf.tensor1d(g) as Tensor1D]])
      opt.apply(grads, 0.1)
      grads.get('p')!.dispose()
      p = p.map((pi, i) => {
        const gi = g[i]! + 0.01 * pi
        m[i] = 0.9 * m[i]! + 0.1 * gi
        s2[i] = 0.999 * s2[i]! + 0.001 * gi * gi
        return pi - (0.1 / (1 - 0.9 ** t)) * (m[i]! / (Math.sqrt(s2[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8))
      })
    }
    const got = v.dataSync()
    p.forEach((pi, i) => expect(got[i]!).toBeCloseTo(pi, 5))
    expect(opt.step).toBe(2)
    const a = new Map([['a', tf.tensor1d([3, 4])]])
    const { norm, grads } = clipGlobalNorm(tf, a, 1, await globalNorm(tf, a))
    expect(norm).toBeCloseTo(5, 5)
    expect(Array.from(grads.get('a')!.dataSync())).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0.8, 5)])
    grads.get('a')!.dispose()
    opt.dispose()
    v.dispose()
  })
})

describe('metrics', () => {
  it('binary confusion matrix: accuracy, precision, recall, F1 of the positive class', () => {
    const cm = new ConfusionMatrix(2)
    cm.addAll([1, 1, 1, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 1, 0, 1])
    expect(cm.counts).toEqual([[3, 1], [1, 3]])
    expect(cm.summary(1)).toEqual({ accuracy: 0.75, precision: 0.75, recall: 0.75, f1: 0.75 })
  })
  it('IoU per class, mIoU over present classes, pixel accuracy', () => {
    const cm = new ConfusionMatrix(3)
    cm.addAll([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])
    const iou = cm.iou()
    expect(iou[0]).toBeCloseTo(2 / 3)
    expect(iou[1]).toBeCloseTo(2 / 3)
    expect(Number.isNaN(iou[2]!)).toBe(true)
    expect(cm.meanIou()).toBeCloseTo(2 / 3)
    expect(cm.accuracy()).toBeCloseTo(0.8)
  })
})

describe('classification head start', () => {
  const stats = (x: Float32Array) => {
    const mean = x.reduce((a, v) => a + v, 0) / x.length
    return { mean, std: Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length), max: x.reduce((a, v) => Math.max(a, Math.abs(v)), 0) }
  }
  it("'uniform' is torch nn.Linear's default; 'near-zero' is MAE's fine-tuning head (std 2e-5, bias 0)", async () => {
    const tf = (await loadTf({ prefer: 'cpu' })).tf
    const headOf = (init: 'uniform' | 'near-zero') => new HeadParams(tf, classifierSpecs(512, 5, init), streamRandom(3, 'head-init'))
    const uniform = headOf('uniform')
    const near = headOf('near-zero')
    try {
      const bound = 1 / Math.sqrt(512)
      const u = stats(uniform.get<Tensor2D>('head.weight').dataSync() as Float32Array)
      expect(u.max).toBeLessThanOrEqual(bound)
      expect(u.std).toBeCloseTo(bound / Math.sqrt(3), 3)
      expect(stats(uniform.get<Tensor1D>('head.bias').dataSync() as Float32Array).max).toBeGreaterThan(bound / 4)
      const n = stats(near.get<Tensor2D>('head.weight').dataSync() as Float32Array) // 2,560 draws
      expect(Math.abs(n.mean)).toBeLessThan(2e-6)
      expect(n.std).toBeGreaterThan(1.9e-5)
      expect(n.std).toBeLessThan(2.1e-5)
      expect(Array.from(near.get<Tensor1D>('head.bias').dataSync())).toEqual([0, 0, 0, 0, 0])
      expect(RunConfig.parse({ name: 'x', task: 'classification', model: { demo: true }, data: { kind: 'folder', path: '/d', layout: 'imagefolder' }, steps: 1, batchSize: 1, optimizer: { lr: 1e-4 } }).headInit).toBe('uniform')
    } finally {
      uniform.dispose()
      near.dispose()
    }
  })

  it.each([2, 3])('headFromProbe: the head on raw pooled features gives the probe logits of standardised ones (%i classes)', async (classes) => {
    const tf = (await loadTf({ prefer: 'cpu' })).tf
    const r = seededRandom(classes)
    const n = 60
    const dim = 6
    // Features with unequal means and scales, labels from a noisy linear rule.
    const data = Float32Array.from({ length: n * dim }, (_, i) => (r() - 0.5) * (1 + (i % dim)) + (i % dim) * 0.3)
    const score = (i: number) => data[i * dim]! - 0.5 * data[i * dim + 1]! + 0.3 * (r() - 0.5)
    const labels = Int32Array.from({ length: n }, (_, i) => (classes === 2 ? (score(i) > -0.3 ? 1 : 0) : score(i) < -0.5 ? 0 : score(i) < -0.1 ? 1 : 2))
    const x = { n, dim, data }
    const probe = fitLogistic(x, labels, classes, { classWeight: [1, 2, 0.5].slice(0, classes) })
    const expected = predictLogistic(probe, x) // probabilities, n × classes
    const head = new HeadParams(tf, classifierSpecs(dim, classes, 'linear-probe'), streamRandom(0, 'head-init'))
    try {
      expect(Array.from(head.get<Tensor1D>('head.bias').dataSync()).every((v) => v === 0)).toBe(true)
      head.load(headFromProbe(probe))
      // classifierForward with mean pooling over one patch token: the logits of the raw features.
      const latent = tf.tensor3d(Float32Array.from({ length: n * 2 * dim }, (_, i) => data[Math.floor(i / (2 * dim)) * dim + (i % dim)]!), [n, 2, dim])
      const logits = classifierForward(tf, head, latent, undefined, 'mean').arraySync() as number[][]
      for (let i = 0; i < n; i++) {
        const z = logits[i]!
        const p = classes === 2 ? [1 / (1 + Math.exp(z[0]!)), 1 / (1 + Math.exp(-z[0]!))] : z.map((v) => Math.exp(v) / z.reduce((a, u) => a + Math.exp(u), 0))
        for (let c = 0; c < classes; c++) expect(p[c]!).toBeCloseTo(expected[i * classes + c]!, 5)
      }
      latent.dispose()
    } finally {
      head.dispose()
    }
  })
})

describe('run plumbing', () => {
  it('derived randomness depends only on (seed, stream, index)', () => {
    expect(deriveSeed(1, 'epoch', 3)).toBe(deriveSeed(1, 'epoch', 3))
    expect(deriveSeed(1, 'epoch', 3)).not.toBe(deriveSeed(2, 'epoch', 3))
    expect(deriveSeed(1, 'epoch', 3)).not.toBe(deriveSeed(1, 'step', 3))
    const p = permutation(50, streamRandom(7, 'epoch', 0))
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(Array.from(permutation(50, streamRandom(7, 'epoch', 0)))).toEqual(Array.from(p))
  })
  it('sliding windows cover the image with the last window flush', () => {
    expect(windowStarts(512, 224, 112)).toEqual([0, 112, 224, 288])
    expect(windowStarts(224, 224, 112)).toEqual([0])
  })
  it('smoothing returns new series and leaves the raw one untouched', () => {
    const raw = [1, 3, 2, 6].map((y, x) => ({ x, y }))
    const copy = JSON.parse(JSON.stringify(raw))
    expect(smoothSeries(raw, 'moving-average', 2).map((p) => p.y)).toEqual([1, 2, 2.5, 4])
    const ema = smoothSeries(raw, 'ema', 0.5).map((p) => p.y)
    expect(ema[0]).toBe(1)
    expect(ema[1]).toBeCloseTo((0.25 + 1.5) / 0.75)
    expect(raw).toEqual(copy)
    // One CSV writer for every export: RFC 4180's CRLF (the experiments export was LF before).
    expect(toCsv([['a', 'b,c'], [1, null]])).toBe('a,"b,c"\r\n1,\r\n')
  })
  it('run configs and presets validate; bad ones are refused with the field named', () => {
    for (const p of RUN_PRESETS) expect(() => RunConfig.parse({ ...p.config, name: 'x', model: { demo: true }, data: { kind: 'folder', path: '/tmp', layout: 'imagefolder' } })).not.toThrow()
    const bad = RunConfig.safeParse({ name: 'x', task: 'classification', model: { demo: true }, data: { kind: 'folder', path: 'rel', layout: 'imagefolder' }, steps: 0, optimizer: { lr: -1 } })
    expect(bad.success).toBe(false)
    const paths = bad.error!.issues.map((i) => i.path.join('.'))
    expect(paths).toEqual(expect.arrayContaining(['data.path', 'steps', 'optimizer.lr']))
  })
})

// One training step of the engine against PyTorch (tests/fixtures/training/make_expected.py):
// classification (masked encoder, dropout, BCE, global-norm clipping, two AdamW steps) and
// segmentation (HLS neck, FCN head with BatchNorm, weighted CE + Dice, running statistics).
import { readFileSync } from 'node:fs'
import type { Scalar, Tensor, Tensor2D, Variable } from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrithviMAE } from '@engine/model/prithvi'
import type { PrithviConfig } from '@engine/model/config'
import type { WeightMap } from '@engine/model/weights'
import { loadTf, type Tf } from '@engine/tf/backend'
import { classifierForward, classifierSpecs, HeadParams, segmentationForward, segmentationSpecs, toTorch, updateRunningStats } from '@engine/training/heads'
import { bceWithLogits, segmentationLoss } from '@engine/training/losses'
import { AdamOptimizer, clipGlobalNorm, globalNorm } from '@engine/training/optimizer'
import { withWebGpu } from '../../support/webgpu'
import type { BatchStats } from '@engine/training/convs'
import { seededRandom } from '@shared/random'
import { f32, type FixtureArray } from '../model/fixture'

interface Fixture {
  config: PrithviConfig
  backbone: Record<string, FixtureArray>
  classification: {
    mask_ratio: number
    lr: number
    weight_decay: number
    betas: [number, number]
    eps: number
    clip: number
    weights: Record<string, FixtureArray>
    x: FixtureArray
    labels: number[]
    noise: FixtureArray
    dropout_mask: FixtureArray
    steps: { loss: number; grad_norm: number; grads: Record<string, FixtureArray>; after: Record<string, FixtureArray> }[]
  }
  segmentation: {
    class_weights: number[]
    head_channels: number
    num_classes: number
    weights: Record<string, FixtureArray>
    x: FixtureArray
    target: FixtureArray
    dropout_mask: FixtureArray
    loss: number
    grads: Record<string, FixtureArray>
    running_mean: FixtureArray
    running_var: FixtureArray
  }
}

const fx = JSON.parse(readFileSync(new URL('../../fixtures/training/expected.json', import.meta.url), 'utf8')) as Fixture

function weightMap(entries: Record<string, FixtureArray>): WeightMap {
  return new Map(Object.entries(entries).map(([k, a]) => [k, f32(a)]))
}

function u8(a: FixtureArray): Uint8Array {
  const b = Buffer.from(a.data, 'base64')
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}

/** max |a - b| relative to max |b| (plus a floor for all-zero references). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let diff = 0
  let scale = 1e-6
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / scale
}

describe.each(withWebGpu(['wasm', 'cpu'] as const))('one training step matches PyTorch on %s', (backend) => {
  let tf: Tf
  let model: PrithviMAE
  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
  })
  afterAll(() => model?.dispose())

  it('classification: loss, gradients, clipped norm and two AdamW updates', async () => {
    const c = fx.classification
    model = PrithviMAE.fromWeights(tf, fx.config, weightMap(fx.backbone), { decoder: false })
    const head = new HeadParams(tf, classifierSpecs(fx.config.embed_dim, 2), seededRandom(1))
    head.load(weightMap(c.weights))
    const params = [...model.parameterSpecs().map((s) => ({ name: s.name, variable: model.variable(s.name) })), ...head.trainable()]
    const opt = new AdamOptimizer(tf, { name: 'adamw', lr: c.lr, beta1: c.betas[0], beta2: c.betas[1], eps: c.eps, weightDecay: c.weight_decay }, params)
    const xd = f32(c.x)
    const x = tf.tensor(xd.data, xd.shape)
    const noise = f32(c.noise).data
    const drop = tf.tensor2d(f32(c.dropout_mask).data, [4, fx.config.embed_dim])
    const y = tf.tensor2d(Float32Array.from(c.labels), [4, 1])
    const before = tf.memory().numTensors
    for (const expected of c.steps) {
      const { value, grads } = tf.variableGrads(
        () => tf.tidy(() => bceWithLogits(tf, classifierForward(tf, head, model.forwardEncoder(x, c.mask_ratio, noise).latent, drop as Tensor2D), y) as Scalar),
        params.map((p) => p.variable as Variable)
      )
      expect(Math.abs((await value.data())[0]! - expected.loss)).toBeLessThan(1e-5 * Math.max(1, expected.loss))
      value.dispose()
      const named = new Map(params.map((p) => [p.name, grads[p.variable.name]!]))
      const backboneGrads = new Map(model.parameterSpecs().map((s) => [s.name, s]))
      for (const [name, ref] of Object.entries(expected.grads)) {
        const g = (await named.get(name)!.data()) as Float32Array
        const spec = backboneGrads.get(name)
        const torchLayout = spec ? (spec.layout === 'linear' ? transpose(g, spec.tfShape) : g) : toTorch(head.specs.find((s) => s.name === name)!, g)
        expect(relErr(torchLayout, f32(ref).data), `gradient of ${name}`).toBeLessThan(2e-4)
      }
      const clipped = clipGlobalNorm(tf, named, c.clip, await globalNorm(tf, named))
      expect(Math.abs(clipped.norm - expected.grad_norm) / expected.grad_norm).toBeLessThan(1e-4)
      opt.apply(clipped.grads, c.lr)
      for (const g of clipped.grads.values()) g.dispose()
      for (const g of named.values()) if (!g.isDisposed) g.dispose()
      const now = new Map([...(await model.toWeightMap({ posEmbed: false })), ...(await head.toWeightMap())])
      for (const [name, ref] of Object.entries(expected.after)) {
        const r = f32(ref).data
        const got = now.get(name)!.data
        let worst = 0
        for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(got[i]! - r[i]!))
        expect(worst, `${name} after the update`).toBeLessThan(2e-5)
      }
    }
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, drop, y])
    opt.dispose()
    head.dispose()
  })

  it('segmentation: neck + FCN head, weighted CE + Dice, gradients and BatchNorm running statistics', async () => {
    const s = fx.segmentation
    const o = { embedDim: fx.config.embed_dim, neckDim: fx.config.embed_dim, headChannels: s.head_channels, numClasses: s.num_classes, auxHead: false }
    const head = new HeadParams(tf, segmentationSpecs(o), seededRandom(2))
    head.load(weightMap(s.weights))
    const seg = PrithviMAE.fromWeights(tf, fx.config, weightMap(fx.backbone), { decoder: false })
    const vars = [...seg.parameterSpecs().map((p) => ({ name: p.name, variable: seg.variable(p.name) })), ...head.trainable()]
    const xd = f32(s.x)
    const x = tf.tensor(xd.data, xd.shape)
    const target = u8(s.target)
    const k = s.num_classes
    const S = fx.config.img_size
    const onehot = new Float32Array(target.length * k)
    target.forEach((t, i) => (onehot[i * k + t] = 1))
    const oh = tf.tensor(onehot, [2, S, S, k])
    const drop = tf.tensor2d(f32(s.dropout_mask).data, [2, s.head_channels])
    let stats: Map<string, BatchStats> | undefined
    const { value, grads } = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const out = segmentationForward(tf, head, seg.forwardEncoder(x, 0).latent, S / 16, o, true, { decode: drop as Tensor2D })
          for (const st of out.bnStats.values()) tf.keep(st.mean), tf.keep(st.variance)
          stats = out.bnStats
          return segmentationLoss(tf, 'ce+dice', out.logits, oh, s.class_weights)
        }),
      vars.map((v) => v.variable as Variable)
    )
    expect(Math.abs((await value.data())[0]! - s.loss) / s.loss).toBeLessThan(1e-4)
    const byName = new Map(vars.map((v) => [v.name, grads[v.variable.name]!]))
    for (const [name, ref] of Object.entries(s.grads)) {
      const g = (await byName.get(name)!.data()) as Float32Array
      const spec = seg.parameterSpecs().find((p) => p.name === name)
      const torchLayout = spec ? (spec.layout === 'linear' ? transpose(g, spec.tfShape) : g) : toTorch(head.specs.find((p) => p.name === name)!, g)
      expect(relErr(torchLayout, f32(ref).data), `gradient of ${name}`).toBeLessThan(5e-4)
    }
    updateRunningStats(tf, head, stats!)
    const w = await head.toWeightMap()
    expect(relErr(w.get('decode_head.convs.0.bn.running_mean')!.data, f32(s.running_mean).data)).toBeLessThan(1e-5)
    expect(relErr(w.get('decode_head.convs.0.bn.running_var')!.data, f32(s.running_var).data)).toBeLessThan(1e-5)
    for (const st of stats!.values()) tf.dispose([st.mean, st.variance])
    tf.dispose([value, ...Object.values(grads), x, oh, drop])
    head.dispose()
    seg.dispose()
  })
})

/** tfjs [in, out] -> torch [out, in]. */
function transpose(g: Float32Array, tfShape: number[]): Float32Array {
  const [rows, cols] = tfShape as [number, number]
  const out = new Float32Array(g.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = g[r * cols + c]!
  return out
}

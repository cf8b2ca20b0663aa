// Class-weighted classification: the weighted BCE is torch's weighted mean, per-image weights make a
// micro-batched step equal to the whole-batch step, 'balanced' weights follow n / (k * count), and
// balanced accuracy is the mean per-class recall.
import { beforeAll, describe, expect, it } from 'vitest'
import { loadTf, type Tf } from '@engine/tf/backend'
import { bceWithLogits } from '@engine/training/losses'
import { ConfusionMatrix } from '@engine/training/metrics'
import { resolveClassWeights } from '@engine/training/runner'
import { Trainer } from '@engine/training/trainer'
import { randomWeights } from '@engine/model/params'
import { RunConfig } from '@shared/ipc/schemas/runs'

let tf: Tf
beforeAll(async () => {
  tf = (await loadTf({ prefer: 'wasm' })).tf
})

describe('class weights', () => {
  it('weighted BCE with weights normalised to mean 1 is sum(w l) / sum(w); unweighted is unchanged', () => {
    const x = [0.3, -1.2, 2.0, 0.1]
    const y = [1, 0, 1, 0]
    const cw = [0.5, 2]
    const raw = y.map((l) => cw[l]!)
    const norm = raw.map((w) => (w * raw.length) / raw.reduce((a, b) => a + b, 0))
    const per = x.map((v, i) => Math.max(v, 0) - v * y[i]! + Math.log1p(Math.exp(-Math.abs(v))))
    const expected = per.reduce((s, l, i) => s + l * raw[i]!, 0) / raw.reduce((a, b) => a + b, 0)
    const got = tf.tidy(() => bceWithLogits(tf, tf.tensor2d(x, [4, 1]), tf.tensor2d(y, [4, 1]), tf.tensor2d(norm, [4, 1])).dataSync()[0]!)
    expect(got).toBeCloseTo(expected, 5)
    const plain = tf.tidy(() => bceWithLogits(tf, tf.tensor2d(x, [4, 1]), tf.tensor2d(y, [4, 1])).dataSync()[0]!)
    expect(plain).toBeCloseTo(per.reduce((a, b) => a + b, 0) / 4, 5)
  })

  it("'balanced' gives n / (k * count_c); explicit weights must match the classes", () => {
    const train = [0, 0, 0, 1].map((label) => ({ path: 'x', label }))
    expect(resolveClassWeights('balanced', train, 2)).toEqual([4 / 6, 2])
    expect(resolveClassWeights([1, 3], train, 2)).toEqual([1, 3])
    expect(resolveClassWeights(undefined, train, 2)).toBeUndefined()
    expect(() => resolveClassWeights([1, 2, 3], train, 2)).toThrow(/3 entries/)
    expect(() => resolveClassWeights('balanced', train.slice(0, 3), 2)).toThrow(/class 1 has no training images/)
  })

  it('a class-weighted step with micro-batches equals the whole-batch step', async () => {
    const CFG = { img_size: 32, patch_size: 16, num_frames: 1, tubelet_size: 1, in_chans: 6, embed_dim: 32, depth: 1, num_heads: 2, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2, mlp_ratio: 2, norm_pix_loss: false }
    const config = (over: object) =>
      RunConfig.parse({ name: 't', task: 'classification', model: { random: CFG }, data: { kind: 'folder', path: '/tmp/none', layout: 'imagefolder' }, steps: 2, batchSize: 4, seed: 3, maskRatio: 0.25, dropout: 0.1, classWeights: [0.4, 1.6], optimizer: { name: 'adamw', lr: 1e-3 }, ...over })
    const x = Float32Array.from({ length: 4 * 6 * 32 * 32 }, (_, i) => Math.sin(i * 0.37))
    const batch = { step: 0, n: 4, x, labels: Int32Array.from([0, 1, 0, 0]) }
    const losses: number[][] = []
    for (const micro of [undefined, 1]) {
      const t = new Trainer({ tf, config: config(micro ? { microBatch: micro } : {}), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2, classWeights: [0.4, 1.6] })
      try {
        losses.push([(await t.trainStep(batch, 0)).loss, (await t.trainStep(batch, 1)).loss])
      } finally {
        t.dispose()
      }
    }
    expect(losses[1]![0]).toBeCloseTo(losses[0]![0]!, 5)
    expect(losses[1]![1]).toBeCloseTo(losses[0]![1]!, 5)
    const unweighted = new Trainer({ tf, config: config({ classWeights: undefined }), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    try {
      expect(Math.abs((await unweighted.trainStep(batch, 0)).loss - losses[0]![0]!)).toBeGreaterThan(1e-4)
    } finally {
      unweighted.dispose()
    }
  })

  it('balanced accuracy is the mean recall of the classes present', () => {
    const cm = new ConfusionMatrix(2)
    cm.addAll([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0])
    expect(cm.balancedAccuracy()).toBeCloseTo((3 / 4 + 1 / 2) / 2, 12)
    expect(cm.accuracy()).toBeCloseTo(4 / 6, 12)
  })
})

// Test-time augmentation (RunConfig.tta 'dihedral'): orienting the model input equals orienting the
// image first, for all 8 orientations and each input kind (Prithvi's recipe with and without
// per-tile standardisation, the MAE family's native input); the 8 views are distinct; a run's
// evaluation averages the logits of the 8 views; the inference wrapper averages a runner's logits
// the same way.
import { beforeAll, describe, expect, it } from 'vitest'
import { loadTf, type Tf } from '@engine/tf/backend'
import { prithvi100m } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { Trainer } from '@engine/training/trainer'
import type { ClassificationTask } from '@engine/training/tasks/classification'
import { DIHEDRAL_VIEWS, inputChannels, orientPlanes, orientRgb, writeModelInput, type Batch, type Preprocessing } from '@engine/training/data'
import { withTestTimeAugmentation, type ClassifierRunner } from '@engine/inference/runners'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { seededRandom } from '@shared/random'

const S = 32
const CFG = prithvi100m({ img_size: S, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
let tf: Tf

beforeAll(async () => {
  tf = (await loadTf({ prefer: 'wasm' })).tf
})

function tile(seed: number): Uint8Array {
  const r = seededRandom(seed)
  return Uint8Array.from({ length: S * S * 3 }, () => Math.floor(r() * 256))
}

describe('orientations of the model input', () => {
  const prithvi: Preprocessing = { stats: PRITHVI_HLS_STATS, recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' }
  const kinds: Record<string, Preprocessing> = {
    'Prithvi recipe': prithvi,
    'Prithvi recipe, tiles standardised': { ...prithvi, recipe: 'means', tileNorm: 'standardize' },
    'MAE native, RGB': { ...prithvi, native: { in_chans: 3, mean: [0.5, 0.5, 0.5], std: [0.18, 0.18, 0.18] } },
    'MAE native, grey, tiles standardised': { ...prithvi, tileNorm: 'standardize', native: { in_chans: 1, mean: [0.5], std: [0.18] } }
  }
  it.each(Object.entries(kinds))('orientPlanes of the input = the input of orientRgb, all 8 views (%s)', (_, pre) => {
    const rgb = tile(1)
    const plane = inputChannels(pre) * S * S
    const input = (img: Uint8Array) => {
      const x = new Float32Array(plane)
      writeModelInput(img, S, pre, x, 0)
      return x
    }
    const plain = input(rgb)
    for (const v of DIHEDRAL_VIEWS) expect(orientPlanes(plain, S, v.flipH, v.quarter)).toEqual(input(orientRgb(rgb, S, v.flipH, false, v.quarter)))
  })

  it('gives 8 different images of an asymmetric tile, and the flip of both axes is the half turn', () => {
    const x = Float32Array.from(tile(2))
    const seen = new Set(DIHEDRAL_VIEWS.map((v) => orientPlanes(x, S, v.flipH, v.quarter).join(',')))
    expect(seen.size).toBe(8)
    expect(Array.from(orientRgb(tile(2), S, true, true, 0))).toEqual(Array.from(orientRgb(tile(2), S, false, false, 2)))
  })

  it('orients each of several images and planes on its own', () => {
    const a = Float32Array.from(tile(3).subarray(0, S * S))
    const b = Float32Array.from(tile(4).subarray(0, S * S))
    const both = new Float32Array([...a, ...b])
    expect(orientPlanes(both, S, true, 1)).toEqual(new Float32Array([...orientPlanes(a, S, true, 1), ...orientPlanes(b, S, true, 1)]))
  })
})

describe('test-time augmentation in evaluation and inference', () => {
  const batch: Batch = (() => {
    const r = seededRandom(9)
    return { step: 0, n: 5, x: Float32Array.from({ length: 5 * 6 * S * S }, () => r() * 2 - 1), labels: Int32Array.from([0, 1, 1, 0, 1]) }
  })()
  const trainer = (tta: 'none' | 'dihedral') =>
    new Trainer({ tf, config: RunConfig.parse({ name: 't', task: 'classification', model: { random: CFG }, data: { kind: 'folder', path: '/x', layout: 'imagefolder' }, steps: 1, batchSize: 2, pool: 'mean', tta, optimizer: { name: 'adamw', lr: 1e-3 } }), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })

  it("a 'dihedral' run scores each image by the mean logit of its 8 orientations, leaking no tensors", async () => {
    const plain = trainer('none')
    const tta = trainer('dihedral')
    try {
      const expected = new Float64Array(batch.n)
      for (const v of DIHEDRAL_VIEWS) {
        const { scores } = await (plain.task as ClassificationTask).classifyBatch({ ...batch, x: orientPlanes(batch.x, S, v.flipH, v.quarter) })
        scores!.forEach((s, i) => (expected[i] = expected[i]! + s / DIHEDRAL_VIEWS.length))
      }
      const before = tf.memory().numTensors
      const got = await (tta.task as ClassificationTask).classifyBatch(batch)
      expect(tf.memory().numTensors).toBe(before)
      got.scores!.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!, 5))
      // Not the plain score: the random model is not orientation-invariant.
      const once = (await (plain.task as ClassificationTask).classifyBatch(batch)).scores!
      expect(Math.max(...once.map((s, i) => Math.abs(s - got.scores![i]!)))).toBeGreaterThan(1e-3)
    } finally {
      plain.dispose()
      tta.dispose()
    }
  })

  it('the inference wrapper averages the runner over the 8 views, and leaves it alone without TTA', async () => {
    const calls: Float32Array[] = []
    // A runner whose logit is the image's top-left value: each view moves another corner there.
    const runner: ClassifierRunner = {
      name: 'tfjs',
      device: 'test',
      notes: [],
      run: async (pixels, n) => {
        calls.push(pixels)
        return Float32Array.from({ length: n }, (_, i) => pixels[i * S * S]!)
      },
      dispose: async () => {}
    }
    expect(withTestTimeAugmentation(runner, S, 'none')).toBe(runner)
    const x = new Float32Array(2 * S * S)
    const corners = [0, S - 1, S * (S - 1), S * S - 1]
    corners.forEach((c, k) => {
      x[c] = k + 1 // image 0: 1 2 3 4 in its corners
      x[S * S + c] = 10 * (k + 1)
    })
    const wrapped = withTestTimeAugmentation(runner, S, 'dihedral')
    expect(wrapped.notes.at(-1)).toMatch(/8 orientations averaged/)
    const logits = await wrapped.run(x, 2)
    expect(calls).toHaveLength(8)
    // Each corner comes to the top left in two of the 8 views: the mean is the corners' mean.
    expect(Array.from(logits)).toEqual([2.5, 25])
  })
})


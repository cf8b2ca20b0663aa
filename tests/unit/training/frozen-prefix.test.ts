// Partial fine-tuning (freezeBlocks K) on a tiny Prithvi: the ONNX frozen prefix (real ONNX Runtime,
// CPU) equals the tfjs encoder's hidden states after block K within 1e-4, with and without token
// masking; a K-frozen step (wasm and, where an adapter exists, webgpu) leaves the patch embedding,
// CLS and the first K blocks bit-identical while the rest change, with the loss of a full step on
// the same weights; a short run with K = 1 trains end to end through the engine's run loop, resumes
// exactly, and its checkpoint holds the starting frozen blocks.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tensor3D } from '@tensorflow/tfjs-core'
import { loadTf, type Tf } from '@engine/tf/backend'
import { prithviTiny } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { PrithviMAE } from '@engine/model/prithvi'
import { planMasking } from '@engine/model/masking'
import { FrozenPrefix, isFrozenParameter } from '@engine/training/frozen-prefix'
import { Trainer } from '@engine/training/trainer'
import { ClassificationTask } from '@engine/training/tasks/classification'
import { runTraining } from '@engine/training/runner'
import { loadTrainingCheckpoint } from '@engine/training/state'
import type { Batch } from '@engine/training/data'
import { RunConfig, type RunConfigInput } from '@shared/ipc/schemas/runs'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { seededRandom } from '@shared/random'
import { withWebGpu } from '../../support/webgpu'
import { recordingHooks } from '../../support/run-hooks'

const TOL = 1e-4
const CFG = prithviTiny({ depth: 3 }) // 32 px, patch 8: 16 tokens of width 32, three blocks
let tf: Tf
let dir: string

function pixels(n: number, seed: number): Float32Array {
  const r = seededRandom(seed)
  return Float32Array.from({ length: n * 6 * CFG.img_size * CFG.img_size }, () => r() * 2 - 1)
}

function batch(n: number): Batch {
  return { step: 0, n, x: pixels(n, 9), labels: Int32Array.from({ length: n }, (_, i) => i % 2) }
}

function config(over: Partial<RunConfigInput>): RunConfig {
  return RunConfig.parse({
    name: 'partial',
    task: 'classification',
    model: { random: CFG },
    data: { kind: 'folder', path: join(dir, 'data'), layout: 'imagefolder' },
    steps: 6,
    batchSize: 4,
    seed: 3,
    maskRatio: 0.375,
    dropout: 0.5,
    optimizer: { name: 'adam', lr: 1e-3 },
    schedule: { name: 'constant', warmupSteps: 0 },
    eval: { everySteps: 3 },
    ...over
  })
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

beforeAll(async () => {
  tf = (await loadTf({ prefer: 'wasm' })).tf
  dir = mkdtempSync(join(tmpdir(), 'marsfm-partial-'))
  let seed = 0
  for (const split of ['train', 'valid'])
    for (const [c, bright] of [['a', false], ['b', true]] as const) {
      mkdirSync(join(dir, 'data', split, c), { recursive: true })
      for (let i = 0; i < (split === 'train' ? 8 : 4); i++) {
        const r = seededRandom(seed++)
        const px = Buffer.alloc(40 * 40 * 3)
        for (let j = 0; j < px.length; j++) px[j] = Math.floor(r() * 128) + (bright ? 100 : 0)
        await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(dir, 'data', split, c, `${i}.png`))
      }
    }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('frozen prefix in ONNX Runtime', () => {
  const weights = randomWeights(CFG, 5, { decoder: false })
  const n = 3
  const x = pixels(n, 1)
  const noise = Float32Array.from({ length: n * 16 }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5)

  it.each([
    [1, 0.375],
    [2, 0.375],
    [3, 0.375],
    [1, 0],
    [3, 0]
  ])('K = %i, mask ratio %s: equals the tfjs encoder after block K within 1e-4', async (k, ratio) => {
    const model = PrithviMAE.fromWeights(tf, CFG, weights, { decoder: false })
    const prefix = new FrozenPrefix(CFG, weights, k, { device: 'cpu', intraOpThreads: 1 })
    try {
      const plan = model.randomMasking(n, ratio, ratio > 0 ? noise : undefined)
      const got = await prefix.forward(x, plan)
      const want = tf.tidy(() => model.encodePrefix(tf.tensor(x, [n, 6, 1, 32, 32]), plan, k))
      expect(want.shape).toEqual([n, 1 + plan.lenKeep, 32])
      expect(maxAbsDiff(got, await want.data())).toBeLessThanOrEqual(TOL)
      // And the tfjs tail on the ORT output gives the full encoder's latent.
      const full = model.forwardEncoder(tf.tensor(x, [n, 6, 1, 32, 32]), ratio, ratio > 0 ? noise : undefined)
      const tail = tf.tidy(() => model.encodeFrom(tf.tensor3d(got, [n, 1 + plan.lenKeep, 32]), k))
      expect(maxAbsDiff(await tail.data(), await full.latent.data())).toBeLessThanOrEqual(TOL)
      tf.dispose([want, tail, full.latent, full.mask, full.idsRestore])
    } finally {
      model.dispose()
      await prefix.release()
    }
  })

  it('with a cache folder, the graph is written once under its content hash and opened from there', async () => {
    const cacheDir = join(dir, 'onnx-cache')
    const a = new FrozenPrefix(CFG, weights, 2, { device: 'cpu', intraOpThreads: 1, cacheDir })
    const b = new FrozenPrefix(CFG, weights, 2, { device: 'cpu', intraOpThreads: 1, cacheDir })
    const other = new FrozenPrefix(CFG, randomWeights(CFG, 6, { decoder: false }), 2, { device: 'cpu', cacheDir })
    try {
      const files = readdirSync(cacheDir).sort()
      expect(files).toHaveLength(2) // a and b share one file; other weights, another
      expect(files.every((f) => /^frozen-prefix-k2-[0-9a-f]{32}\.onnx$/.test(f))).toBe(true)
      const plan = planMasking(n, 16, 0.375, noise)
      expect(await a.forward(x, plan)).toEqual(await b.forward(x, plan))
    } finally {
      await Promise.all([a.release(), b.release(), other.release()])
    }
  })

  it('refuses K outside 0..depth and K = 0 (nothing frozen) with the depth named', () => {
    expect(() => new FrozenPrefix(CFG, weights, 4)).toThrow(/freezeBlocks 4 is out of range: this model has 3 encoder blocks \(0\.\.3/)
    expect(() => new FrozenPrefix(CFG, weights, 0)).toThrow(/no frozen prefix/)
  })

  it('names the frozen parameters: patch embedding, CLS, blocks < K, and the final norm only at K = depth', () => {
    expect(isFrozenParameter('patch_embed.proj.weight', 1, 3)).toBe(true)
    expect(isFrozenParameter('cls_token', 1, 3)).toBe(true)
    expect(isFrozenParameter('blocks.0.mlp.fc1.weight', 1, 3)).toBe(true)
    expect(isFrozenParameter('blocks.1.mlp.fc1.weight', 1, 3)).toBe(false)
    expect(isFrozenParameter('blocks.10.norm1.weight', 2, 12)).toBe(false)
    expect(isFrozenParameter('norm.weight', 2, 3)).toBe(false)
    expect(isFrozenParameter('norm.weight', 3, 3)).toBe(true)
    expect(isFrozenParameter('blocks.0.mlp.fc1.weight', 0, 3)).toBe(false)
  })
})

describe.each(withWebGpu(['wasm'] as const))('a K-frozen training step on %s', (backend) => {
  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
  })
  afterAll(async () => {
    tf = (await loadTf({ prefer: 'wasm' })).tf
  })
  const snapshot = async (t: Trainer) => {
    const out = new Map<string, Float32Array>()
    for (const s of t.model.parameterSpecs()) out.set(s.name, Float32Array.from((await t.model.variable(s.name).data()) as Float32Array))
    return out
  }

  it.each([1, 2, 3])('K = %i: patch embedding, CLS and the first K blocks stay bit-identical, the rest and the head change', async (k) => {
    const weights = randomWeights(CFG, 1, { decoder: false })
    const trainer = new Trainer({ tf, config: config({ freezeBlocks: k }), modelConfig: CFG, weights, numClasses: 2, frozenDevice: 'cpu' })
    try {
      const before = await snapshot(trainer)
      const headBefore = Float32Array.from((await trainer.head!.get('head.weight').data()) as Float32Array)
      const start = tf.memory().numTensors
      for (let step = 0; step < 2; step++) expect(Number.isFinite((await trainer.trainStep(batch(4), step)).loss)).toBe(true)
      expect(tf.memory().numTensors).toBe(start) // nothing leaks per step
      const after = await snapshot(trainer)
      for (const [name, w] of before) {
        const frozen = isFrozenParameter(name, k, CFG.depth)
        if (frozen) expect(after.get(name), `${name} frozen`).toEqual(w)
        else expect(maxAbsDiff(after.get(name)!, w), `${name} trained`).toBeGreaterThan(0)
      }
      const norms = [...before.keys()].filter((n) => n.startsWith('norm.'))
      expect(norms.every((n) => isFrozenParameter(n, k, CFG.depth))).toBe(k === CFG.depth)
      expect(maxAbsDiff((await trainer.head!.get('head.weight').data()) as Float32Array, headBefore)).toBeGreaterThan(0)
    } finally {
      trainer.dispose()
    }
  })

  it('the step loss equals a full step on the same weights, masking noise and dropout', async () => {
    const weights = randomWeights(CFG, 2, { decoder: false })
    const full = new Trainer({ tf, config: config({}), modelConfig: CFG, weights, numClasses: 2 })
    const partial = new Trainer({ tf, config: config({ freezeBlocks: 2, microBatch: 3 }), modelConfig: CFG, weights, numClasses: 2, frozenDevice: 'cpu' })
    try {
      const a = await full.trainStep(batch(4), 7)
      const b = await partial.trainStep(batch(4), 7)
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(TOL)
    } finally {
      full.dispose()
      partial.dispose()
    }
  })

  it('evaluation runs the frozen blocks in ONNX Runtime too and scores as the whole tfjs encoder does', async () => {
    const weights = randomWeights(CFG, 4, { decoder: false })
    const full = new Trainer({ tf, config: config({ microBatch: 2 }), modelConfig: CFG, weights, numClasses: 2 })
    const partial = new Trainer({ tf, config: config({ freezeBlocks: 2, microBatch: 2 }), modelConfig: CFG, weights, numClasses: 2, frozenDevice: 'cpu' })
    try {
      const b = batch(5)
      const prefix = partial.frozenPrefix!
      const forward = prefix.forward.bind(prefix)
      let ortRuns = 0
      prefix.forward = (x, plan) => (ortRuns++, forward(x, plan)) // counts the real ORT runs
      const before = tf.memory().numTensors
      const a = await (full.task as ClassificationTask).classifyBatch(b)
      const p = await (partial.task as ClassificationTask).classifyBatch(b)
      expect(tf.memory().numTensors).toBe(before)
      expect(ortRuns).toBe(3) // chunks of 2, 2, 1
      expect(maxAbsDiff(p.scores!, a.scores!)).toBeLessThanOrEqual(TOL)
      expect(Math.abs(p.lossSum - a.lossSum)).toBeLessThanOrEqual(TOL * 5)
    } finally {
      full.dispose()
      partial.dispose()
    }
  })

  it('refuses freezeBlocks beyond the depth, on a segmentation run, and beside freezeBackbone', () => {
    const weights = randomWeights(CFG, 1, { decoder: false })
    const make = (over: Partial<RunConfigInput>) => new Trainer({ tf, config: config(over), modelConfig: CFG, weights, numClasses: 2 })
    expect(() => make({ freezeBlocks: 5 })).toThrow(/freezeBlocks 5 is out of range: this model has 3 encoder blocks/)
    expect(() => make({ freezeBlocks: 1, task: 'segmentation', maskRatio: 0, segmentation: { numClasses: 2, headChannels: 8 } })).toThrow(/freezeBlocks is for classification runs/)
    expect(() => make({ freezeBlocks: 1, freezeBackbone: true })).toThrow(/one at a time/)
  })
})

describe('a short run with K = 1', () => {
  it('trains end to end through the run loop; its checkpoint keeps the starting block 0 and loads like a full run', async () => {
    const cfg = config({ freezeBlocks: 1 })
    const { hooks, logs: log, metrics } = recordingHooks('wasm')
    const runDir = join(dir, 'run-k1')
    const outcome = await runTraining(tf, { runId: 1, runDir, config: cfg, model: { config: CFG, stats: PRITHVI_HLS_STATS } }, hooks)
    expect(outcome.status).toBe('done')
    expect(log.some((l) => /partial fine-tuning: 1 of 3 encoder blocks frozen/.test(l))).toBe(true)
    expect(log.some((l) => /frozen blocks 0\.\.0: ONNX Runtime on CPU/.test(l))).toBe(true)
    const losses = metrics.map((m) => m['train/loss']).filter((v): v is number => v !== undefined)
    expect(losses).toHaveLength(6)
    expect(losses.every(Number.isFinite)).toBe(true)
    expect(metrics.some((m) => 'val/accuracy' in m)).toBe(true)

    const start = randomWeights({ ...CFG, num_frames: 1 }, cfg.seed, { decoder: true })
    const ck = await loadTrainingCheckpoint(outcome.lastCheckpoint!, (name) => name.startsWith('head.'))
    expect(ck.meta.config.freezeBlocks).toBe(1) // recorded with the run
    expect(ck.backbone.get('blocks.0.attn.qkv.weight')!.data).toEqual(start.get('blocks.0.attn.qkv.weight')!.data)
    expect(ck.backbone.get('patch_embed.proj.weight')!.data).toEqual(start.get('patch_embed.proj.weight')!.data)
    expect(maxAbsDiff(ck.backbone.get('blocks.1.attn.qkv.weight')!.data, start.get('blocks.1.attn.qkv.weight')!.data)).toBeGreaterThan(0)
    // The checkpoint is a whole backbone: it builds the same model class inference uses.
    // Resumed from its step-3 checkpoint (the prefix re-exported from the checkpoint's frozen
    // blocks), it logs exactly the later metrics of the uninterrupted run.
    const paused: Record<string, number>[] = []
    const pausedRun = await runTraining(tf, { runId: 2, runDir: join(dir, 'run-k1-paused'), config: cfg, model: { config: CFG, stats: PRITHVI_HLS_STATS } }, { ...hooks, shouldPause: () => paused.some((m) => 'val/accuracy' in m), emit: (event, payload) => void (event === 'metrics' && paused.push((payload as { metrics: Record<string, number> }).metrics)) })
    expect(pausedRun).toMatchObject({ status: 'paused', step: 3 })
    const rest: Record<string, number>[] = []
    const resumed = await runTraining(tf, { runId: 2, runDir: join(dir, 'run-k1-paused'), config: cfg, model: { config: CFG, stats: PRITHVI_HLS_STATS }, resumeFrom: pausedRun.lastCheckpoint! }, { ...hooks, emit: (event, payload) => void (event === 'metrics' && rest.push((payload as { metrics: Record<string, number> }).metrics)) })
    expect(resumed.status).toBe('done')
    expect([...paused, ...rest]).toEqual(metrics)

    const model = PrithviMAE.fromWeights(tf, ck.meta.model, ck.backbone, { decoder: false })
    const latent = tf.tidy(() => model.forwardEncoder(tf.tensor(pixels(1, 4), [1, 6, 1, 32, 32]), 0).latent as Tensor3D)
    expect(latent.shape).toEqual([1, 17, 32])
    latent.dispose()
    model.dispose()
  })
})

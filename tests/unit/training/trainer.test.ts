// The trainer in-process on small synthetic data: no tensor leaks across steps (all three tasks),
// a non-finite loss stops the run with a clear error, and a run paused mid-way and resumed from
// its checkpoint logs exactly the metrics of an uninterrupted run with the same seed and backend.
// On wasm and, where an adapter exists (lavapipe in CI), on webgpu.
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTf, type Tf } from '@engine/tf/backend'
import { prithvi100m } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { Trainer, NonFiniteLossError } from '@engine/training/trainer'
import { ClassificationTask } from '@engine/training/tasks/classification'
import { PretrainTask } from '@engine/training/tasks/pretrain'
import { SegmentationTask } from '@engine/training/tasks/segmentation'
import { runTraining, type RunHooks } from '@engine/training/runner'
import { familyPreprocessing, ImageCache, type Batch, type LoaderOptions } from '@engine/training/data'
import { RunConfig, type RunConfigInput } from '@shared/ipc/schemas/runs'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { seededRandom } from '@shared/random'
import { withWebGpu } from '../../support/webgpu'
import { recordingHooks } from '../../support/run-hooks'

const CFG = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
let tf: Tf
let dir: string

async function writeImage(path: string, seed: number, bright: boolean) {
  const r = seededRandom(seed)
  const px = Buffer.alloc(40 * 40 * 3)
  for (let i = 0; i < px.length; i++) px[i] = Math.floor(r() * 128) + (bright ? 100 : 0)
  await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(path)
}

beforeAll(async () => {
  tf = (await loadTf({ prefer: 'wasm' })).tf
  dir = mkdtempSync(join(tmpdir(), 'marsfm-trainer-'))
  let seed = 0
  for (const split of ['train', 'valid'])
    for (const [c, bright] of [['a', false], ['b', true]] as const) {
      mkdirSync(join(dir, 'data', split, c), { recursive: true })
      for (let i = 0; i < (split === 'train' ? 10 : 4); i++) await writeImage(join(dir, 'data', split, c, `${i}.png`), seed++, bright)
    }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function config(over: Partial<RunConfigInput>): RunConfig {
  return RunConfig.parse({
    name: 't',
    task: 'classification',
    model: { random: CFG },
    data: { kind: 'folder', path: join(dir, 'data'), layout: 'imagefolder' },
    steps: 8,
    batchSize: 4,
    seed: 3,
    maskRatio: 0.375,
    dropout: 0.5,
    gradClip: 1,
    optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0.01 },
    schedule: { name: 'linear', warmupSteps: 3 },
    eval: { everySteps: 4 },
    ...over
  })
}

function batch(n: number, s: number, task: 'classification' | 'segmentation' | 'pretrain', nan = false): Batch {
  const r = seededRandom(9)
  const x = Float32Array.from({ length: n * 6 * s * s }, () => r() * 2 - 1)
  if (nan) x[5] = NaN
  return {
    step: 0,
    n,
    x,
    ...(task === 'classification' ? { labels: Int32Array.from({ length: n }, (_, i) => i % 2) } : {}),
    ...(task === 'segmentation' ? { masks: Uint8Array.from({ length: n * s * s }, (_, i) => (i % 7 === 0 ? 1 : 0)) } : {})
  }
}

describe.each(withWebGpu(['wasm'] as const))('trainer on %s', (backend) => {
  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
  })
  const read = async (t: { data(): Promise<unknown> }) => (await t.data()) as Float32Array

  it("headInit 'near-zero' starts the classifier at logit ~0: the first loss is ln 2 for any input", async () => {
    const trainer = new Trainer({ tf, config: config({ headInit: 'near-zero', maskRatio: 0, dropout: 0 }), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    try {
      const w = trainer.head!.get('head.weight').dataSync() as Float32Array
      expect(Math.max(...Array.from(w, Math.abs))).toBeLessThan(1.5e-4)
      expect(Array.from(trainer.head!.get('head.bias').dataSync())).toEqual([0])
      const r = await trainer.trainStep(batch(4, 32, 'classification'), 0)
      expect(r.loss).toBeCloseTo(Math.log(2), 4)
    } finally {
      trainer.dispose()
    }
    // The default start (torch nn.Linear's) gives logits far from 0 on the same batch.
    const plain = new Trainer({ tf, config: config({ maskRatio: 0, dropout: 0 }), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    try {
      expect(Math.abs((await plain.trainStep(batch(4, 32, 'classification'), 0)).loss - Math.log(2))).toBeGreaterThan(1e-3)
    } finally {
      plain.dispose()
    }
  })

  it.each(['classification', 'segmentation', 'pretrain'] as const)('%s: tf.memory().numTensors is stable across steps and back to start after dispose', async (task) => {
    const start = tf.memory().numTensors
    const cfg = config({ task, ...(task === 'segmentation' ? { segmentation: { numClasses: 2, headChannels: 8, auxHead: true, loss: 'ce+dice', classWeights: [0.2, 0.8] } } : {}), ...(task === 'pretrain' ? { maskRatio: 0.75 } : {}) })
    const trainer = new Trainer({ tf, config: cfg, modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    const b = batch(2, 32, task)
    await trainer.trainStep(b, 0)
    const counts: number[] = []
    for (let s = 1; s <= 3; s++) {
      const r = await trainer.trainStep(b, s)
      expect(Number.isFinite(r.loss)).toBe(true)
      counts.push(tf.memory().numTensors)
    }
    expect(new Set(counts).size).toBe(1)
    trainer.dispose()
    expect(tf.memory().numTensors).toBe(start)
  })

  it('micro-batches (gradient accumulation) give the same step as the whole batch', async () => {
    const make = (microBatch?: number) => new Trainer({ tf, config: config(microBatch ? { microBatch } : {}), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    const whole = make()
    const chunked = make(1)
    const b = batch(4, 32, 'classification')
    const r1 = await whole.trainStep(b, 5)
    const r2 = await chunked.trainStep(b, 5)
    expect(r2.loss).toBeCloseTo(r1.loss, 5)
    expect(r2.gradNorm).toBeCloseTo(r1.gradNorm, 4)
    const w1 = await read(whole.model.variable('blocks.0.attn.qkv.weight'))
    const w2 = await read(chunked.model.variable('blocks.0.attn.qkv.weight'))
    let worst = 0
    for (let i = 0; i < w1.length; i++) worst = Math.max(worst, Math.abs(w1[i]! - w2[i]!))
    expect(worst).toBeLessThan(1e-5)
    whole.dispose()
    chunked.dispose()
  })

  it.each(['classification', 'segmentation', 'pretrain'] as const)('%s: evaluation in chunks of the training micro-batch gives the whole-batch results and leaks nothing', async (task) => {
    const over = { task, ...(task === 'segmentation' ? { segmentation: { numClasses: 3, headChannels: 8 } } : {}), ...(task === 'pretrain' ? { maskRatio: 0.75 } : {}) } as const
    const make = (o: Partial<RunConfigInput>) => new Trainer({ tf, config: config({ ...over, ...o }), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    const whole = make({ batchSize: 8 }) // one chunk covers the batch of 5
    const chunked = make({ microBatch: 2 }) // chunks of 2, 2, 1
    const b = batch(5, 32, task === 'classification' ? task : 'pretrain')
    const noise = Float32Array.from({ length: 5 * whole.model.numPatches }, (_, i) => Math.sin(i * 7.1))
    // The evaluation of each task lives on its task object (tasks/).
    const evaluate = (t: Trainer) =>
      t.task instanceof ClassificationTask ? t.task.classifyBatch(b) : t.task instanceof SegmentationTask ? t.task.segmentLogits(b.x, b.n) : (t.task as PretrainTask).maeLoss(b, noise)
    const expected = await evaluate(whole)
    const before = tf.memory().numTensors
    // wasm and cpu give the same bits; a GPU's matrix tiling depends on the batch size, so the
    // chunked sums may differ in the last bits there (and repeat exactly).
    const same = (got: Awaited<ReturnType<typeof evaluate>>) => {
      if (backend !== 'webgpu') return expect(got).toEqual(expected)
      const flat = (v: typeof got): number[] =>
        typeof v === 'number' ? [v] : ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : [...Array.from(v.preds), ...Array.from(v.scores ?? []), v.lossSum]
      const a = flat(got)
      const b = flat(expected)
      expect(a.length).toBe(b.length)
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / Math.max(1, Math.abs(b[i]!))))).toBeLessThan(1e-5)
    }
    const first = await evaluate(chunked)
    same(first)
    expect(await evaluate(chunked)).toEqual(first)
    expect(tf.memory().numTensors).toBe(before)
    whole.dispose()
    chunked.dispose()
  })

  it('a NaN loss stops the run with a clear error and leaks nothing', async () => {
    const trainer = new Trainer({ tf, config: config({}), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2 })
    await trainer.trainStep(batch(2, 32, 'classification'), 0)
    const before = tf.memory().numTensors
    await expect(trainer.trainStep(batch(2, 32, 'classification', true), 1)).rejects.toThrow(NonFiniteLossError)
    await expect(trainer.trainStep(batch(2, 32, 'classification', true), 1)).rejects.toThrow(/loss became NaN at step 2/)
    expect(tf.memory().numTensors).toBe(before)
    trainer.dispose()
  })

  it("headInit 'linear-probe' fits the head on the training images' features before step 1: it already separates the held-out classes", async () => {
    const { hooks, logs: lines, metrics } = recordingHooks(backend)
    // A learning rate of 1e-9: the evaluation after step 1 measures the probe's head itself.
    const cfg = config({ headInit: 'linear-probe', steps: 1, maskRatio: 0, dropout: 0, classWeights: 'balanced', optimizer: { name: 'adamw', lr: 1e-9, weightDecay: 0 }, schedule: { name: 'constant', warmupSteps: 0 } })
    const outcome = await runTraining(tf, { runId: 1, runDir: join(dir, `run-probe-${backend}`), config: cfg, model: { config: CFG, stats: PRITHVI_HLS_STATS } }, hooks)
    expect(outcome.status).toBe('done')
    expect(lines.find((l) => l.startsWith('linear-probe head'))).toMatch(/of 20 training images, \d+ L-BFGS iterations, balanced accuracy 1\.000 on them/)
    const first = metrics.find((m) => 'val/loss' in m)!
    expect(first['val/balanced_accuracy']).toBe(1)
    expect(first['val/loss']).toBeLessThan(0.2)
  })

  it('the linear-probe head fits on a seeded subset of at most maxImages training images, the same for the same seed', async () => {
    const train = readdirSync(join(dir, 'data', 'train'), { withFileTypes: true }).flatMap((c) =>
      readdirSync(join(dir, 'data', 'train', c.name)).map((f) => ({ path: join(dir, 'data', 'train', c.name, f), label: c.name === 'b' ? 1 : 0 }))
    )
    const opts: LoaderOptions = { task: 'classification', imgSize: 32, resize: 32, flip: false, augment: true, numClasses: 2, pre: familyPreprocessing(CFG, { stats: PRITHVI_HLS_STATS, recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' }), seed: 3, batchSize: 4, prefetch: 0, cacheBytes: 1 << 24 }
    const headOf = async (seed: number) => {
      const trainer = new Trainer({ tf, config: config({ headInit: 'linear-probe', seed }), modelConfig: CFG, weights: randomWeights(CFG, 1), numClasses: 2, classWeights: [1, 1] })
      try {
        const r = await (trainer.task as ClassificationTask).fitHeadByProbe(train, opts, new ImageCache(opts), new AbortController().signal, undefined, 7)
        expect(r.images).toBe(7)
        return Array.from(trainer.head!.get('head.weight').dataSync())
      } finally {
        trainer.dispose()
      }
    }
    const a = await headOf(3)
    expect(await headOf(3)).toEqual(a)
    expect(await headOf(4)).not.toEqual(a) // another seed picks other images
  })

  it.each(['uniform', 'linear-probe'] as const)('pause at step 4 + resume from the checkpoint logs the same later metrics as an uninterrupted run (head %s)', async (headInit) => {
    const run = async (runDir: string, pauseAt: number | null, resumeFrom?: string) => {
      const log: { step: number; metrics: Record<string, number> }[] = []
      const checkpoints: string[] = []
      const hooks: RunHooks = {
        signal: new AbortController().signal,
        shouldPause: () => pauseAt !== null && log.some((l) => l.step === pauseAt),
        emit: (event, payload) => {
          // Timing (images/s, ETA) differs between runs; the step and its metrics must not.
          if (event === 'metrics') log.push({ step: (payload as { step: number }).step, metrics: (payload as { metrics: Record<string, number> }).metrics })
          if (event === 'checkpoint') checkpoints.push((payload as { path: string }).path)
        },
        progress: () => {},
        log: () => {},
        backend,
        device: 'test'
      }
      const outcome = await runTraining(tf, { runId: 1, runDir, config: config({ headInit }), model: { config: CFG, stats: PRITHVI_HLS_STATS }, ...(resumeFrom ? { resumeFrom } : {}) }, hooks)
      return { log, outcome }
    }
    const straight = await run(join(dir, `run-a-${backend}-${headInit}`), null)
    expect(straight.outcome.status).toBe('done')
    const first = await run(join(dir, `run-b-${backend}-${headInit}`), 4)
    expect(first.outcome).toMatchObject({ status: 'paused', step: 4 })
    const rest = await run(join(dir, `run-b-${backend}-${headInit}`), null, first.outcome.lastCheckpoint!)
    expect(rest.outcome.status).toBe('done')
    const later = (l: typeof straight.log) => l.filter((e) => e.step > 4)
    expect(later(rest.log).length).toBeGreaterThan(4)
    expect(later(rest.log)).toEqual(later(straight.log))
    expect(first.log).toEqual(straight.log.filter((e) => e.step <= 4))
    const names = Object.keys(straight.log.find((e) => 'val/accuracy' in e.metrics)!.metrics)
    expect(names).toEqual(expect.arrayContaining(['val/loss', 'val/accuracy', 'val/precision', 'val/recall', 'val/f1']))
  })
})

// `train-bench` engine job: training-step throughput of a classification step (encoder + CLS head,
// BCE, Adam) on synthetic data, for bench/train-step.mjs. Runs in a fresh engine per backend so
// the process's peak RSS belongs to this measurement alone.
import { registerJob } from '../jobs/registry'
import { prithvi100m, PRESETS, type PresetName } from '../model/config'
import { randomWeights } from '../model/params'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { Trainer } from './trainer'
import { ClassificationTask } from './tasks/classification'
import type { Batch } from './data'
import { dropoutMask, streamRandom, uniformArray } from './rng'
import type { Tf } from '../tf/backend'

interface WebGpuBackendLike {
  runWebGPUProgram: (...args: unknown[]) => unknown
  bufferManager: { numBytesAllocated: number; acquireBuffer: (...args: unknown[]) => unknown }
}

/**
 * Where a WebGPU step's time goes: forward alone vs forward + backward (each read back, so GPU time
 * counts), the CPU time spent enqueuing per dispatched kernel, kernels per training step, and the
 * peak bytes the buffer manager held. Instruments the backend instance for the duration only.
 */
async function profileWebGpu(tf: Tf, trainer: Trainer, task: ClassificationTask, cfg: RunConfig, batch: Batch, step: number, repeats: number) {
  const backend = tf.backend() as unknown as WebGpuBackendLike
  const run = backend.runWebGPUProgram
  const acquire = backend.bufferManager.acquireBuffer
  let dispatches = 0
  let peak = backend.bufferManager.numBytesAllocated
  backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
    dispatches++
    return run.apply(this, args)
  }
  backend.bufferManager.acquireBuffer = function (this: WebGpuBackendLike['bufferManager'], ...args: unknown[]) {
    const out = acquire.apply(this, args)
    peak = Math.max(peak, this.numBytesAllocated)
    return out
  }
  try {
    const L = trainer.model.numPatches
    const d = trainer.model.cfg.embed_dim
    const rng = streamRandom(cfg.seed, 'step', step)
    const noise = uniformArray(rng, batch.n * L)
    const drop = dropoutMask(rng, batch.n * d, cfg.dropout)
    const lossFn = () => task.loss(batch, cfg.maskRatio, noise, drop).loss
    const vars = [...trainer.model.trainableVariables(), ...(trainer.head?.trainable().map((p) => p.variable) ?? [])]
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
    const forward: number[] = []
    const backward: number[] = []
    const enqueue: number[] = []
    let forwardKernels = 0
    let backwardKernels = 0
    for (let i = 0; i < repeats; i++) {
      dispatches = 0
      let t0 = performance.now()
      const loss = tf.tidy(lossFn)
      await loss.data()
      forward.push((performance.now() - t0) / 1000)
      loss.dispose()
      forwardKernels = dispatches
      dispatches = 0
      t0 = performance.now()
      const { value, grads } = tf.variableGrads(() => tf.tidy(lossFn), vars)
      const t1 = performance.now() // every kernel of forward + backward is enqueued; none read yet
      await value.data()
      backward.push((performance.now() - t0) / 1000)
      enqueue.push((t1 - t0) / 1000)
      tf.dispose([value, ...Object.values(grads)])
      backwardKernels = dispatches
    }
    dispatches = 0
    await trainer.trainStep(batch, step)
    return {
      forwardSeconds: median(forward),
      forwardBackwardSeconds: median(backward),
      kernelsForward: forwardKernels,
      kernelsForwardBackward: backwardKernels,
      kernelsPerStep: dispatches,
      cpuMicrosecondsPerKernel: (median(enqueue) * 1e6) / Math.max(1, backwardKernels),
      peakGpuBytes: peak
    }
  } finally {
    backend.runWebGPUProgram = run
    backend.bufferManager.acquireBuffer = acquire
  }
}

registerJob('train-bench', async (p, ctx) => {
  const tf = ctx.tf.tf
  if (ctx.tf.gpu?.software && !p.allowSoftware) {
    throw new Error(`${ctx.tf.device} is a software adapter: benchmarking it says nothing about GPUs (pass --allow-software to run it anyway)`)
  }
  const modelConfig = (PRESETS[p.preset as PresetName] ?? prithvi100m)({ img_size: p.imgSize, ...p.model })
  const config = RunConfig.parse({
    name: 'bench',
    task: p.task,
    model: { random: modelConfig },
    data: { kind: 'folder', path: '/unused', layout: 'imagefolder' },
    steps: p.warmup + p.steps,
    batchSize: p.batchSize,
    maskRatio: p.maskRatio,
    dropout: 0.5,
    microBatch: p.microBatch ?? p.batchSize,
    ...(p.task === 'segmentation' ? { segmentation: { numClasses: 2, ...p.segmentation } } : {}),
    ...(p.freezeBlocks ? { freezeBlocks: p.freezeBlocks } : {}),
    optimizer: { name: 'adam', lr: 8.2e-6 },
    schedule: { name: 'constant', warmupSteps: 0 }
  })
  ctx.progress(0, p.warmup + p.steps, 'building the model')
  const trainer = new Trainer({ tf, config, modelConfig, weights: randomWeights(modelConfig, 0, { decoder: p.task === 'pretrain' }), numClasses: p.task === 'pretrain' ? 0 : 2 })
  try {
    const frozenNotes = await trainer.prepare()
    const s = p.imgSize
    const x = new Float32Array(p.batchSize * 6 * s * s)
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 1.5
    const batch: Batch = { step: 0, n: p.batchSize, x, ...(p.task === 'classification' ? { labels: Int32Array.from({ length: p.batchSize }, (_, i) => i % 2) } : {}), ...(p.task === 'segmentation' ? { masks: Uint8Array.from({ length: p.batchSize * s * s }, (_, i) => (i % 7 === 0 ? 1 : 0)) } : {}) }
    const times: number[] = []
    for (let step = 0; step < p.warmup + p.steps; step++) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      const t0 = performance.now()
      await trainer.trainStep(batch, step)
      const dt = (performance.now() - t0) / 1000
      if (step >= p.warmup) times.push(dt)
      ctx.progress(step + 1, p.warmup + p.steps, `step ${step + 1}: ${dt.toFixed(2)} s`)
    }
    const seconds = times.reduce((a, b) => a + b, 0)
    const profile = ctx.tf.backend === 'webgpu' && trainer.task instanceof ClassificationTask ? await profileWebGpu(tf, trainer, trainer.task, config, batch, p.warmup + p.steps, Math.max(1, Math.min(3, p.steps))) : undefined
    // WebAssembly.Memory only grows, so its size now is the step's peak heap (wasm backend only).
    const wasmHeap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.buffer.byteLength
    return {
      backend: ctx.tf.backend,
      device: ctx.tf.device,
      steps: times.length,
      secondsPerStep: seconds / times.length,
      microBatch: config.microBatch,
      imagesPerSecond: (p.batchSize * times.length) / seconds,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      ...(wasmHeap ? { wasmHeapBytes: wasmHeap } : {}),
      numTensors: tf.memory().numTensors,
      freezeBlocks: p.freezeBlocks ?? 0,
      ...(frozenNotes.length ? { frozenPrefix: frozenNotes.join('; ') } : {}),
      ...(profile ? { webgpu: profile, adapter: ctx.tf.gpu } : {})
    }
  } finally {
    trainer.dispose()
  }
})

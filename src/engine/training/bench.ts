// `train-bench` engine job: training-step throughput of a classification step (encoder + CLS head,
// BCE, Adam) on synthetic data, for bench/train-step.mjs. Runs in a fresh engine per backend so
// the process's peak RSS belongs to this measurement alone.
import { z } from 'zod'
import { registerJob } from '../jobs/registry'
import { prithvi100m, PRESETS, type PresetName } from '../model/config'
import { randomWeights } from '../model/params'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { Trainer } from './trainer'
import type { Batch } from './data'

const Params = z.object({
  preset: z.enum(['prithvi-100m', 'prithvi-tiny']).default('prithvi-100m'),
  batchSize: z.number().int().positive().default(4),
  imgSize: z.number().int().positive().default(224),
  maskRatio: z.number().min(0).max(0.95).default(0.375),
  steps: z.number().int().positive().default(3),
  warmup: z.number().int().min(0).default(1),
  /** Gradient accumulation chunk; default: the whole batch (batch 4 of Prithvi-100M fits wasm's 4 GB heap). */
  microBatch: z.number().int().positive().optional(),
  /** Architecture overrides of the preset (memory calibration of src/shared/training/memory.ts). */
  model: z.record(z.string(), z.number()).optional(),
  task: z.enum(['classification', 'pretrain', 'segmentation']).default('classification'),
  /** Segmentation head (neck width, FCN channels), as in RunConfig.segmentation. */
  segmentation: z.object({ neckDim: z.number().int().positive().optional(), headChannels: z.number().int().positive().default(256), auxHead: z.boolean().default(false) }).optional()
})

registerJob('train-bench', async (raw, ctx) => {
  const p = Params.parse(raw)
  const tf = ctx.tf.tf
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
    optimizer: { name: 'adam', lr: 8.2e-6 },
    schedule: { name: 'constant', warmupSteps: 0 }
  })
  ctx.progress(0, p.warmup + p.steps, 'building the model')
  const trainer = new Trainer({ tf, config, modelConfig, weights: randomWeights(modelConfig, 0, { decoder: p.task === 'pretrain' }), numClasses: p.task === 'pretrain' ? 0 : 2 })
  try {
    const s = p.imgSize
    const x = new Float32Array(p.batchSize * 6 * s * s)
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 1.5
    const batch: Batch = { step: 0, n: p.batchSize, x, ...(p.task === 'classification' ? { labels: Int32Array.from({ length: p.batchSize }, (_, i) => i % 2) } : {}), ...(p.task === 'segmentation' ? { masks: Uint8Array.from({ length: p.batchSize * s * s }, (_, i) => (i % 7 === 0 ? 1 : 0)) } : {}) }
    const times: number[] = []
    for (let step = 0; step < p.warmup + p.steps; step++) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      const t0 = performance.now()
      trainer.trainStep(batch, step)
      const dt = (performance.now() - t0) / 1000
      if (step >= p.warmup) times.push(dt)
      ctx.progress(step + 1, p.warmup + p.steps, `step ${step + 1}: ${dt.toFixed(2)} s`)
    }
    const seconds = times.reduce((a, b) => a + b, 0)
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
      numTensors: tf.memory().numTensors
    }
  } finally {
    trainer.dispose()
  }
})

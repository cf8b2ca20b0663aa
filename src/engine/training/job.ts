// The engine's `train` job (classification, segmentation, pre-training) and the `training-pause`
// method main calls to stop a run after its current step with a checkpoint.
import { z } from 'zod'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { BandStatsSchema, PrithviConfigSchema } from '@shared/ipc/schemas/models'
import { registerJob } from '../jobs/registry'
import { registerMethod } from '../methods'
import { runTraining } from './runner'

const TrainJobParams = z.object({
  runId: z.number().int(),
  runDir: z.string(),
  config: RunConfig,
  model: z.object({ path: z.string().optional(), config: PrithviConfigSchema, stats: BandStatsSchema }),
  resumeFrom: z.string().optional()
})

const pauseRequested = new Set<string>()

registerMethod('training-pause', (_tf, raw) => {
  const { jobId } = z.object({ jobId: z.string() }).parse(raw)
  pauseRequested.add(jobId)
  return { ok: true }
})

registerJob('train', async (raw, ctx) => {
  const params = TrainJobParams.parse(raw)
  try {
    return await runTraining(ctx.tf.tf, params, {
      signal: ctx.signal,
      shouldPause: () => pauseRequested.has(ctx.jobId),
      emit: (event, payload) => ctx.emit(event, payload),
      progress: (done, total, message) => ctx.progress(done, total, message),
      log: (level, message) => ctx.log(level, message),
      backend: ctx.tf.backend,
      device: ctx.tf.device
    })
  } finally {
    pauseRequested.delete(ctx.jobId)
  }
})

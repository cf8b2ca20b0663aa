// The engine's `train` job (classification, segmentation, pre-training) and the `training-pause`
// method main calls to stop a run after its current step with a checkpoint.
import { z } from 'zod'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { BandStatsSchema, PrithviConfigSchema } from '@shared/ipc/schemas/models'
import { registerJob } from '../jobs/registry'
import { registerMethod } from '../methods'
import { runTraining } from './runner'
import './bench'

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

const ExportParams = z.object({ checkpoint: z.string(), outPath: z.string().endsWith('.safetensors'), note: z.string().default('') })

/** Writes a training checkpoint's backbone (decoder included) as a plain model: safetensors + JSON config. */
registerJob('training-export', async (raw, ctx) => {
  const p = ExportParams.parse(raw)
  const { loadTrainingCheckpoint } = await import('./state')
  const { writeSafetensors } = await import('../checkpoint')
  const { writeFile } = await import('node:fs/promises')
  ctx.progress(0, 2, 'reading checkpoint')
  const ck = await loadTrainingCheckpoint(p.checkpoint, (n) => !/^(blocks|decoder_blocks)\.|^(cls_token|mask_token|patch_embed|norm|decoder_embed|decoder_norm|decoder_pred)/.test(n))
  ctx.progress(1, 2, 'writing model')
  await writeSafetensors(p.outPath, ck.backbone, { format: 'marsfm-model/1' })
  let values = 0
  for (const w of ck.backbone.values()) values += w.data.length
  const meta = { format: 'marsfm-model/1', config: ck.meta.model, stats: ck.meta.stats, parameterCount: values, trainedSteps: ck.meta.step, task: ck.meta.task, run: ck.meta.config, note: p.note }
  await writeFile(p.outPath.replace(/\.safetensors$/, '.json'), JSON.stringify(meta, null, 2) + '\n')
  ctx.progress(2, 2, 'done')
  return { outPath: p.outPath, parameterCount: values, step: ck.meta.step }
})

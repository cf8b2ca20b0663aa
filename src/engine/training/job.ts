// The engine's `train` job (classification, segmentation, pre-training), the `training-export`
// job and the `training-memory` method. A run pauses on the protocol's `pause-job` message, which
// the loop reads from its own JobContext after each step.
import { z } from 'zod'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { PrithviConfigSchema } from '@shared/ipc/schemas/models'
import { MODEL_FILE_FORMAT, modelFileFamily } from '@shared/models/model-file'
import type { TrainJobParams } from '@shared/engine/jobs'
import { registerJob } from '../jobs/registry'
import { registerMethod } from '../methods'
import { runTraining } from './runner'
import { EngineFaultError, faultOf, type Fault } from '../faults'
import { checkTrainingMemory, formatBytes, memoryLimit, memoryRunOf, type MemoryArch, type MemoryLimit } from '@shared/training/memory'
import type { TfHandle } from '../tf/handle'
import { totalmem } from 'node:os'
import './bench'

/** What this engine's backend allows a training step. */
export function engineMemoryLimit(tf: TfHandle): MemoryLimit {
  return memoryLimit(tf.backend, totalmem(), tf.gpu ?? null)
}

/** MARSFM_MEMORY_CHECK=off lets a run start whatever the estimate says (it is an estimate). */
function memoryCheckEnforced(): boolean {
  return process.env.MARSFM_MEMORY_CHECK !== 'off'
}

const MemoryParams = z.object({ config: RunConfig, model: PrithviConfigSchema, numClasses: z.number().int().min(0).optional() })

/** The memory estimate of a run config on this engine's backend: the verdict main computes from the engine's status, from inside. */
registerMethod('training-memory', (tf, raw) => {
  const p = MemoryParams.parse(raw)
  const arch: MemoryArch = { ...p.model, ...(p.config.imgSize ? { img_size: p.config.imgSize } : {}) }
  return { ...checkTrainingMemory(arch, memoryRunOf(p.config, p.numClasses), engineMemoryLimit(tf)), enforced: memoryCheckEnforced() }
})

/** The plain reason a run stopped on a fault: what ran out, at which batch, and what fits. */
function faultReason(fault: Fault, params: TrainJobParams, tf: TfHandle): string {
  const cfg = params.config
  const img = cfg.imgSize ?? params.model.config.img_size
  const at = `at batch ${cfg.batchSize}${cfg.microBatch && cfg.microBatch < cfg.batchSize ? ` (micro-batches of ${cfg.microBatch})` : ''}, ${img}² images`
  const arch: MemoryArch = { ...params.model.config, img_size: img }
  const fits = () => {
    const v = checkTrainingMemory(arch, memoryRunOf(cfg), engineMemoryLimit(tf))
    if (!v.fits) return v.maxBatch ? `; the largest batch that fits is about ${v.maxBatch}` : '; not even batch 1 fits: use a smaller image size or model'
    // The estimate let this batch through, so it was too low here: no number to trust.
    return `; the estimate for this batch (about ${formatBytes(v.estimate.bytes.total)}) was too low, so use a smaller batch or a micro-batch`
  }
  switch (fault.kind) {
    case 'wasm-memory':
    case 'wasm-abort':
      return `the model ran out of WebAssembly memory ${at}${fits()} (${fault.detail})`
    case 'gpu-memory':
      return `the model ran out of GPU memory ${at}${fits()} (${fault.detail})`
    case 'gpu-lost':
      return `${fault.detail} ${at}`
  }
}

registerJob('train', async (params, ctx) => {
  try {
    return await runTraining(ctx.tf.tf, params, {
      memoryLimit: memoryCheckEnforced() ? engineMemoryLimit(ctx.tf) : null,
      signal: ctx.signal,
      shouldPause: () => ctx.pauseRequested(),
      emit: (event, payload) => ctx.emit(event, payload),
      progress: (done, total, message) => ctx.progress(done, total, message),
      log: (level, message) => ctx.log(level, message),
      backend: ctx.tf.backend,
      device: ctx.tf.device
    })
  } catch (err) {
    const fault = faultOf(err)
    if (fault) throw new EngineFaultError(faultReason(fault, params, ctx.tf), fault)
    throw err
  }
})

/** Writes a training checkpoint's backbone (decoder included) as a plain model: safetensors + its `marsfm-model/1` JSON. */
registerJob('training-export', async (p, ctx) => {
  const { loadTrainingCheckpoint } = await import('./state')
  const { writeSafetensors } = await import('../checkpoint')
  const { writeFile } = await import('node:fs/promises')
  ctx.progress(0, 2, 'reading checkpoint')
  const ck = await loadTrainingCheckpoint(p.checkpoint, (n) => !/^(blocks|decoder_blocks)\.|^(cls_token|mask_token|patch_embed|norm|decoder_embed|decoder_norm|decoder_pred)/.test(n))
  ctx.progress(1, 2, 'writing model')
  await writeSafetensors(p.outPath, ck.backbone, { format: MODEL_FILE_FORMAT })
  let values = 0
  for (const w of ck.backbone.values()) values += w.data.length
  // The family and its statistics in the family's own form, so the file re-imports as what it is.
  const { family, stats } = modelFileFamily(ck.meta.model, ck.meta.stats)
  const meta = { format: MODEL_FILE_FORMAT, family, config: ck.meta.model, ...(stats ? { stats } : {}), parameterCount: values, trainedSteps: ck.meta.step, task: ck.meta.task, run: ck.meta.config, note: p.note }
  await writeFile(p.outPath.replace(/\.safetensors$/, '.json'), JSON.stringify(meta, null, 2) + '\n')
  ctx.progress(2, 2, 'done')
  return { outPath: p.outPath, parameterCount: values, step: ck.meta.step }
})

// `marsfm pretrain`: masked-autoencoder (continued) pre-training on a folder of Mars tiles with the
// same model code, recorded in the ledger as a run; `--out` writes the result as a model file
// (safetensors + JSON config with band statistics), which is how resources/models/ is made.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CliIo, Command } from '../command'
import type { AppContext } from '../../app/types'
import { UsageError } from '../command'
import { prithvi100m } from '@engine/model/config'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import type { RunConfigInput } from '@shared/ipc/schemas/runs'
import { startRun } from '../../runs/start'
import { latestCheckpoint, runCheckpoints } from '../../runs/repository'
import { runEngineJob } from '../run-job'
import { followRun } from './train'

const USAGE = `marsfm pretrain --data FOLDER [--model random|demo|ID|CHECKPOINT] [--steps 2000] [--batch 16] [--lr 1.5e-4]
               [--mask-ratio 0.75] [--tile-norm none|standardize] [--augment] [--freeze-encoder] [--seed 0] [--name NAME] [--out model.safetensors] [--json]
               --freeze-encoder: only the decoder trains (gives an encoder-only model, e.g. a fine-tuned backbone, a decoder
               for reconstruction without changing its features; a model without decoder starts a random one)
       marsfm pretrain --export-run RUN_ID --out model.safetensors   (a finished run, e.g. after marsfm train --resume;
               a fine-tuning run gives its kept checkpoint's encoder, without head or decoder)
               input size (a continued model: its own unless given): [--img-size 64]
               architecture of a random model: [--patch 16] [--embed 128] [--depth 4] [--heads 4]
               [--decoder-embed 64] [--decoder-depth 2] [--decoder-heads 4]`

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'masked-autoencoder pre-training on a folder of tiles (random init or continued from a model)',
  usage: USAGE,
  needsEngine: true,
  async run(args, ctx, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        data: { type: 'string' },
        model: { type: 'string', default: 'random' },
        steps: { type: 'string', default: '2000' },
        batch: { type: 'string', default: '16' },
        lr: { type: 'string', default: '1.5e-4' },
        'weight-decay': { type: 'string', default: '0.05' },
        warmup: { type: 'string', default: '100' },
        'mask-ratio': { type: 'string', default: '0.75' },
        'tile-norm': { type: 'string' },
        augment: { type: 'boolean', default: false },
        'freeze-encoder': { type: 'boolean', default: false },
        seed: { type: 'string', default: '0' },
        name: { type: 'string' },
        out: { type: 'string' },
        'export-run': { type: 'string' },
        json: { type: 'boolean', default: false },
        'log-every': { type: 'string', default: '50' },
        'eval-every': { type: 'string', default: '500' },
        'img-size': { type: 'string' },
        patch: { type: 'string', default: '16' },
        embed: { type: 'string', default: '128' },
        depth: { type: 'string', default: '4' },
        heads: { type: 'string', default: '4' },
        'decoder-embed': { type: 'string', default: '64' },
        'decoder-depth': { type: 'string', default: '2' },
        'decoder-heads': { type: 'string', default: '4' }
      }
    })
    if (values['export-run']) {
      if (!values.out) throw new UsageError('--export-run needs --out model.safetensors')
      const runId = Number(values['export-run'])
      if (!Number.isInteger(runId) || runId <= 0) throw new UsageError('--export-run takes a run id')
      await ctx.engine.whenReady()
      const run = ctx.runs.get(runId)
      if (run.status !== 'done') throw new Error(`run #${runId} is not finished (${run.task}, ${run.status}): export a finished run`)
      return exportRun(ctx, io, runId, resolve(values.out), run.task !== 'pretrain')
    }
    if (!values.data) throw new UsageError('--data FOLDER is required')
    const num = (k: keyof typeof values): number => {
      const v = Number(values[k])
      if (!Number.isFinite(v)) throw new UsageError(`--${String(k)} must be a number`)
      return v
    }
    const m = values.model
    if (values['freeze-encoder'] && m === 'random') throw new UsageError('--freeze-encoder needs a trained encoder (--model demo|ID|FILE): a frozen random encoder stays random')
    const model: RunConfigInput['model'] =
      m === 'random'
        ? {
            random: prithvi100m({
              img_size: values['img-size'] === undefined ? 64 : num('img-size'),
              patch_size: num('patch'),
              embed_dim: num('embed'),
              depth: num('depth'),
              num_heads: num('heads'),
              decoder_embed_dim: num('decoder-embed'),
              decoder_depth: num('decoder-depth'),
              decoder_num_heads: num('decoder-heads')
            }),
            stats: PRITHVI_HLS_STATS
          }
        : m === 'demo'
          ? { demo: true }
          : /^\d+$/.test(m)
            ? { id: Number(m) }
            : { path: resolve(m) }
    const steps = num('steps')
    const tileNorm = values['tile-norm']
    // Unset: as the starting model was pre-trained ('none' for a random model).
    if (tileNorm !== undefined && tileNorm !== 'none' && tileNorm !== 'standardize') throw new UsageError('--tile-norm must be none or standardize')
    const config: RunConfigInput = {
      name: values.name ?? `pretrain ${values.data.split(/[\\/]/).filter(Boolean).pop()}`,
      task: 'pretrain',
      model,
      data: { kind: 'folder', path: resolve(values.data), layout: 'images' },
      preprocessing: { recipe: 'postnorm-dup', truncate: true, ...(tileNorm ? { tileNorm } : {}) },
      steps,
      batchSize: num('batch'),
      seed: num('seed'),
      maskRatio: num('mask-ratio'),
      // Random flips and quarter turns: orbital tiles have no preferred orientation, and a small
      // unlabelled set goes further when each tile is seen in eight orientations.
      augment: values.augment,
      // A continued model keeps its pre-training size unless --img-size says otherwise.
      ...(m !== 'random' && values['img-size'] !== undefined ? { imgSize: num('img-size') } : {}),
      freezeBackbone: values['freeze-encoder'],
      optimizer: { name: 'adamw', lr: num('lr'), beta1: 0.9, beta2: 0.95, weightDecay: num('weight-decay') },
      schedule: { name: 'cosine', warmupSteps: Math.min(num('warmup'), steps), minLrRatio: 0.01 },
      eval: { everySteps: Math.min(num('eval-every'), steps), maxImages: 0 },
      checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' }
    }
    await ctx.engine.whenReady()
    const runs = ctx.runs
    let runId: number
    try {
      runId = (await startRun(ctx, config)).runId
    } catch (err) {
      const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues
      if (issues) throw new UsageError(`invalid settings: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
      throw err
    }
    if (!values.json) io.out(`pre-training run #${runId} started`)
    const code = await followRun(ctx, io, runId, { json: values.json, logEvery: Math.max(1, num('log-every')) })
    if (code !== 0 || !values.out) return code
    if (runs.get(runId).status !== 'done') return code
    return exportRun(ctx, io, runId, resolve(values.out))
  }
}

/**
 * Pre-training runs export their newest checkpoint (encoder and decoder). Fine-tuning runs export
 * the checkpoint the run kept (its best by the run's metric, else the newest): the encoder a user
 * would reuse as a backbone (Backbones view, another fine-tuning); the head is left out.
 */
async function exportRun(ctx: AppContext, io: CliIo, runId: number, outPath: string, fineTuned = false): Promise<number> {
  const kept = fineTuned ? runCheckpoints(ctx.ledger.db, runId).filter((c) => c.kind === 'best').pop() : undefined
  const chosen = kept ?? latestCheckpoint(ctx.ledger.db, runId)
  if (!chosen) throw new Error(`run #${runId} left no checkpoint`)
  const task = fineTuned ? 'fine-tuning' : 'pretrain'
  const r = (await runEngineJob(ctx, io, 'training-export', 'export model', { checkpoint: chosen.path, outPath, note: `marsfm ${task} run #${runId}, ${chosen.kind} checkpoint of step ${chosen.step}` })) as { parameterCount: number }
  io.out(`wrote ${outPath} (${r.parameterCount.toLocaleString('en-US')} values${fineTuned ? `, encoder of the ${chosen.kind} checkpoint at step ${chosen.step}` : ''}) and its JSON config`)
  return 0
}

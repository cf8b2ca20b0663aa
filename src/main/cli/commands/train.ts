// `marsfm train --config run.json` / `marsfm train --preset ID --data FOLDER|version:N` /
// `marsfm train --resume RUN`: a fine-tuning run from a shell,
// recorded in the ledger like one started from the Training view. Ctrl-C pauses with a checkpoint
// (a second Ctrl-C cancels). `marsfm train --delete RUN` deletes a run that is not running or
// queued (ledger rows and checkpoints), without starting the engine.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Command, CliIo } from '../command'
import { UsageError } from '../command'
import type { AppContext } from '../../app/types'
import { jsonSyntaxDetail } from '@shared/datasets/formats/format-error'
import type { RunMetricsEvent, RunRecord } from '@shared/ipc/schemas/runs'
import { startRun } from '../../runs/start'
import { removeRun } from '../../runs/deletion'
import { RUN_PRESETS } from '@shared/training/presets'

/** A run config from a preset and the few options a shell user sets. */
export function presetConfig(o: { preset: string; data: string; positive?: string; steps?: string; name?: string; model?: string; freezeBlocks?: number; cwd?: string }): unknown {
  const preset = RUN_PRESETS.find((p) => p.id === o.preset)
  if (!preset) throw new UsageError(`unknown preset "${o.preset}"; presets: ${RUN_PRESETS.map((p) => p.id).join(', ')}`)
  const version = /^version:(\d+)$/.exec(o.data)
  const task = preset.config.task
  const data = version
    ? { kind: 'dataset-version', id: Number(version[1]) }
    : { kind: 'folder', path: resolve(o.cwd ?? process.cwd(), o.data), layout: task === 'segmentation' ? 'mmseg' : task === 'pretrain' ? 'images' : 'imagefolder' }
  // The preset's own model unless --model names one ('demo': the MAE, 'demo-crater': the crater encoder).
  let model: unknown = preset.model ?? { demo: true }
  if (o.model === 'demo') model = { demo: true }
  else if (o.model === 'demo-crater') model = { demo: 'crater' }
  else if (o.model) model = /^\d+$/.test(o.model) ? { id: Number(o.model) } : { path: resolve(o.cwd ?? process.cwd(), o.model) }
  let steps: number | undefined
  if (o.steps !== undefined) {
    steps = Number(o.steps)
    if (!Number.isInteger(steps) || steps < 1) throw new UsageError('--steps takes a positive whole number')
  }
  return {
    ...preset.config,
    name: o.name ?? `${preset.title} on ${version ? `dataset version ${version[1]}` : o.data}`,
    model,
    data,
    ...(o.positive ? { positiveClass: o.positive } : {}),
    ...(steps ? { steps } : {}),
    ...(o.freezeBlocks !== undefined ? { freezeBlocks: o.freezeBlocks } : {})
  }
}

/** --freeze-blocks K: partial fine-tuning's number of frozen leading encoder blocks. */
export function freezeBlocksOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const k = Number(value)
  if (value.trim() === '' || !Number.isInteger(k) || k < 0) throw new UsageError('--freeze-blocks takes a whole number of encoder blocks, 0 or more (the model\'s depth trains the head only)')
  return k
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.round(seconds)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2)
}

/** Follows a run to its end, printing progress; returns the exit code. */
export async function followRun(ctx: AppContext, io: CliIo, runId: number, opts: { json: boolean; logEvery: number }): Promise<number> {
  const runs = ctx.runs
  const onMetrics = (m: RunMetricsEvent) => {
    if (m.runId !== runId) return
    if (opts.json) {
      io.out(JSON.stringify(m))
      return
    }
    const isEval = Object.keys(m.metrics).some((k) => k.startsWith('val/'))
    if (isEval) {
      io.out(`eval  step ${m.step}/${m.totalSteps}  ${Object.entries(m.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`)
    } else if (m.step % opts.logEvery === 0 || m.step === m.totalSteps) {
      const loss = m.metrics['train/loss']
      io.out(
        `step  ${m.step}/${m.totalSteps}  loss ${loss === undefined ? '?' : fmt(loss)}  lr ${fmt(m.metrics.lr ?? 0)}  ${(m.imagesPerSecond ?? 0).toFixed(1)} img/s  ETA ${duration(m.etaSeconds ?? NaN)}`
      )
    }
  }
  runs.on('metrics', onMetrics)
  let interrupts = 0
  const onSigint = () => {
    interrupts++
    if (interrupts === 1) {
      io.err('pausing after the current step (Ctrl-C again cancels)…')
      try {
        runs.pause(runId)
      } catch (e) {
        io.err((e as Error).message)
      }
    } else runs.cancel(runId)
  }
  process.on('SIGINT', onSigint)
  try {
    const final: RunRecord = await runs.waitFor(runId)
    const best = Object.entries(final.latest).filter(([k]) => k.startsWith('val/') && !k.includes('confusion'))
    if (!opts.json) {
      io.out(`run #${runId} ${final.status}${final.statusReason ? `: ${final.statusReason}` : ''}`)
      if (best.length) io.out(`last evaluation: ${best.map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`)
      io.out(`backend ${final.backend ?? '?'} (${final.device ?? '?'}); checkpoints in ${runs.runDir(runId)}/checkpoints`)
    }
    return final.status === 'done' || final.status === 'paused' ? 0 : 1
  } finally {
    runs.off('metrics', onMetrics)
    process.off('SIGINT', onSigint)
  }
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'fine-tune (classification / segmentation) from a run config, or resume a run',
  usage:
    'marsfm train --config run.json [--positive CLASS] [--freeze-blocks K] [--json] [--log-every N]\n' +
    '       marsfm train --preset ID --data FOLDER|version:N [--positive CLASS] [--steps N] [--model demo|demo-crater|MODEL_ID|FILE] [--name NAME] [--freeze-blocks K] [--json]\n' +
    '                    --freeze-blocks K: classification, partial fine-tuning: the first K encoder blocks stay frozen and run in\n' +
    '                    ONNX Runtime; the later blocks, the final norm and the head train (K = depth: head only)\n' +
    `                    presets: ${RUN_PRESETS.map((p) => p.id).join(', ')}\n` +
    '       marsfm train --resume RUN_ID [--json]\n       marsfm train --delete RUN_ID [--json]',
  needsEngine: (args) => !args.some((a) => a === '--delete' || a.startsWith('--delete=')),
  async run(args, ctx, io) {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        preset: { type: 'string' },
        data: { type: 'string' },
        positive: { type: 'string' },
        steps: { type: 'string' },
        model: { type: 'string' },
        name: { type: 'string' },
        'freeze-blocks': { type: 'string' },
        resume: { type: 'string' },
        delete: { type: 'string' },
        json: { type: 'boolean', default: false },
        'log-every': { type: 'string', default: '10' }
      },
      strict: true
    })
    const runIdOf = (option: string, value: string) => {
      const id = Number(value)
      if (!Number.isInteger(id) || id <= 0) throw new UsageError(`--${option} takes a run id`)
      return id
    }
    const runs = ctx.runs
    if (values.delete !== undefined) {
      if (values.config || values.resume) throw new UsageError('--delete goes alone (not with --config or --resume)')
      const id = runIdOf('delete', values.delete)
      const dir = runs.runDir(id)
      removeRun(ctx, id)
      io.out(values.json ? JSON.stringify({ deleted: id }) : `run #${id} deleted (its ledger rows and ${dir})`)
      return 0
    }
    const logEvery = Number(values['log-every'])
    if (!Number.isInteger(logEvery) || logEvery < 1) throw new UsageError('--log-every must be an integer ≥ 1')
    // Options are checked before waiting for the engine: a usage error answers at once.
    if (values.resume !== undefined && values.config) throw new UsageError('--resume goes alone (not with --config)')
    if (values.resume !== undefined && values['freeze-blocks'] !== undefined) throw new UsageError('--freeze-blocks is set when a run starts; a resumed run keeps its own')
    const freezeBlocks = freezeBlocksOption(values['freeze-blocks'])
    const resumeId = values.resume !== undefined ? runIdOf('resume', values.resume) : undefined
    if (resumeId === undefined && !values.config && !values.preset) throw new UsageError('--config run.json or --preset ID --data FOLDER (or --resume RUN_ID, or --delete RUN_ID) is required')
    let runId: number
    if (resumeId !== undefined) {
      await ctx.engine.whenReady()
      runId = resumeId
      runs.resume(runId)
    } else {
      if (values.config && values.preset) throw new UsageError('--config and --preset go one at a time')
      let config: unknown
      if (values.preset) {
        if (!values.data) throw new UsageError('--preset needs --data FOLDER or --data version:N')
        config = presetConfig({ preset: values.preset, data: values.data, ...(values.positive ? { positive: values.positive } : {}), ...(values.steps ? { steps: values.steps } : {}), ...(values.name ? { name: values.name } : {}), ...(values.model ? { model: values.model } : {}), ...(freezeBlocks !== undefined ? { freezeBlocks } : {}) })
      } else {
        if (values.data || values.steps || values.model || values.name) throw new UsageError('--data, --steps, --model and --name go with --preset (edit run.json for --config)')
        const path = resolve(values.config!)
        let text: string
        try {
          text = readFileSync(path, 'utf8')
        } catch (err) {
          throw new UsageError(`--config: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
        }
        try {
          config = JSON.parse(text)
        } catch (err) {
          // Where, not what: the parse error's snippet would print the file's text.
          throw new UsageError(`--config: ${path} is ${jsonSyntaxDetail(text, err)}`)
        }
        if (values.positive && config && typeof config === 'object') config = { ...config, positiveClass: values.positive }
        if (freezeBlocks !== undefined && config && typeof config === 'object') config = { ...config, freezeBlocks }
      }
      await ctx.engine.whenReady()
      try {
        const started = await startRun(ctx, config)
        runId = started.runId
        for (const w of started.warnings) io.err(`warning: ${w}`)
      } catch (err) {
        const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues
        if (issues) throw new UsageError(`invalid run config: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
        throw err
      }
    }
    if (!values.json) {
      const cfg = runs.get(runId).config as { positiveClass?: string; checkpoint?: { bestMetric?: string }; freezeBlocks?: number }
      io.out(`run #${runId} started (ledger: ${ctx.ledger.path})${cfg.positiveClass ? `; positive class "${cfg.positiveClass}"` : ''}${cfg.checkpoint?.bestMetric ? `; best checkpoint by ${cfg.checkpoint.bestMetric}` : ''}${cfg.freezeBlocks ? `; first ${cfg.freezeBlocks} encoder block(s) frozen (ONNX Runtime)` : ''}`)
    }
    return followRun(ctx, io, runId, { json: values.json, logEvery })
  }
}

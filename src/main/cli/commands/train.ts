// `marsfm train --config run.json` / `marsfm train --resume RUN`: a fine-tuning run from a shell,
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
import { runsController } from '../../services/runs'

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
  const runs = runsController(ctx)
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
      runs.pause(runId).catch((e: Error) => io.err(e.message))
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
  usage: 'marsfm train --config run.json [--json] [--log-every N]\n       marsfm train --resume RUN_ID [--json]\n       marsfm train --delete RUN_ID [--json]',
  needsEngine: (args) => !args.some((a) => a === '--delete' || a.startsWith('--delete=')),
  async run(args, ctx, io) {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
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
    const runs = runsController(ctx)
    if (values.delete !== undefined) {
      if (values.config || values.resume) throw new UsageError('--delete goes alone (not with --config or --resume)')
      const id = runIdOf('delete', values.delete)
      const dir = runs.runDir(id)
      runs.delete(id)
      io.out(values.json ? JSON.stringify({ deleted: id }) : `run #${id} deleted (its ledger rows and ${dir})`)
      return 0
    }
    const logEvery = Number(values['log-every'])
    if (!Number.isInteger(logEvery) || logEvery < 1) throw new UsageError('--log-every must be an integer ≥ 1')
    // Options are checked before waiting for the engine: a usage error answers at once.
    if (values.resume !== undefined && values.config) throw new UsageError('--resume goes alone (not with --config)')
    const resumeId = values.resume !== undefined ? runIdOf('resume', values.resume) : undefined
    if (resumeId === undefined && !values.config) throw new UsageError('--config run.json (or --resume RUN_ID, or --delete RUN_ID) is required')
    let runId: number
    if (resumeId !== undefined) {
      await ctx.engine.whenReady()
      runId = resumeId
      runs.resume(runId)
    } else {
      const path = resolve(values.config!)
      let text: string
      try {
        text = readFileSync(path, 'utf8')
      } catch (err) {
        throw new UsageError(`--config: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
      let config: unknown
      try {
        config = JSON.parse(text)
      } catch (err) {
        // Where, not what: the parse error's snippet would print the file's text.
        throw new UsageError(`--config: ${path} is ${jsonSyntaxDetail(text, err)}`)
      }
      await ctx.engine.whenReady()
      try {
        runId = (await runs.start(config)).runId
      } catch (err) {
        const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues
        if (issues) throw new UsageError(`invalid run config: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
        throw err
      }
    }
    if (!values.json) io.out(`run #${runId} started (ledger: ${ctx.ledger.path})`)
    return followRun(ctx, io, runId, { json: values.json, logEvery })
  }
}

// `marsfm sweep --config sweep.json`: a grid or random search run in the foreground, each trial an
// ordinary run in the ledger (one at a time), with a progress line per trial and evaluation;
// Ctrl-C cancels the sweep (the running trial stops, the pending ones are dropped).
// `--emit slurm --out DIR` writes a Slurm job array instead: one trial config per task, each task
// running `marsfm train` in its own MARSFM_HOME (merge them back with `marsfm ledger merge`).
// `--resume ID` continues a sweep whose process stopped; `--list` lists sweeps.
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Command, CliIo } from '../command'
import { UsageError } from '../command'
import type { AppContext } from '../../app/types'
import { jsonSyntaxDetail } from '@shared/datasets/formats/format-error'
import { SweepSpecError, trialLabel } from '@shared/sweeps/spec'
import type { SweepRecord } from '@shared/ipc/schemas/sweeps'
import type { RunMetricsEvent } from '@shared/ipc/schemas/runs'
import { emitSlurm } from '../../sweeps/slurm'
import { table } from '../text'

/** Reads sweep.json; a relative `base.data` folder is taken relative to the file's folder. */
export function readSweepFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--config: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  let spec: unknown
  try {
    spec = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--config: ${path} is ${jsonSyntaxDetail(text, err)}`)
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new UsageError(`--config: ${path} must hold one JSON object (the sweep spec)`)
  const base = (spec as { base?: { data?: unknown } }).base
  if (base && typeof base.data === 'string' && !/^version:\d+$/.test(base.data) && !isAbsolute(base.data)) base.data = resolve(dirname(path), base.data)
  return spec as Record<string, unknown>
}

const fmt = (v: number | null) => (v === null ? '–' : Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2))

function summary(s: SweepRecord): string {
  const rows = s.trials.map((t) => [String(t.index + 1), t.runId === null ? '' : `#${t.runId}`, t.status, fmt(t.value), trialLabel(t.params)])
  const lines = [table(['trial', 'run', 'status', s.metric, 'parameters'], rows)]
  lines.push(`sweep #${s.id} ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}: ${Object.entries(s.counts).map(([k, n]) => `${n} ${k}`).join(', ')}`)
  if (s.best) lines.push(`best: trial ${s.best.index + 1}, run #${s.best.runId}, ${s.metric} ${fmt(s.best.value)} (${trialLabel(s.trials[s.best.index]!.params)})`)
  return lines.join('\n')
}

/** Follows a sweep to its end, a line per trial event; Ctrl-C cancels it. Exit: 0 all done, 3 some failed, 1 cancelled or none done. */
async function followSweep(ctx: AppContext, io: CliIo, sweepId: number, json: boolean): Promise<number> {
  const seen = new Map<number, string>()
  const total = ctx.sweeps.get(sweepId).trials.length
  const onStatus = (s: SweepRecord) => {
    if (s.id !== sweepId) return
    for (const t of s.trials) {
      const key = `${t.status}:${t.runId}`
      if (seen.get(t.index) === key) continue
      seen.set(t.index, key)
      if (t.status === 'pending') continue
      if (json) io.out(JSON.stringify({ sweep: sweepId, trial: t.index, status: t.status, runId: t.runId, value: t.value, params: t.params }))
      else if (t.status === 'running') io.out(`trial ${t.index + 1}/${total} run #${t.runId} started: ${trialLabel(t.params)}`)
      else io.out(`trial ${t.index + 1}/${total} ${t.status}${t.value !== null ? `: ${s.metric} ${fmt(t.value)}` : ''}${t.status !== 'done' && t.statusReason ? ` (${t.statusReason})` : ''}`)
    }
  }
  const onMetrics = (m: RunMetricsEvent) => {
    if (json) return
    const active = ctx.sweeps.get(sweepId).trials.find((t) => t.runId === m.runId && t.status === 'running')
    if (!active || !Object.keys(m.metrics).some((k) => k.startsWith('val/'))) return
    const shown = Object.entries(m.metrics).filter(([k]) => k.startsWith('val/') && !k.includes('confusion')).slice(0, 4)
    io.out(`  trial ${active.index + 1} eval step ${m.step}/${m.totalSteps}  ${shown.map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`)
  }
  ctx.sweeps.on('status', onStatus)
  ctx.runs.on('metrics', onMetrics)
  const onSigint = () => {
    io.err('cancelling the sweep (the running trial stops, pending ones are dropped)…')
    try {
      ctx.sweeps.cancel(sweepId)
    } catch (err) {
      io.err((err as Error).message)
    }
  }
  process.on('SIGINT', onSigint)
  try {
    onStatus(ctx.sweeps.get(sweepId))
    const final = await ctx.sweeps.waitFor(sweepId)
    io.out(json ? JSON.stringify(final) : summary(final))
    if (final.status === 'cancelled' || !final.counts.done) return 1
    return final.counts.done === final.trials.length ? 0 : 3
  } finally {
    ctx.sweeps.off('status', onStatus)
    ctx.runs.off('metrics', onMetrics)
    process.off('SIGINT', onSigint)
  }
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'grid / random search over run-config keys (foreground), or a Slurm job array of it',
  usage:
    'marsfm sweep --config sweep.json [--json]\n' +
    '       marsfm sweep --config sweep.json --emit slurm --out DIR [--time HH:MM:SS] [--partition P] [--sbatch mem=16G]… [--marsfm CMD]\n' +
    '       marsfm sweep --resume SWEEP_ID [--json]\n       marsfm sweep --list [--json]',
  needsEngine: (args) => !args.some((a) => a === '--list' || a === '--emit' || a.startsWith('--emit=')),
  async run(args, ctx, io) {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        emit: { type: 'string' },
        out: { type: 'string' },
        time: { type: 'string' },
        partition: { type: 'string' },
        sbatch: { type: 'string', multiple: true },
        marsfm: { type: 'string' },
        resume: { type: 'string' },
        list: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false }
      },
      strict: true
    })
    if (values.list) {
      const sweeps = ctx.sweeps.list()
      if (values.json) io.out(JSON.stringify(sweeps))
      else io.out(table(['id', 'name', 'status', 'trials', 'best'], sweeps.map((s) => [String(s.id), s.name, s.status, Object.entries(s.counts).map(([k, n]) => `${n} ${k}`).join(', '), s.best ? `run #${s.best.runId} ${s.metric} ${fmt(s.best.value)}` : ''])))
      return 0
    }
    if (values.resume !== undefined) {
      const id = Number(values.resume)
      if (!Number.isInteger(id) || id <= 0) throw new UsageError('--resume takes a sweep id')
      if (values.config) throw new UsageError('--resume goes alone (not with --config)')
      await ctx.engine.whenReady()
      ctx.sweeps.resume(id)
      return followSweep(ctx, io, id, values.json)
    }
    if (!values.config) throw new UsageError('--config sweep.json is required (or --resume SWEEP_ID, or --list)')
    const spec = readSweepFile(resolve(values.config))
    if (values.emit !== undefined) {
      if (values.emit !== 'slurm') throw new UsageError(`--emit: unknown target "${values.emit}" (only slurm)`)
      if (!values.out) throw new UsageError('--emit slurm needs --out DIR')
      if (values.time !== undefined && !/^(\d+-)?\d{1,2}(:\d{2}){0,2}$/.test(values.time)) throw new UsageError('--time takes Slurm\'s format, e.g. 02:00:00 or 1-00:00:00')
      const emitted = await emitSlurm(ctx, spec, { outDir: resolve(values.out), ...(values.time ? { time: values.time } : {}), ...(values.partition ? { partition: values.partition } : {}), sbatch: (values.sbatch ?? []).map((o) => (o.startsWith('-') ? o : `--${o}`)), ...(values.marsfm ? { marsfm: values.marsfm } : {}) }).catch((err: unknown) => {
        if (err instanceof SweepSpecError) throw new UsageError(err.message)
        throw err
      })
      if (values.json) io.out(JSON.stringify(emitted))
      else {
        io.out(`wrote ${emitted.trials} trial config(s) and ${emitted.script}`)
        io.out(`submit: sbatch ${emitted.script}`)
        io.out(`then merge: marsfm ledger merge ${emitted.homes}/*`)
      }
      return 0
    }
    if (values.out || values.time || values.partition || values.sbatch || values.marsfm) throw new UsageError('--out, --time, --partition, --sbatch and --marsfm go with --emit slurm')
    await ctx.engine.whenReady()
    let created: { sweepId: number; trials: number }
    try {
      created = ctx.sweeps.create(spec)
    } catch (err) {
      if (err instanceof SweepSpecError) throw new UsageError(err.message)
      throw err
    }
    const s = ctx.sweeps.get(created.sweepId)
    if (!values.json) io.out(`sweep #${created.sweepId} "${s.name}": ${created.trials} trial(s) (${s.method}), ranked by ${s.metric} (${s.goal}); ledger ${ctx.ledger.path}`)
    return followSweep(ctx, io, created.sweepId, values.json)
  }
}

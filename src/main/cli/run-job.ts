// Runs an engine job from the CLI: progress on stderr (when it is a terminal), Ctrl-C cancels,
// the job's failure becomes the command's error.
import type { AppContext } from '../app/types'
import type { CliIo } from './command'
import type { EngineJobKind, EngineJobParams, EngineJobResult } from '@shared/engine/jobs'

/** Runs an engine job to its end; its result (which the job manager checked against the kind's schema). */
export async function runEngineJob<K extends EngineJobKind>(ctx: AppContext, _io: CliIo, kind: K, title: string, params: EngineJobParams<K>): Promise<EngineJobResult<K>> {
  await ctx.engine.whenReady()
  const jobId = await ctx.jobs.startEngineJob(kind, title, params)
  return (await followJob(ctx, jobId, title)) as EngineJobResult<K>
}

/**
 * Shows a running job's progress until it ends; returns its result or throws its failure.
 * `keepPartial`: a job cancelled (Ctrl-C) after it finished part of its work returns that part.
 */
export async function followJob(ctx: AppContext, jobId: string, title: string, { keepPartial = false } = {}): Promise<unknown> {
  const tty = process.stderr.isTTY
  const onUpdate = (job: { id: string; done: number; total: number; message: string }) => {
    if (tty && job.id === jobId) process.stderr.write(`\r\x1b[K${title}: ${job.total ? `${job.done}/${job.total} ` : ''}${job.message}`)
  }
  ctx.jobs.on('update', onUpdate)
  const onSigint = () => ctx.jobs.cancel(jobId)
  process.once('SIGINT', onSigint)
  try {
    const final = await ctx.jobs.waitFor(jobId)
    if (tty) process.stderr.write('\r\x1b[K')
    if (final.state === 'failed') throw new Error(final.error?.message ?? 'failed')
    if (final.state === 'cancelled' && !(keepPartial && final.result !== undefined)) throw new Error('cancelled')
    return final.result
  } finally {
    ctx.jobs.off('update', onUpdate)
    process.off('SIGINT', onSigint)
  }
}

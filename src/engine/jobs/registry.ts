// Job kinds the engine knows. Each is an async function over its kind's parsed params (the
// catalogue in src/shared/engine/jobs.ts) that reports progress, checks its cancellation signal
// between steps, and may stream the events its kind declares (metrics, checkpoints).
import type { EngineJobEventName, EngineJobEventPayload, EngineJobInput, EngineJobKind, EngineJobReturn } from '@shared/engine/jobs'
import type { TfHandle } from '../tf/handle'

export interface JobContext<K extends EngineJobKind = EngineJobKind> {
  jobId: string
  signal: AbortSignal
  tf: TfHandle
  progress(done: number, total: number, message?: string): void
  emit<E extends EngineJobEventName<K>>(event: E, payload: EngineJobEventPayload<K, E>): void
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void
  /** Main asked this job to pause (`pause-job`) and has not withdrawn it (`resume-job`). */
  pauseRequested(): boolean
}

export type JobHandler<K extends EngineJobKind> = (params: EngineJobInput<K>, ctx: JobContext<K>) => Promise<EngineJobReturn<K>>

const handlers = new Map<EngineJobKind, JobHandler<EngineJobKind>>()

export function registerJob<K extends EngineJobKind>(kind: K, handler: JobHandler<K>): void {
  if (handlers.has(kind)) throw new Error(`job kind "${kind}" registered twice`)
  handlers.set(kind, handler as unknown as JobHandler<EngineJobKind>)
}

export function jobHandler(kind: EngineJobKind): JobHandler<EngineJobKind> | undefined {
  return handlers.get(kind)
}

/** Resolves after `ms`, or rejects as soon as the job is cancelled. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

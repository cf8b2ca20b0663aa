// Job kinds the engine knows. Each is an async function that reports progress, checks its
// cancellation signal between steps, and may stream named events (metrics, previews).
import type { TfHandle } from '../tf/handle'

export interface JobContext {
  jobId: string
  signal: AbortSignal
  tf: TfHandle
  progress(done: number, total: number, message?: string): void
  emit(event: string, payload: unknown): void
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void
}

export type JobHandler = (params: unknown, ctx: JobContext) => Promise<unknown>

const handlers = new Map<string, JobHandler>()

export function registerJob(kind: string, handler: JobHandler): void {
  if (handlers.has(kind)) throw new Error(`job kind "${kind}" registered twice`)
  handlers.set(kind, handler)
}

export function jobHandler(kind: string): JobHandler | undefined {
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

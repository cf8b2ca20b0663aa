// Every long piece of work is a job with an id, progress and a cancel. Engine jobs run in the
// engine child; local jobs (file imports, exports) run in main on async I/O. Either way the
// renderer sees the same `jobs:progress` events, and an engine crash fails its jobs with the reason.
// Engine jobs are typed by the catalogue (src/shared/engine/jobs.ts): params per kind, events
// parsed into a union per kind, the result parsed with the kind's schema.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { CancelledError, RemoteError } from '@shared/ipc/errors'
import type { EngineJobEvent, EngineJobKind, EngineJobParams, EngineJobResult } from '@shared/engine/jobs'
import { parseEngineJobEvent, parseEngineJobResult } from '@shared/engine/parse'
import type { EngineSupervisor, JobMessage } from '../engine/supervisor'

export interface LocalJobContext {
  jobId: string
  signal: AbortSignal
  progress(done: number, total: number, message?: string): void
}

export interface LocalJobHooks {
  onFinish?: (job: JobView) => void
}

export interface EngineJobHooks<K extends EngineJobKind> {
  /** Each event the job streams, parsed with its kind's schema (one that does not fit is logged and dropped). */
  onEvent?: (event: EngineJobEvent<K>) => void
  /**
   * The job's final view; for a job that is done, also its result parsed with its kind's schema,
   * and for a cancelled one what it finished before the cancel, if it kept anything.
   */
  onFinish?: (job: JobView, result?: EngineJobResult<K>) => void
}

/** Work in main before an engine job starts (resolve its inputs); returns the job's params. */
export type PrepareEngineJob<K extends EngineJobKind> = (ctx: LocalJobContext) => Promise<EngineJobParams<K>>

interface Tracked {
  view: JobView
  /** The engine job's kind (engine jobs only; a local job has none). */
  engineKind?: EngineJobKind
  /** Whether the engine has been told to start it (a prepared job runs in main first). */
  inEngine: boolean
  controller?: AbortController
  onEvent?: (event: { event: string; payload: unknown }) => void
  onFinish?: (job: JobView, result?: unknown) => void
}

export declare interface JobManager {
  on(event: 'update', listener: (job: JobView) => void): this
}

export class JobManager extends EventEmitter {
  private jobs = new Map<string, Tracked>()
  /** Last progress broadcast per job: progress is throttled so a fast job cannot flood the UI. */
  private lastEmit = new Map<string, number>()

  constructor(
    private readonly engine: EngineSupervisor,
    private readonly warn: (message: string) => void = () => {}
  ) {
    super()
    engine.on('job', (m) => this.onEngineMessage(m))
    engine.on('exit', (reason) => this.failEngineJobs(reason))
  }

  list(): JobView[] {
    return [...this.jobs.values()].map((j) => j.view).sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  get(jobId: string): JobView | undefined {
    return this.jobs.get(jobId)?.view
  }

  /** Starts a job in the engine once it is ready; returns its id. */
  async startEngineJob<K extends EngineJobKind>(kind: K, title: string, params: EngineJobParams<K>, hooks: EngineJobHooks<K> = {}): Promise<string> {
    await this.engine.whenReady()
    const view = this.track(kind, title, hooks as Pick<Tracked, 'onEvent' | 'onFinish'>, kind)
    try {
      this.send(view.id, kind, params)
    } catch (err) {
      this.finish(view.id, 'failed', { error: { name: (err as Error).name, message: (err as Error).message } })
      throw err
    }
    return view.id
  }

  /**
   * An engine job whose params take slow work in main first (importing a model, exporting data):
   * the job exists at once, `prepare` reports its progress and sees its cancel, then the engine
   * runs the job under the same id. A failure in `prepare` fails the job with its message.
   */
  startPreparedEngineJob<K extends EngineJobKind>(kind: K, title: string, prepare: PrepareEngineJob<K>, hooks: EngineJobHooks<K> = {}): string {
    const view = this.track(kind, title, hooks as Pick<Tracked, 'onEvent' | 'onFinish'>, kind)
    const controller = new AbortController()
    this.jobs.get(view.id)!.controller = controller
    const ctx = this.localContext(view.id, controller)
    void (async () => {
      const params = await prepare(ctx)
      await this.engine.whenReady()
      if (controller.signal.aborted) throw new CancelledError()
      this.send(view.id, kind, params)
    })().catch((err: Error) =>
      controller.signal.aborted || err instanceof CancelledError ? this.finish(view.id, 'cancelled') : this.finish(view.id, 'failed', { error: { name: err.name, message: err.message } })
    )
    return view.id
  }

  /** Runs `work` in main (async I/O only); returns the job id at once. */
  startLocalJob(kind: string, title: string, work: (ctx: LocalJobContext) => Promise<unknown>, hooks: LocalJobHooks = {}): string {
    const view = this.track(kind, title, hooks)
    const controller = new AbortController()
    this.jobs.get(view.id)!.controller = controller
    void work(this.localContext(view.id, controller)).then(
      (result) => (controller.signal.aborted ? this.finish(view.id, 'cancelled') : this.finish(view.id, 'done', { result })),
      (err: Error) =>
        controller.signal.aborted || err instanceof CancelledError
          ? this.finish(view.id, 'cancelled')
          : this.finish(view.id, 'failed', { error: { name: err.name, message: err.message } })
    )
    return view.id
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId)
    if (!job || (job.view.state !== 'running' && job.view.state !== 'queued')) return false
    if (job.inEngine) this.engine.cancelJob(jobId)
    else job.controller?.abort(new CancelledError())
    this.update(jobId, { message: 'cancelling…' })
    return true
  }

  /** Asks a running engine job to stop after its current step (`pause-job`); false if it is not in the engine. */
  pause(jobId: string, message = 'pausing after the current step…'): boolean {
    const job = this.jobs.get(jobId)
    if (!job || !job.inEngine || isFinal(job.view.state)) return false
    this.engine.pauseJob(jobId)
    this.update(jobId, { message }, true)
    return true
  }

  /** Withdraws a pause the engine job has not acted on yet (`resume-job`). */
  resume(jobId: string): boolean {
    const job = this.jobs.get(jobId)
    if (!job || !job.inEngine || isFinal(job.view.state)) return false
    this.engine.resumeJob(jobId)
    return true
  }

  /** Resolves with the final state of a job (used by the CLI and tests). */
  waitFor(jobId: string): Promise<JobView> {
    const current = this.jobs.get(jobId)?.view
    if (current && isFinal(current.state)) return Promise.resolve(current)
    return new Promise((resolve) => {
      const listener = (job: JobView) => {
        if (job.id === jobId && isFinal(job.state)) {
          this.off('update', listener)
          resolve(job)
        }
      }
      this.on('update', listener)
    })
  }

  private localContext(jobId: string, controller: AbortController): LocalJobContext {
    return { jobId, signal: controller.signal, progress: (done, total, message = '') => this.update(jobId, { done, total, message }) }
  }

  private send<K extends EngineJobKind>(jobId: string, kind: K, params: EngineJobParams<K>): void {
    const job = this.jobs.get(jobId)
    if (!job || isFinal(job.view.state)) return
    this.engine.startJob(jobId, kind, params)
    job.inEngine = true
  }

  private track(kind: string, title: string, hooks: Pick<Tracked, 'onEvent' | 'onFinish'>, engineKind?: EngineJobKind): JobView {
    const view: JobView = {
      id: randomUUID(),
      kind,
      title,
      state: 'running',
      done: 0,
      total: 0,
      message: 'starting…',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      error: null
    }
    this.jobs.set(view.id, { view, inEngine: false, ...(engineKind ? { engineKind } : {}), ...hooks })
    this.emit('update', view)
    return view
  }

  private update(jobId: string, patch: Partial<JobView>, force = false): void {
    const job = this.jobs.get(jobId)
    if (!job || isFinal(job.view.state)) return
    job.view = { ...job.view, ...patch }
    const now = Date.now()
    if (force || now - (this.lastEmit.get(jobId) ?? 0) >= 50 || job.view.done === job.view.total) {
      this.lastEmit.set(jobId, now)
      this.emit('update', job.view)
    }
  }

  private finish(jobId: string, state: 'done' | 'failed' | 'cancelled', patch: Partial<JobView> = {}, result?: unknown): void {
    const job = this.jobs.get(jobId)
    if (!job || isFinal(job.view.state)) return
    const message = state === 'done' ? 'done' : state === 'cancelled' ? 'cancelled' : (patch.error?.message ?? 'failed')
    job.view = { ...job.view, ...patch, state, message, finishedAt: new Date().toISOString() }
    this.lastEmit.delete(jobId)
    this.emit('update', job.view)
    job.onFinish?.(job.view, result)
  }

  private onEngineMessage(m: JobMessage): void {
    const job = this.jobs.get(m.jobId)
    if (!job || !job.engineKind) return
    const kind = job.engineKind
    switch (m.type) {
      case 'job-progress':
        this.update(m.jobId, { done: m.done, total: m.total, message: m.message })
        break
      case 'job-event':
        if (!job.onEvent) break
        try {
          job.onEvent(parseEngineJobEvent(kind, m.event, m.payload))
        } catch (err) {
          this.warn(`job ${m.jobId}: ${(err as Error).message}`)
        }
        break
      case 'job-done': {
        // The view keeps what the engine sent; the hook gets it parsed with the kind's schema.
        let result: unknown
        try {
          result = parseEngineJobResult(kind, m.result)
        } catch (err) {
          this.finish(m.jobId, 'failed', { error: { name: (err as Error).name, message: (err as Error).message } })
          break
        }
        this.finish(m.jobId, 'done', { result: m.result }, result)
        break
      }
      case 'job-failed': {
        const err = new RemoteError(m.error)
        this.finish(m.jobId, 'failed', { error: { name: err.name, message: err.message } })
        break
      }
      case 'job-cancelled': {
        // A job may keep what it finished before the cancel (a partial study): the hook gets it parsed.
        let partial: unknown
        if (m.result !== undefined) {
          try {
            partial = parseEngineJobResult(kind, m.result)
          } catch (err) {
            this.warn(`job ${m.jobId}: its partial result was dropped: ${(err as Error).message}`)
          }
        }
        this.finish(m.jobId, 'cancelled', partial !== undefined ? { result: m.result } : {}, partial)
        break
      }
    }
  }

  /** Jobs the engine was running fail with the reason; a prepared job not yet sent waits for the next engine. */
  private failEngineJobs(reason: string): void {
    for (const job of this.jobs.values()) {
      if (job.inEngine && !isFinal(job.view.state)) {
        this.finish(job.view.id, 'failed', { error: { name: 'EngineCrash', message: `${reason} while this job was running` } })
      }
    }
  }
}

function isFinal(state: JobView['state']): boolean {
  return state === 'done' || state === 'failed' || state === 'cancelled'
}

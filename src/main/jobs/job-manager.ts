// Every long piece of work is a job with an id, progress and a cancel. Engine jobs run in the
// engine child; local jobs (file imports, exports) run in main on async I/O. Either way the
// renderer sees the same `jobs:progress` events, and an engine crash fails its jobs with the reason.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { CancelledError, RemoteError } from '@shared/ipc/errors'
import type { EngineSupervisor, JobMessage } from '../engine/supervisor'

export interface LocalJobContext {
  jobId: string
  signal: AbortSignal
  progress(done: number, total: number, message?: string): void
}

interface JobHooks {
  onEvent?: (event: string, payload: unknown) => void
  onFinish?: (job: JobView) => void
}

interface Tracked {
  view: JobView
  where: 'engine' | 'local'
  controller?: AbortController
  hooks: JobHooks
}

export declare interface JobManager {
  on(event: 'update', listener: (job: JobView) => void): this
}

export class JobManager extends EventEmitter {
  private jobs = new Map<string, Tracked>()
  /** Last progress broadcast per job: progress is throttled so a fast job cannot flood the UI. */
  private lastEmit = new Map<string, number>()

  constructor(private readonly engine: EngineSupervisor) {
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

  /** Starts a job in the engine; returns its id at once. */
  async startEngineJob(kind: string, title: string, params: unknown, hooks: JobHooks = {}): Promise<string> {
    await this.engine.whenReady()
    const view = this.track(kind, title, 'engine', hooks)
    this.engine.startJob(view.id, kind, params)
    return view.id
  }

  /** Runs `work` in main (async I/O only); returns the job id at once. */
  startLocalJob(kind: string, title: string, work: (ctx: LocalJobContext) => Promise<unknown>, hooks: JobHooks = {}): string {
    const view = this.track(kind, title, 'local', hooks)
    const tracked = this.jobs.get(view.id)!
    const controller = new AbortController()
    tracked.controller = controller
    const ctx: LocalJobContext = {
      jobId: view.id,
      signal: controller.signal,
      progress: (done, total, message = '') => this.update(view.id, { done, total, message })
    }
    void work(ctx).then(
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
    if (job.where === 'engine') this.engine.cancelJob(jobId)
    else job.controller?.abort(new CancelledError())
    this.update(jobId, { message: 'cancelling…' })
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

  private track(kind: string, title: string, where: 'engine' | 'local', hooks: JobHooks): JobView {
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
    this.jobs.set(view.id, { view, where, hooks })
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

  private finish(jobId: string, state: 'done' | 'failed' | 'cancelled', patch: Partial<JobView> = {}): void {
    const job = this.jobs.get(jobId)
    if (!job || isFinal(job.view.state)) return
    const message = state === 'done' ? 'done' : state === 'cancelled' ? 'cancelled' : (patch.error?.message ?? 'failed')
    job.view = { ...job.view, ...patch, state, message, finishedAt: new Date().toISOString() }
    this.lastEmit.delete(jobId)
    this.emit('update', job.view)
    job.hooks.onFinish?.(job.view)
  }

  private onEngineMessage(m: JobMessage): void {
    const job = this.jobs.get(m.jobId)
    if (!job) return
    switch (m.type) {
      case 'job-progress':
        this.update(m.jobId, { done: m.done, total: m.total, message: m.message })
        break
      case 'job-event':
        job.hooks.onEvent?.(m.event, m.payload)
        break
      case 'job-done':
        this.finish(m.jobId, 'done', { result: m.result })
        break
      case 'job-failed': {
        const err = new RemoteError(m.error)
        this.finish(m.jobId, 'failed', { error: { name: err.name, message: err.message } })
        break
      }
      case 'job-cancelled':
        this.finish(m.jobId, 'cancelled')
        break
    }
  }

  private failEngineJobs(reason: string): void {
    for (const job of this.jobs.values()) {
      if (job.where === 'engine' && !isFinal(job.view.state)) {
        this.finish(job.view.id, 'failed', { error: { name: 'EngineCrash', message: `${reason} while this job was running` } })
      }
    }
  }
}

function isFinal(state: JobView['state']): boolean {
  return state === 'done' || state === 'failed' || state === 'cancelled'
}

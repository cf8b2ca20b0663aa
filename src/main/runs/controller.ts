// The runs queue: one run trains at a time (an engine `train` job), others wait. Metrics stream
// to the renderer (`runs:metrics`) and are appended to the ledger as each arrives; checkpoints are
// recorded; pause / cancel / resume (also after a crash or a restart) work from the last checkpoint,
// which holds the optimiser state for an exact continuation (a run with no checkpoint starts again
// from step 0 with its recorded params). A run whose inputs take slow work (importing its model,
// exporting a dataset version) gets its job at once: the job prepares the run, waits for its
// turn, then trains under the same id.
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { JobView } from '@shared/ipc/schemas/jobs'
import type { RunMetricsEvent, MetricPoint, RunRecord } from '@shared/ipc/schemas/runs'
import type { EngineJobEvent, EngineJobParams, TrainOutcome } from '@shared/engine/jobs'
import { CancelledError } from '@shared/ipc/errors'
import type { Ledger } from '../ledger/ledger'
import type { EngineSupervisor } from '../engine/supervisor'
import type { JobManager, LocalJobContext } from '../jobs/job-manager'
import type { EventBus } from '../ipc/events'
import type { AppLog } from '../app/log'
import { addCheckpoint, appendMetrics, getRun, interruptedReason, latestCheckpoint, listRuns, markInterrupted, maxMetricStep, runCheckpoints, runMetrics, updateRun } from './repository'

/** What the `train` job receives (also saved as <runDir>/params.json for resumes). */
export type TrainParams = EngineJobParams<'train'>

/** What the queue needs from the app (built in createAppContext before the context itself). */
export interface RunsDeps {
  dataDir: string
  ledger: Ledger
  engine: EngineSupervisor
  jobs: JobManager
  bus: EventBus
  log: AppLog
  onClose(hook: () => void): void
}

interface Active {
  runId: number
  jobId: string
  /** Steps already in the ledger before this job (a resume repeats them; they are not appended twice). */
  floor: number
  buffer: MetricPoint[]
}

/** A queued run: its params (its job starts when its turn comes), or a prepared job waiting for its turn. */
type Waiting = { runId: number; params: TrainParams } | { runId: number; jobId: string; admit: () => void }

/** Whether a process with this id is alive (another owner's runs and sweeps are left alone). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export declare interface RunsController {
  on(event: 'status', listener: (run: RunRecord) => void): this
  on(event: 'metrics', listener: (m: RunMetricsEvent) => void): this
  on(event: 'deleted', listener: (id: number) => void): this
}

export class RunsController extends EventEmitter {
  private readonly queue: Waiting[] = []
  private active: Active | null = null
  /** The run whose engine job is being started (taken off the queue, not yet active). */
  private starting: number | null = null
  /** Runs whose job is preparing their inputs or waiting for its turn: run id → job id. */
  private readonly prepared = new Map<number, string>()
  /** The app is closing: nothing more starts, and what stops is recorded as interrupted. */
  private closingNow = false

  constructor(private readonly deps: RunsDeps) {
    super()
    // Runs a previous process left 'running' or 'queued' have no job any more: say so, and how to
    // continue them. A run whose owner (owner.pid) is another live process is left alone.
    const n = markInterrupted(deps.ledger.db, (runId) => {
      const file = join(this.runDir(runId), 'owner.pid')
      if (!existsSync(file)) return true
      const pid = Number(readFileSync(file, 'utf8'))
      return !(pid > 0 && pid !== process.pid && pidAlive(pid))
    })
    if (n) deps.log.write('warn', 'runs', `${n} run(s) were left running or queued when the app last stopped; they are marked failed and can be resumed`)
    deps.onClose(() => this.shutdown())
  }

  get closing(): boolean {
    return this.closingNow
  }

  runDir(runId: number): string {
    return join(this.deps.dataDir, 'runs', String(runId))
  }

  /** The run's job: the one training it, or the one preparing it. */
  jobOf(runId: number): string | null {
    return this.active?.runId === runId ? this.active.jobId : (this.prepared.get(runId) ?? null)
  }

  /** Whether this process is training the run, preparing it or holds it in its queue. */
  owns(runId: number): boolean {
    return this.active?.runId === runId || this.starting === runId || this.prepared.has(runId) || this.queue.some((q) => q.runId === runId)
  }

  list(): RunRecord[] {
    return listRuns(this.deps.ledger.db, (id) => this.jobOf(id))
  }

  get(id: number): RunRecord {
    const run = getRun(this.deps.ledger.db, id, this.jobOf(id))
    if (!run) throw new Error(`no run #${id}`)
    return run
  }

  detail(id: number) {
    const db = this.deps.ledger.db
    return { run: this.get(id), metrics: runMetrics(db, id), checkpoints: runCheckpoints(db, id) }
  }

  /** Tells every window that a run's notes or tags changed; returns the run. */
  annotated(run: RunRecord): RunRecord {
    this.deps.bus.emit('runs:status', { run })
    this.emit('status', run)
    return run
  }

  announce(runId: number): void {
    const run = this.get(runId)
    this.deps.bus.emit('runs:status', { run })
    this.emit('status', run)
  }

  /** Queues a recorded run whose params are known; its job starts when its turn comes. */
  enqueue(runId: number, params: TrainParams): void {
    this.claim(runId)
    this.queue.push({ runId, params })
    this.announce(runId)
    void this.pump()
  }

  /**
   * Starts the job of a recorded run at once: `prepare` resolves its inputs (with the job's
   * progress and cancel) and returns its params; the job then waits for the run's turn in the
   * queue and trains. A failure in `prepare` fails the job and the run with its message.
   */
  startPrepared(runId: number, title: string, prepare: (job: LocalJobContext) => Promise<TrainParams>): string {
    this.claim(runId)
    const jobId = this.deps.jobs.startPreparedEngineJob(
      'train',
      title,
      async (job) => {
        const params = await prepare(job)
        await this.turn(runId, job)
        return params
      },
      this.hooks(runId)
    )
    this.prepared.set(runId, jobId)
    this.announce(runId)
    return jobId
  }

  private claim(runId: number): void {
    writeFileSync(join(this.runDir(runId), 'owner.pid'), String(process.pid))
  }

  /** Resolves when the prepared run's turn comes (it is then the active run); rejects on cancel. */
  private turn(runId: number, job: LocalJobContext): Promise<void> {
    return new Promise((resolve, reject) => {
      if (job.signal.aborted) return reject(new CancelledError())
      const entry: Waiting = { runId, jobId: job.jobId, admit: () => resolve() }
      job.signal.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(entry)
          if (i >= 0) this.queue.splice(i, 1)
          reject(new CancelledError())
        },
        { once: true }
      )
      if (this.active || this.starting !== null || this.queue.length) job.progress(0, 0, `queued behind run #${this.active?.runId ?? this.starting ?? this.queue[0]!.runId}`)
      this.queue.push(entry)
      void this.pump()
    })
  }

  private hooks(runId: number) {
    return {
      onEvent: (e: EngineJobEvent<'train'>) => this.onEvent(runId, e),
      onFinish: (job: JobView, outcome?: TrainOutcome) => this.onFinish(runId, job, outcome)
    }
  }

  private async pump(): Promise<void> {
    if (this.closingNow || this.active || this.starting !== null || !this.queue.length) return
    const next = this.queue.shift()!
    const db = this.deps.ledger.db
    if ('admit' in next) {
      // A prepared job: it is this run's job already, and starts training as soon as it is admitted.
      this.active = { runId: next.runId, jobId: next.jobId, floor: maxMetricStep(db, next.runId), buffer: [] }
      updateRun(db, next.runId, { status: 'running', statusReason: null, started: true, finished: false })
      this.announce(next.runId)
      next.admit()
      return
    }
    this.starting = next.runId
    try {
      const floor = maxMetricStep(db, next.runId)
      const title = `${next.params.resumeFrom ? 'Resume' : 'Train'} run #${next.runId}: ${next.params.config.name}`
      const jobId = await this.deps.jobs.startEngineJob('train', title, next.params, this.hooks(next.runId))
      this.active = { runId: next.runId, jobId, floor, buffer: [] }
      updateRun(db, next.runId, { status: 'running', statusReason: null, started: true, finished: false })
      this.announce(next.runId)
    } catch (err) {
      // While closing, shutdown() has recorded the run (and the ledger may be closed already).
      if (this.closingNow) return
      updateRun(db, next.runId, { status: 'failed', statusReason: (err as Error).message, finished: true })
      this.announce(next.runId)
    } finally {
      this.starting = null
    }
    void this.pump()
  }

  /**
   * The app is closing: runs waiting in the queue or being prepared will not start, so the ledger
   * says so now (the running one is recorded when its job ends, as the engine stops).
   */
  private shutdown(): void {
    this.closingNow = true
    const db = this.deps.ledger.db
    const queued = this.queue.splice(0).flatMap((q) => ('params' in q ? [q.runId] : []))
    const preparing = [...this.prepared].filter(([runId]) => this.active?.runId !== runId)
    const waiting = [...(this.starting !== null ? [this.starting] : []), ...queued, ...preparing.map(([runId]) => runId)]
    for (const runId of waiting) {
      updateRun(db, runId, { status: 'failed', statusReason: interruptedReason(db, runId, 'queued'), finished: true })
      this.announce(runId)
    }
    for (const [, jobId] of preparing) this.deps.jobs.cancel(jobId)
    if (waiting.length) this.deps.log.write('warn', 'runs', `the app is closing: ${waiting.length} queued run(s) will not start (resume them later)`)
  }

  private onEvent(runId: number, e: EngineJobEvent<'train'>): void {
    const db = this.deps.ledger.db
    if (e.event === 'started') {
      const p = e.payload
      const run = getRun(db, runId)
      updateRun(db, runId, { ...(run?.datasetHash ? {} : { datasetHash: p.datasetHash }), backend: p.backend, device: p.device })
      this.announce(runId)
    } else if (e.event === 'checkpoint') {
      const c = e.payload
      this.flush()
      addCheckpoint(db, { runId, step: c.step, kind: c.kind, path: c.path, metricName: c.metricName, metricValue: c.metricValue })
    } else if (e.event === 'metrics') {
      const m: RunMetricsEvent = { ...e.payload, runId }
      this.record(runId, m)
      // Announced after it is recorded: whoever sees step N can rely on it being in the ledger.
      this.deps.bus.emit('runs:metrics', m)
      this.emit('metrics', m)
    }
  }

  private record(runId: number, m: RunMetricsEvent): void {
    const a = this.active
    if (!a || a.runId !== runId || m.step <= a.floor) return
    for (const [name, value] of Object.entries(m.metrics)) if (Number.isFinite(value)) a.buffer.push({ step: m.step, name, value })
    if (m.imagesPerSecond !== undefined && Number.isFinite(m.imagesPerSecond)) a.buffer.push({ step: m.step, name: 'train/images_per_s', value: m.imagesPerSecond })
    if (m.confusion) m.confusion.forEach((row, t) => row.forEach((v, p) => a.buffer.push({ step: m.step, name: `val/confusion/${t}/${p}`, value: v })))
    // Durable at once: each step (and each evaluation) is one small transaction, so a SIGKILL of
    // this process loses at most the step in flight. A step takes far longer than the insert.
    this.flush()
  }

  private flush(): void {
    const a = this.active
    if (!a || !a.buffer.length) return
    const points = a.buffer.splice(0)
    appendMetrics(this.deps.ledger.db, a.runId, points)
  }

  private onFinish(runId: number, job: JobView, outcome?: TrainOutcome): void {
    const wasActive = this.active?.runId === runId
    this.prepared.delete(runId)
    // A prepared run the app stopped before its turn: shutdown() recorded it (the ledger may be closed).
    if (this.closingNow && !wasActive) return
    if (wasActive) {
      this.flush()
      this.active = null
    }
    const db = this.deps.ledger.db
    if (this.closingNow && job.state !== 'done') {
      // Stopped by the app closing (the engine cancels or loses its jobs), not by the user.
      updateRun(db, runId, { status: 'failed', statusReason: interruptedReason(db, runId, 'running'), finished: true })
    } else if (job.state === 'done') {
      if (outcome?.status === 'paused') updateRun(db, runId, { status: 'paused', statusReason: `paused at step ${outcome.step}`, finished: false })
      else updateRun(db, runId, { status: 'done', statusReason: null, finished: true })
    } else if (job.state === 'cancelled') {
      updateRun(db, runId, { status: 'cancelled', statusReason: 'cancelled by the user', finished: true })
    } else {
      const crashed = job.error?.name === 'EngineCrash'
      // A fault (wasm out of memory, GPU device lost) broke the engine: the supervisor restarts it.
      const faulted = job.error?.name === 'EngineFault'
      const reason = job.error?.message ?? 'failed'
      const statusReason = crashed ? `${reason}; resume it from its last checkpoint` : faulted ? `${reason}; the engine was restarted: resume the run from its last checkpoint` : reason
      updateRun(db, runId, { status: 'failed', statusReason, finished: true })
    }
    this.deps.log.write(job.state === 'failed' ? 'error' : 'info', 'runs', `run #${runId} ${this.get(runId).status}${job.error ? `: ${job.error.message}` : ''}`)
    this.announce(runId)
    void this.pump()
  }

  /** Stops after the current step with a checkpoint (status 'paused'): a `pause-job` message to its job. */
  pause(id: number): void {
    const a = this.active
    if (!a || a.runId !== id || !this.deps.jobs.pause(a.jobId)) throw new Error(`run #${id} is not running`)
    updateRun(this.deps.ledger.db, id, { statusReason: 'pausing after the current step…' })
    this.announce(id)
  }

  cancel(id: number): void {
    const queued = this.queue.findIndex((q) => q.runId === id && 'params' in q)
    if (queued >= 0) {
      this.queue.splice(queued, 1)
      updateRun(this.deps.ledger.db, id, { status: 'cancelled', statusReason: 'cancelled before it started', finished: true })
      this.announce(id)
      return
    }
    const jobId = this.jobOf(id)
    if (!jobId) throw new Error(`run #${id} is neither running nor queued`)
    this.deps.jobs.cancel(jobId)
  }

  /**
   * Continues a paused, failed or cancelled run from its newest checkpoint; a run without one (the
   * app stopped before it started, or before its first checkpoint) starts from step 0 with its
   * recorded parameters. Steps already in the ledger are not recorded twice.
   */
  resume(id: number): { runId: number; jobId: string | null; queued: boolean; warnings: string[] } {
    if (this.closingNow) throw new Error('the app is closing')
    const run = this.get(id)
    if (run.status === 'running' || run.status === 'queued' || this.owns(id)) throw new Error(`run #${id} is already ${run.status}`)
    if (run.status === 'done') throw new Error(`run #${id} is finished`)
    const paramsPath = join(this.runDir(id), 'params.json')
    if (!existsSync(paramsPath)) throw new Error(`run #${id} cannot be resumed: its parameters are missing (${paramsPath}); start a new run from its config`)
    const { resumeFrom: _previous, ...params } = JSON.parse(readFileSync(paramsPath, 'utf8')) as TrainParams
    const ckpt = latestCheckpoint(this.deps.ledger.db, id)
    if (ckpt && !existsSync(ckpt.path)) throw new Error(`run #${id} cannot be resumed: its checkpoint at step ${ckpt.step} is missing (${ckpt.path})`)
    const reason = ckpt ? `resuming from step ${ckpt.step}` : run.startedAt ? 'no checkpoint: starting again from step 0' : 'starting from step 0'
    updateRun(this.deps.ledger.db, id, { status: 'queued', statusReason: reason, finished: false })
    this.enqueue(id, ckpt ? { ...params, resumeFrom: ckpt.path } : params)
    return { runId: id, jobId: this.jobOf(id), queued: this.jobOf(id) === null, warnings: [] }
  }

  /** Resolves when the run leaves 'queued' / 'running' (CLI and tests). */
  waitFor(id: number): Promise<RunRecord> {
    return new Promise((resolve) => {
      const check = (run: RunRecord) => {
        if (run.id !== id || run.status === 'queued' || run.status === 'running') return false
        this.off('status', check)
        resolve(run)
        return true
      }
      this.on('status', check)
      check(this.get(id))
    })
  }
}

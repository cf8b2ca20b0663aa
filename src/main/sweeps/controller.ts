// The sweeps queue: a sweep's trials run one at a time through the one use case that starts
// runs (`startRun`, given by the composition root), so each trial is an ordinary run in the ledger, trained by the runs queue on
// the engine's one device. Sweeps are kept in the ledger: the app (not the CLI) takes up, at start,
// sweeps whose driver is gone, resumes the trial that was training and runs the pending ones.
// Cancel stops the running trial and drops the pending ones. A trial that fails (a bad value, a
// NaN loss) is recorded and the sweep goes on.
import { EventEmitter } from 'node:events'
import type { RunMetricsEvent, RunRecord } from '@shared/ipc/schemas/runs'
import type { SweepRecord, TrialStatus } from '@shared/ipc/schemas/sweeps'
import { readableMessage } from '@shared/ipc/zod-message'
import { expandSweep } from '@shared/sweeps/spec'
import type { EventBus } from '../ipc/events'
import { pidAlive } from '../runs/controller'
import type { RunsController } from '../runs/controller'
import type { Ledger } from '../ledger/ledger'
import type { AppLog } from '../app/log'
import { createSweep, dropPendingTrials, updateFinishedTrialOfRun, getSweep, listSweeps, nextPendingTrial, runningTrial, setSweepOwner, setSweepStatus, setTrial, unfinishedSweeps } from './repository'

export interface SweepsDeps {
  ledger: Ledger
  runs: RunsController
  bus: EventBus
  log: AppLog
  onClose(hook: () => void): void
  /** The runs' one start use case (`startRun`), passed in by the composition root. */
  startRun(config: unknown): Promise<{ runId: number; warnings: string[] }>
}

/** The next thing a sweep needs: a pending trial to start, or an interrupted one to resume. */
type Work = { sweepId: number; index: number; config: unknown } | { sweepId: number; index: number; resumeRunId: number | null }

export declare interface SweepsController {
  on(event: 'status', listener: (sweep: SweepRecord) => void): this
}

export class SweepsController extends EventEmitter {
  /** Sweeps this process drives (created here, or taken up from a driver that is gone). */
  private readonly owned = new Set<number>()
  private active: { sweepId: number; index: number; runId: number | null } | null = null
  private pumping = false
  private closingNow = false
  private lastProgress = 0

  constructor(
    private readonly deps: SweepsDeps,
    opts: { resumeOnStart: boolean }
  ) {
    super()
    deps.onClose(() => {
      // The running trial's run is recorded as interrupted by the runs queue; the sweep stays
      // 'running' in the ledger, so the next start takes it up from there.
      this.closingNow = true
    })
    deps.runs.on('metrics', (m) => this.onMetrics(m))
    deps.runs.on('status', (run) => this.onRunStatus(run))
    if (opts.resumeOnStart) {
      const taken = this.takeOrphans()
      if (taken.length) {
        deps.log.write('info', 'sweeps', `taking up ${taken.length} unfinished sweep(s) (#${taken.join(', #')}) left by a process that stopped`)
        setImmediate(() => void this.pump())
      }
    }
  }

  /** Sweeps left unfinished by a process that is gone: this one drives them now. */
  private takeOrphans(): number[] {
    const db = this.deps.ledger.db
    const taken: number[] = []
    for (const s of unfinishedSweeps(db)) {
      if (s.ownerPid && s.ownerPid !== process.pid && pidAlive(s.ownerPid)) continue
      setSweepOwner(db, s.id, process.pid)
      this.owned.add(s.id)
      taken.push(s.id)
    }
    return taken
  }

  list(): SweepRecord[] {
    return listSweeps(this.deps.ledger.db)
  }

  get(id: number): SweepRecord {
    const s = getSweep(this.deps.ledger.db, id)
    if (!s) throw new Error(`no sweep #${id}`)
    return s
  }

  /** Checks the spec (every trial's config), records the sweep and queues its trials. */
  create(spec: unknown): { sweepId: number; trials: number } {
    if (this.closingNow || this.deps.runs.closing) throw new Error('the app is closing')
    const expanded = expandSweep(spec)
    const sweepId = createSweep(this.deps.ledger.db, expanded, process.pid)
    this.owned.add(sweepId)
    this.deps.log.write('info', 'sweeps', `sweep #${sweepId} "${expanded.spec.name}": ${expanded.trials.length} trial(s), ranked by ${expanded.metric} (${expanded.goal})`)
    this.announce(sweepId)
    void this.pump()
    return { sweepId, trials: expanded.trials.length }
  }

  /** Continues an unfinished sweep whose driver is gone (`marsfm sweep --resume`). */
  resume(id: number): SweepRecord {
    const sweep = this.get(id)
    if (sweep.status === 'done' || sweep.status === 'cancelled') throw new Error(`sweep #${id} is ${sweep.status}`)
    if (!this.owned.has(id)) {
      const owner = unfinishedSweeps(this.deps.ledger.db).find((s) => s.id === id)?.ownerPid
      if (owner && owner !== process.pid && pidAlive(owner)) throw new Error(`sweep #${id} is being run by process ${owner}`)
      setSweepOwner(this.deps.ledger.db, id, process.pid)
      this.owned.add(id)
    }
    void this.pump()
    return this.get(id)
  }

  /** Drops the pending trials and cancels the running one; finished trials keep their runs. */
  cancel(id: number): SweepRecord {
    const db = this.deps.ledger.db
    const sweep = this.get(id)
    if (sweep.status === 'done' || sweep.status === 'cancelled') throw new Error(`sweep #${id} is already ${sweep.status}`)
    const dropped = dropPendingTrials(db, id, 'cancelled with the sweep before it started')
    setSweepStatus(db, id, 'cancelled', `cancelled by the user (${dropped} trial(s) not started)`)
    const running = this.active?.sweepId === id ? this.active.runId : null
    if (running !== null) {
      try {
        this.deps.runs.cancel(running)
      } catch (err) {
        this.deps.log.write('warn', 'sweeps', `sweep #${id}: ${(err as Error).message}`)
      }
    }
    this.announce(id)
    return this.get(id)
  }

  /** Resolves when the sweep is done or cancelled (CLI and tests). */
  waitFor(id: number): Promise<SweepRecord> {
    return new Promise((resolve) => {
      const check = (s: SweepRecord) => {
        if (s.id !== id || (s.status !== 'done' && s.status !== 'cancelled') || (this.active?.sweepId === id)) return
        this.off('status', check)
        resolve(s)
      }
      this.on('status', check)
      check(this.get(id))
    })
  }

  private announce(sweepId: number): void {
    if (this.closingNow) return
    const sweep = this.get(sweepId)
    this.deps.bus.emit('sweeps:status', { sweep })
    this.emit('status', sweep)
  }

  /**
   * A trial's run that ended paused, failed or cancelled and was resumed later (from the Training
   * or Experiments view) ends again: the trial follows its run.
   */
  private onRunStatus(run: RunRecord): void {
    if (this.closingNow || run.status === 'queued' || run.status === 'running' || this.active?.runId === run.id) return
    try {
      const sweepId = updateFinishedTrialOfRun(this.deps.ledger.db, run.id, run.status, run.statusReason)
      if (sweepId !== null) this.announce(sweepId)
    } catch (err) {
      this.deps.log.write('warn', 'sweeps', `run #${run.id}: ${(err as Error).message}`)
    }
  }

  /** Live progress of the running trial: every evaluation, and at most once a second between. */
  private onMetrics(m: RunMetricsEvent): void {
    const a = this.active
    if (!a || a.runId !== m.runId) return
    const isEval = Object.keys(m.metrics).some((k) => k.startsWith('val/'))
    if (!isEval && Date.now() - this.lastProgress < 1000) return
    this.lastProgress = Date.now()
    this.announce(a.sweepId)
  }

  private nextWork(): Work | null {
    const db = this.deps.ledger.db
    for (const sweepId of [...this.owned].sort((a, b) => a - b)) {
      const sweep = getSweep(db, sweepId)
      if (!sweep || sweep.status === 'done' || sweep.status === 'cancelled') {
        this.owned.delete(sweepId)
        continue
      }
      const interrupted = runningTrial(db, sweepId)
      if (interrupted) return { sweepId, index: interrupted.index, resumeRunId: interrupted.runId }
      const pending = nextPendingTrial(db, sweepId)
      if (pending) return pending
      const failed = sweep.counts.failed ?? 0
      setSweepStatus(db, sweepId, 'done', failed ? `${failed} of ${sweep.trials.length} trial(s) failed` : null)
      this.owned.delete(sweepId)
      this.deps.log.write('info', 'sweeps', `sweep #${sweepId} done${sweep.best ? `; best: run #${sweep.best.runId} (${sweep.metric} ${sweep.best.value})` : ''}`)
      this.announce(sweepId)
    }
    return null
  }

  /** One trial at a time, across all sweeps: the runs queue trains one run at a time on the engine's device. */
  private async pump(): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      for (let work = this.nextWork(); work && !this.closingNow; work = this.closingNow ? null : this.nextWork()) await this.runTrial(work)
    } catch (err) {
      if (!this.closingNow) this.deps.log.write('error', 'sweeps', `the sweeps queue stopped: ${(err as Error).message}`)
    } finally {
      this.pumping = false
    }
  }

  private async runTrial(work: Work): Promise<void> {
    const db = this.deps.ledger.db
    const { sweepId, index } = work
    if (this.get(sweepId).status === 'queued') setSweepStatus(db, sweepId, 'running')
    let runId: number
    try {
      runId = 'config' in work ? await this.startTrial(work.sweepId, work.index, work.config) : this.resumeTrial(work.resumeRunId)
    } catch (err) {
      if (this.closingNow) return
      // One bad trial (a refused value, a missing model) never sinks the sweep.
      setTrial(db, sweepId, index, { status: 'failed', reason: readableMessage(err) })
      this.announce(sweepId)
      return
    }
    this.active = { sweepId, index, runId }
    setTrial(db, sweepId, index, { status: 'running', runId })
    // Cancelled while its run was being started: stop the run now.
    if (this.get(sweepId).status === 'cancelled') this.safeCancel(runId)
    this.announce(sweepId)
    const final: RunRecord = await this.deps.runs.waitFor(runId)
    this.active = null
    // The app is closing: the run is recorded as interrupted and the trial stays 'running', so the next start resumes it.
    if (this.closingNow) return
    const status: TrialStatus = final.status === 'done' ? 'done' : final.status === 'paused' ? 'paused' : final.status === 'cancelled' ? 'cancelled' : 'failed'
    setTrial(db, sweepId, index, { status, reason: final.statusReason })
    this.announce(sweepId)
  }

  private async startTrial(sweepId: number, index: number, config: unknown): Promise<number> {
    const started = await this.deps.startRun(config)
    for (const w of started.warnings) this.deps.log.write('warn', 'sweeps', `sweep #${sweepId} trial ${index + 1}: ${w}`)
    return started.runId
  }

  /** The trial that was training when its driver stopped: its run continues from its newest checkpoint. */
  private resumeTrial(runId: number | null): number {
    if (runId === null) throw new Error('its run was never recorded; the trial was stopped while starting')
    const run = getRunOrNull(this.deps, runId)
    if (!run) throw new Error(`its run #${runId} was deleted`)
    if (run.status === 'done') return runId
    if (!this.deps.runs.owns(runId)) this.deps.runs.resume(runId)
    return runId
  }

  private safeCancel(runId: number): void {
    try {
      this.deps.runs.cancel(runId)
    } catch {
      // Finished in the meantime.
    }
  }
}

function getRunOrNull(deps: SweepsDeps, runId: number): RunRecord | null {
  try {
    return deps.runs.get(runId)
  } catch {
    return null
  }
}

// Runs service: fine-tuning and pre-training runs as engine `train` jobs, one at a time from a
// queue. Each run is a ledger row (config, dataset / model hashes, backend, seed, app version);
// its metrics stream to the renderer (`runs:metrics`) and are appended to the ledger in batches;
// its checkpoints are recorded; pause / cancel / resume (also after a crash or a restart) work
// from the last checkpoint, which holds the optimiser state for an exact continuation.
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AppContext } from '../app/context'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { ModelSummary } from '@shared/ipc/schemas/models'
import { RunConfig, RunMetricsEvent, type MetricPoint, type RunModel, type RunRecord, type RunData } from '@shared/ipc/schemas/runs'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { getModel, upsertModel } from '../models/repository'
import { ensureDemoModel } from '../models/demo'
import {
  addCheckpoint,
  appendMetrics,
  createRun,
  getRun,
  latestCheckpoint,
  listRuns,
  markInterrupted,
  maxMetricStep,
  runCheckpoints,
  runMetrics,
  updateRun
} from '../runs/repository'
import { exportVersion, EXPORT_MARKER } from '../datasets/exporter'
import { getVersion } from '../datasets/versions'

/** What the engine's `train` job receives (also saved as <runDir>/params.json for resumes). */
interface TrainParams {
  runId: number
  runDir: string
  config: RunConfig
  model: { path?: string; config: unknown; stats: unknown }
  resumeFrom?: string
}

interface Active {
  runId: number
  jobId: string
  /** Steps already in the ledger before this job (a resume repeats them; they are not appended twice). */
  floor: number
  buffer: MetricPoint[]
  timer: NodeJS.Timeout | null
}

const FLUSH_MS = 500

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class RunsController extends EventEmitter {
  private readonly queue: { runId: number; params: TrainParams }[] = []
  private active: Active | null = null
  private starting = false

  constructor(private readonly ctx: AppContext) {
    super()
    const n = markInterrupted(ctx.ledger.db, (runId) => {
      const file = join(this.runDir(runId), 'owner.pid')
      if (!existsSync(file)) return true
      const pid = Number(readFileSync(file, 'utf8'))
      return !(pid > 0 && pid !== process.pid && pidAlive(pid))
    })
    if (n) ctx.log.write('warn', 'runs', `${n} run(s) were interrupted by the last shutdown; they can be resumed from their last checkpoint`)
  }

  runDir(runId: number): string {
    return join(this.ctx.dataDir, 'runs', String(runId))
  }

  jobOf(runId: number): string | null {
    return this.active?.runId === runId ? this.active.jobId : null
  }

  list(): RunRecord[] {
    return listRuns(this.ctx.ledger.db, (id) => this.jobOf(id))
  }

  get(id: number): RunRecord {
    const run = getRun(this.ctx.ledger.db, id, this.jobOf(id))
    if (!run) throw new Error(`no run #${id}`)
    return run
  }

  private announce(runId: number): void {
    const run = this.get(runId)
    this.ctx.bus.emit('runs:status', { run })
    this.emit('status', run)
  }

  private async resolveModel(m: RunModel): Promise<{ id: number | null; sha256: string | null; spec: TrainParams['model'] }> {
    if ('random' in m) return { id: null, sha256: null, spec: { config: m.random, stats: m.stats ?? PRITHVI_HLS_STATS } }
    let record
    if ('demo' in m) {
      record = ensureDemoModel(this.ctx)
      if (!record) throw new Error('the demo model is not shipped with this build (resources/models/)')
    } else if ('id' in m) {
      record = getModel(this.ctx.ledger.db, m.id)
      if (!record) throw new Error(`no model #${m.id}`)
    } else {
      // A checkpoint by path: inspect it in the engine and import it, so the run can name it.
      const jobId = await this.ctx.jobs.startEngineJob('model-inspect', `Import model ${m.path.split(/[\\/]/).pop()}`, { path: m.path, configPath: m.configPath })
      const job = await this.ctx.jobs.waitFor(jobId)
      if (job.state !== 'done') throw new Error(`cannot use ${m.path}: ${job.error?.message ?? job.state}`)
      record = upsertModel(this.ctx.ledger.db, ModelSummary.parse(job.result))
    }
    if (!existsSync(record.path)) throw new Error(`the checkpoint of model #${record.id} is missing: ${record.path}`)
    return { id: record.id, sha256: record.sha256, spec: { path: record.path, config: record.config, stats: record.stats ?? PRITHVI_HLS_STATS } }
  }

  /** A frozen dataset version is exported once (ImageFolder / MMSegmentation) and trained from that folder. */
  private async resolveData(config: RunConfig): Promise<{ data: RunData; versionId: number | null; hash: string | null }> {
    if (config.data.kind === 'folder') return { data: config.data, versionId: null, hash: null }
    const version = getVersion(this.ctx.ledger.db, config.data.id)
    const format = config.task === 'segmentation' ? 'mmseg' : 'imagefolder'
    const outDir = join(this.ctx.dataDir, 'training-data', `version-${version.id}-${format}`)
    if (!existsSync(join(outDir, EXPORT_MARKER))) {
      await exportVersion({ db: this.ctx.ledger.db, dataDir: this.ctx.dataDir }, { versionId: version.id, format, outDir, mask: { mode: 'filled', width: 5 } })
    }
    return { data: { kind: 'folder', path: outDir, layout: config.task === 'segmentation' ? 'mmseg' : config.task === 'pretrain' ? 'images' : 'imagefolder' }, versionId: version.id, hash: version.contentHash }
  }

  /** Validates and records a run, then queues it. */
  async start(raw: unknown): Promise<{ runId: number; jobId: string | null; queued: boolean }> {
    const config = RunConfig.parse(raw)
    if (config.task === 'segmentation' && !config.segmentation) config.segmentation = RunConfig.shape.segmentation.unwrap().parse({})
    const model = await this.resolveModel(config.model)
    const data = await this.resolveData(config)
    const db = this.ctx.ledger.db
    const runId = createRun(db, { name: config.name, task: config.task, config, datasetVersionId: data.versionId, modelId: model.id, modelHash: model.sha256, seed: config.seed, appVersion: this.ctx.appVersion })
    if (data.hash) updateRun(db, runId, { datasetHash: data.hash })
    const runDir = this.runDir(runId)
    mkdirSync(runDir, { recursive: true })
    const params: TrainParams = { runId, runDir, config: { ...config, data: data.data }, model: model.spec }
    writeFileSync(join(runDir, 'params.json'), JSON.stringify(params, null, 2))
    this.ctx.log.write('info', 'runs', `run #${runId} "${config.name}" (${config.task}) queued`)
    this.enqueue(runId, params)
    return { runId, jobId: this.jobOf(runId), queued: this.jobOf(runId) === null }
  }

  private enqueue(runId: number, params: TrainParams): void {
    writeFileSync(join(this.runDir(runId), 'owner.pid'), String(process.pid))
    this.queue.push({ runId, params })
    this.announce(runId)
    void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.active || this.starting || !this.queue.length) return
    const next = this.queue.shift()!
    const db = this.ctx.ledger.db
    this.starting = true
    try {
      const floor = maxMetricStep(db, next.runId)
      const title = `${next.params.resumeFrom ? 'Resume' : 'Train'} run #${next.runId}: ${next.params.config.name}`
      const jobId = await this.ctx.jobs.startEngineJob('train', title, next.params, {
        onEvent: (event, payload) => this.onEvent(next.runId, event, payload),
        onFinish: (job) => this.onFinish(next.runId, job)
      })
      this.active = { runId: next.runId, jobId, floor, buffer: [], timer: null }
      updateRun(db, next.runId, { status: 'running', statusReason: null, started: true, finished: false })
      this.announce(next.runId)
    } catch (err) {
      updateRun(db, next.runId, { status: 'failed', statusReason: (err as Error).message, finished: true })
      this.announce(next.runId)
    } finally {
      this.starting = false
    }
    void this.pump()
  }

  private onEvent(runId: number, event: string, payload: unknown): void {
    const db = this.ctx.ledger.db
    const a = this.active
    if (event === 'started') {
      const p = payload as { datasetHash?: string; backend?: string; device?: string }
      const run = getRun(db, runId)
      updateRun(db, runId, { ...(run?.datasetHash ? {} : p.datasetHash ? { datasetHash: p.datasetHash } : {}), ...(p.backend ? { backend: p.backend } : {}), ...(p.device ? { device: p.device } : {}) })
      this.announce(runId)
    } else if (event === 'checkpoint') {
      const c = payload as { step: number; kind: 'best' | 'last' | 'periodic'; path: string; metricName: string | null; metricValue: number | null }
      addCheckpoint(db, { runId, step: c.step, kind: c.kind, path: c.path, metricName: c.metricName, metricValue: c.metricValue })
    } else if (event === 'metrics') {
      const parsed = RunMetricsEvent.safeParse({ ...(payload as object), runId })
      if (!parsed.success) return
      const m = parsed.data
      this.ctx.bus.emit('runs:metrics', m)
      this.emit('metrics', m)
      if (!a || a.runId !== runId || m.step <= a.floor) return
      for (const [name, value] of Object.entries(m.metrics)) if (Number.isFinite(value)) a.buffer.push({ step: m.step, name, value })
      if (m.imagesPerSecond !== undefined && Number.isFinite(m.imagesPerSecond)) a.buffer.push({ step: m.step, name: 'train/images_per_s', value: m.imagesPerSecond })
      if (m.confusion) m.confusion.forEach((row, t) => row.forEach((v, p) => a.buffer.push({ step: m.step, name: `val/confusion/${t}/${p}`, value: v })))
      a.timer ??= setTimeout(() => this.flush(), FLUSH_MS)
    }
  }

  private flush(): void {
    const a = this.active
    if (!a) return
    if (a.timer) clearTimeout(a.timer)
    a.timer = null
    const points = a.buffer.splice(0)
    appendMetrics(this.ctx.ledger.db, a.runId, points)
  }

  private onFinish(runId: number, job: JobView): void {
    this.flush()
    const db = this.ctx.ledger.db
    this.active = null
    if (job.state === 'done') {
      const result = job.result as { status?: string; step?: number } | undefined
      if (result?.status === 'paused') updateRun(db, runId, { status: 'paused', statusReason: `paused at step ${result.step}`, finished: false })
      else updateRun(db, runId, { status: 'done', statusReason: null, finished: true })
    } else if (job.state === 'cancelled') {
      updateRun(db, runId, { status: 'cancelled', statusReason: 'cancelled by the user', finished: true })
    } else {
      const crashed = job.error?.name === 'EngineCrash'
      const reason = job.error?.message ?? 'failed'
      updateRun(db, runId, { status: 'failed', statusReason: crashed ? `${reason}; resume it from its last checkpoint` : reason, finished: true })
    }
    this.ctx.log.write(job.state === 'failed' ? 'error' : 'info', 'runs', `run #${runId} ${this.get(runId).status}${job.error ? `: ${job.error.message}` : ''}`)
    this.announce(runId)
    void this.pump()
  }

  /** Stops after the current step with a checkpoint (status 'paused'). */
  async pause(id: number): Promise<void> {
    const a = this.active
    if (!a || a.runId !== id) throw new Error(`run #${id} is not running`)
    await this.ctx.engine.call('training-pause', { jobId: a.jobId }, 15_000)
    updateRun(this.ctx.ledger.db, id, { statusReason: 'pausing after the current step…' })
    this.announce(id)
  }

  cancel(id: number): void {
    const queued = this.queue.findIndex((q) => q.runId === id)
    if (queued >= 0) {
      this.queue.splice(queued, 1)
      updateRun(this.ctx.ledger.db, id, { status: 'cancelled', statusReason: 'cancelled before it started', finished: true })
      this.announce(id)
      return
    }
    const a = this.active
    if (!a || a.runId !== id) throw new Error(`run #${id} is neither running nor queued`)
    this.ctx.jobs.cancel(a.jobId)
  }

  /** Continues a paused, failed or cancelled run from its newest checkpoint. */
  resume(id: number): { runId: number; queued: boolean } {
    const run = this.get(id)
    if (run.status === 'running' || run.status === 'queued') throw new Error(`run #${id} is already ${run.status}`)
    if (run.status === 'done') throw new Error(`run #${id} is finished`)
    const ckpt = latestCheckpoint(this.ctx.ledger.db, id)
    if (!ckpt || !existsSync(ckpt.path)) throw new Error(`run #${id} has no checkpoint to resume from`)
    const params = JSON.parse(readFileSync(join(this.runDir(id), 'params.json'), 'utf8')) as TrainParams
    updateRun(this.ctx.ledger.db, id, { status: 'queued', statusReason: `resuming from step ${ckpt.step}`, finished: false })
    this.enqueue(id, { ...params, resumeFrom: ckpt.path })
    return { runId: id, queued: this.jobOf(id) === null }
  }

  detail(id: number) {
    const db = this.ctx.ledger.db
    return { run: this.get(id), metrics: runMetrics(db, id), checkpoints: runCheckpoints(db, id) }
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

const controllers = new WeakMap<AppContext, RunsController>()

export function runsController(ctx: AppContext): RunsController {
  let c = controllers.get(ctx)
  if (!c) {
    c = new RunsController(ctx)
    controllers.set(ctx, c)
  }
  return c
}

export function registerRunsService(ctx: AppContext): void {
  const runs = runsController(ctx)
  ctx.router.handle('runs:start', ({ config }) => runs.start(config))
  ctx.router.handle('runs:list', () => runs.list())
  ctx.router.handle('runs:get', ({ id }) => runs.detail(id))
  ctx.router.handle('runs:pause', async ({ id }) => {
    await runs.pause(id)
    return { ok: true as const }
  })
  ctx.router.handle('runs:cancel', ({ id }) => {
    runs.cancel(id)
    return { ok: true as const }
  })
  ctx.router.handle('runs:resume', ({ id }) => ({ ...runs.resume(id), jobId: runs.jobOf(id) }))
}

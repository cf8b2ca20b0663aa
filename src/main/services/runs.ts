// Runs service: fine-tuning and pre-training runs as engine `train` jobs, one at a time from a
// queue. Each run is a ledger row (config, dataset / model hashes, backend, seed, app version);
// its metrics stream to the renderer (`runs:metrics`) and are appended to the ledger in batches;
// its checkpoints are recorded; pause / cancel / resume (also after a crash or a restart) work
// from the last checkpoint, which holds the optimiser state for an exact continuation (a run with
// no checkpoint, e.g. one the app stopped before it started, starts again from step 0). A run
// that is not running or queued can be deleted: its ledger rows and its folder.
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import type { AppContext } from '../app/types'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { ModelSummary } from '@shared/ipc/schemas/models'
import { bestMetricOf, RunConfig, RunMetricsEvent, type MetricPoint, type RunModel, type RunRecord, type RunData } from '@shared/ipc/schemas/runs'
import { imbalanceWarning, resolvePositiveClass } from '@shared/training/positive-class'
import { imageFolderClassCounts } from '../runs/class-counts'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { getModel, listModels, upsertModel } from '../models/repository'
import { ensureDemoModel } from '../models/demo'
import { pretrainedTileNorm } from '../models/pretraining'
import {
  addCheckpoint,
  appendMetrics,
  createRun,
  deleteRun,
  getRun,
  interruptedReason,
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
import { onnxCacheDir } from './reconstruction'
import { classifierGraphPrefix } from '@shared/inference/graph-cache'
import { validatePrithviConfig } from '@engine/checkpoint/validate-config'
import { checkTrainingMemory, memoryLimit, MemoryLimitError, memoryRunOf } from '@shared/training/memory'
import type { MemoryCheck } from '@shared/ipc/schemas/runs'
import { PrithviConfigSchema } from '@shared/ipc/schemas/models'
import { totalmem } from 'node:os'
import type { EngineJobEvent, EngineJobParams, TrainOutcome } from '@shared/engine/jobs'

type TrainParams = EngineJobParams<'train'>

interface Active {
  runId: number
  jobId: string
  /** Steps already in the ledger before this job (a resume repeats them; they are not appended twice). */
  floor: number
  buffer: MetricPoint[]
}

function assertPath(path: string, kind: 'file' | 'folder', what: string): void {
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st) throw new Error(`${what} not found: ${path}`)
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) throw new Error(`${what} is not a ${kind}: ${path}`)
}

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
  /** The run whose engine job is being started (taken off the queue, not yet active). */
  private starting: number | null = null
  /** The app is closing: nothing more starts, and what stops is recorded as interrupted. */
  private closing = false

  constructor(private readonly ctx: AppContext) {
    super()
    // Runs a previous process left 'running' or 'queued' have no job any more: say so, and how to
    // continue them. A run whose owner (owner.pid) is another live process is left alone.
    const n = markInterrupted(ctx.ledger.db, (runId) => {
      const file = join(this.runDir(runId), 'owner.pid')
      if (!existsSync(file)) return true
      const pid = Number(readFileSync(file, 'utf8'))
      return !(pid > 0 && pid !== process.pid && pidAlive(pid))
    })
    if (n) ctx.log.write('warn', 'runs', `${n} run(s) were left running or queued when the app last stopped; they are marked failed and can be resumed`)
    ctx.onClose(() => this.shutdown())
  }

  runDir(runId: number): string {
    return join(this.ctx.dataDir, 'runs', String(runId))
  }

  jobOf(runId: number): string | null {
    return this.active?.runId === runId ? this.active.jobId : null
  }

  /** Whether this process is training the run or holds it in its queue. */
  private owns(runId: number): boolean {
    return this.active?.runId === runId || this.starting === runId || this.queue.some((q) => q.runId === runId)
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
    if ('random' in m) validatePrithviConfig(m.random, 'model.random')
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
      assertPath(m.path, 'file', 'model checkpoint')
      if (m.configPath) assertPath(m.configPath, 'file', 'model config file')
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

  /**
   * The memory estimate of a run on the engine's backend (classification assumes 2 classes until
   * the data is listed). Computed here from the engine's status, not by calling the engine: a call
   * would wait behind a training step that can take a minute. The engine checks again before step 1.
   */
  private async memory(config: RunConfig, arch: unknown): Promise<MemoryCheck> {
    await this.ctx.engine.whenReady()
    const status = this.ctx.engine.getStatus()
    const model = PrithviConfigSchema.parse(arch)
    const limit = memoryLimit(status.backend ?? 'wasm', totalmem(), status.gpu)
    const verdict = checkTrainingMemory({ ...model, ...(config.imgSize ? { img_size: config.imgSize } : {}) }, memoryRunOf(config), limit)
    return { ...verdict, enforced: this.ctx.engine.envValue('MARSFM_MEMORY_CHECK') !== 'off' }
  }

  /** The memory estimate of a run config, for the Training view (the model must be known: an id, the demo or random weights). */
  async estimate(raw: unknown): Promise<MemoryCheck | null> {
    const config = RunConfig.parse(raw)
    if ('path' in config.model) return null
    if (config.task === 'segmentation' && !config.segmentation) config.segmentation = RunConfig.shape.segmentation.unwrap().parse({})
    const model = await this.resolveModel(config.model)
    return this.memory(config, model.spec.config)
  }

  /** Validates and records a run, then queues it. */
  async start(raw: unknown): Promise<{ runId: number; jobId: string | null; queued: boolean; warnings: string[] }> {
    if (this.closing) throw new Error('the app is closing')
    // Strict at the top level: a misspelt key in run.json ("batch_size") must not be dropped silently.
    const config = RunConfig.strict().parse(raw)
    if (config.task === 'segmentation' && !config.segmentation) config.segmentation = RunConfig.shape.segmentation.unwrap().parse({})
    const model = await this.resolveModel(config.model)
    config.preprocessing.tileNorm ??= pretrainedTileNorm(model.spec.path) ?? 'none'
    const data = await this.resolveData(config)
    // Checked before the run is recorded: a typo in the path is an error now, not a failed run later.
    if (data.data.kind === 'folder') assertPath(data.data.path, 'folder', 'training data folder')
    const warnings = this.resolveClasses(config, data.data)
    // Refuse a run that cannot fit before it is recorded: nothing to clean up, nothing to resume.
    // Last of the checks: it needs the engine's backend, so it waits for the engine to be ready.
    const memory = await this.memory(config, model.spec.config)
    if (!memory.fits && memory.enforced) throw new MemoryLimitError(memory.message)
    const db = this.ctx.ledger.db
    const runId = createRun(db, { name: config.name, task: config.task, config, datasetVersionId: data.versionId, modelId: model.id, modelHash: model.sha256, seed: config.seed, appVersion: this.ctx.appVersion })
    if (data.hash) updateRun(db, runId, { datasetHash: data.hash })
    const runDir = this.runDir(runId)
    mkdirSync(runDir, { recursive: true })
    const params: TrainParams = { runId, runDir, config: { ...config, data: data.data }, model: model.spec }
    writeFileSync(join(runDir, 'params.json'), JSON.stringify(params, null, 2))
    this.ctx.log.write('info', 'runs', `run #${runId} "${config.name}" (${config.task}) queued${config.positiveClass ? `; positive class "${config.positiveClass}"` : ''}; best checkpoint by ${config.checkpoint.bestMetric}`)
    for (const w of warnings) this.ctx.log.write('warn', 'runs', `run #${runId}: ${w}`)
    this.enqueue(runId, params)
    return { runId, jobId: this.jobOf(runId), queued: this.jobOf(runId) === null, warnings }
  }

  /**
   * Fills in, so the run records them: a binary classification's positive class (requested, else a
   * "crater" class by name, else the minority) and the best-checkpoint metric (balanced accuracy by
   * default). Refuses plain accuracy as that metric on skewed data, where the checkpoint that
   * predicts the majority class everywhere would win. Returns the warnings to show.
   */
  private resolveClasses(config: RunConfig, data: RunData): string[] {
    Object.assign(config.checkpoint, bestMetricOf(config))
    if (config.task !== 'classification' || data.kind !== 'folder' || data.layout !== 'imagefolder') return []
    const found = imageFolderClassCounts(data.path)
    if (!found) return []
    const { classes, counts } = found
    if (classes.length === 2) config.positiveClass = resolvePositiveClass(classes, counts, config.positiveClass).positiveClass
    else if (config.positiveClass) throw new Error(`positiveClass applies to two-class datasets; ${data.path} has ${classes.length} classes (${classes.join(', ')})`)
    const warning = imbalanceWarning(classes, counts, 'training set')
    if (warning && config.checkpoint.bestMetric === 'val/accuracy') {
      throw new Error(`${warning}. Plain accuracy cannot pick the best checkpoint here: choose val/balanced_accuracy, val/auc or val/f1`)
    }
    return warning ? [warning] : []
  }

  private enqueue(runId: number, params: TrainParams): void {
    writeFileSync(join(this.runDir(runId), 'owner.pid'), String(process.pid))
    this.queue.push({ runId, params })
    this.announce(runId)
    void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.closing || this.active || this.starting !== null || !this.queue.length) return
    const next = this.queue.shift()!
    const db = this.ctx.ledger.db
    this.starting = next.runId
    try {
      const floor = maxMetricStep(db, next.runId)
      const title = `${next.params.resumeFrom ? 'Resume' : 'Train'} run #${next.runId}: ${next.params.config.name}`
      const jobId = await this.ctx.jobs.startEngineJob('train', title, next.params, {
        onEvent: (e) => this.onEvent(next.runId, e),
        onFinish: (job, outcome) => this.onFinish(next.runId, job, outcome)
      })
      this.active = { runId: next.runId, jobId, floor, buffer: [] }
      updateRun(db, next.runId, { status: 'running', statusReason: null, started: true, finished: false })
      this.announce(next.runId)
    } catch (err) {
      // While closing, shutdown() has recorded the run (and the ledger may be closed already).
      if (this.closing) return
      updateRun(db, next.runId, { status: 'failed', statusReason: (err as Error).message, finished: true })
      this.announce(next.runId)
    } finally {
      this.starting = null
    }
    void this.pump()
  }

  /**
   * The app is closing: runs waiting in the queue will not start, so the ledger says so now (the
   * running one is recorded when its job ends, as the engine stops).
   */
  private shutdown(): void {
    this.closing = true
    const db = this.ctx.ledger.db
    const waiting = [...(this.starting !== null ? [this.starting] : []), ...this.queue.splice(0).map((q) => q.runId)]
    for (const runId of waiting) {
      updateRun(db, runId, { status: 'failed', statusReason: interruptedReason(db, runId, 'queued'), finished: true })
      this.announce(runId)
    }
    if (waiting.length) this.ctx.log.write('warn', 'runs', `the app is closing: ${waiting.length} queued run(s) will not start (resume them later)`)
  }

  private onEvent(runId: number, e: EngineJobEvent<'train'>): void {
    const db = this.ctx.ledger.db
    const a = this.active
    if (e.event === 'started') {
      const p = e.payload
      const run = getRun(db, runId)
      updateRun(db, runId, { ...(run?.datasetHash ? {} : p.datasetHash ? { datasetHash: p.datasetHash } : {}), ...(p.backend ? { backend: p.backend } : {}), ...(p.device ? { device: p.device } : {}) })
      this.announce(runId)
    } else if (e.event === 'checkpoint') {
      const c = e.payload
      this.flush()
      addCheckpoint(db, { runId, step: c.step, kind: c.kind, path: c.path, metricName: c.metricName, metricValue: c.metricValue })
    } else if (e.event === 'metrics') {
      const m: RunMetricsEvent = { ...e.payload, runId }
      this.record(a, runId, m)
      // Announced after it is recorded: whoever sees step N can rely on it being in the ledger.
      this.ctx.bus.emit('runs:metrics', m)
      this.emit('metrics', m)
    }
  }

  private record(a: Active | null, runId: number, m: RunMetricsEvent): void {
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
    appendMetrics(this.ctx.ledger.db, a.runId, points)
  }

  private onFinish(runId: number, job: JobView, outcome?: TrainOutcome): void {
    this.flush()
    const db = this.ctx.ledger.db
    this.active = null
    if (this.closing && job.state !== 'done') {
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
    this.ctx.log.write(job.state === 'failed' ? 'error' : 'info', 'runs', `run #${runId} ${this.get(runId).status}${job.error ? `: ${job.error.message}` : ''}`)
    this.announce(runId)
    void this.pump()
  }

  /** Stops after the current step with a checkpoint (status 'paused'). */
  async pause(id: number): Promise<void> {
    const a = this.active
    if (!a || a.runId !== id) throw new Error(`run #${id} is not running`)
    if (!this.ctx.jobs.pause(a.jobId)) throw new Error(`run #${id} is not running`)
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

  /**
   * Continues a paused, failed or cancelled run from its newest checkpoint; a run without one (the
   * app stopped before it started, or before its first checkpoint) starts from step 0 with its
   * recorded parameters. Steps already in the ledger are not recorded twice.
   */
  resume(id: number): { runId: number; queued: boolean; warnings: string[] } {
    if (this.closing) throw new Error('the app is closing')
    const run = this.get(id)
    if (run.status === 'running' || run.status === 'queued' || this.owns(id)) throw new Error(`run #${id} is already ${run.status}`)
    if (run.status === 'done') throw new Error(`run #${id} is finished`)
    const paramsPath = join(this.runDir(id), 'params.json')
    if (!existsSync(paramsPath)) throw new Error(`run #${id} cannot be resumed: its parameters are missing (${paramsPath}); start a new run from its config`)
    const { resumeFrom: _previous, ...params } = JSON.parse(readFileSync(paramsPath, 'utf8')) as TrainParams
    const ckpt = latestCheckpoint(this.ctx.ledger.db, id)
    if (ckpt && !existsSync(ckpt.path)) throw new Error(`run #${id} cannot be resumed: its checkpoint at step ${ckpt.step} is missing (${ckpt.path})`)
    const reason = ckpt ? `resuming from step ${ckpt.step}` : run.startedAt ? 'no checkpoint: starting again from step 0' : 'starting from step 0'
    updateRun(this.ctx.ledger.db, id, { status: 'queued', statusReason: reason, finished: false })
    this.enqueue(id, ckpt ? { ...params, resumeFrom: ckpt.path } : params)
    return { runId: id, queued: this.jobOf(id) === null, warnings: [] }
  }

  /**
   * Deletes a run that is neither running nor queued: its ledger rows (run, metrics, checkpoints;
   * inference jobs that used its checkpoints keep their results) and its folder with the
   * checkpoints. Refused while a model imported from one of its checkpoint files is registered.
   */
  delete(id: number): void {
    const run = this.get(id)
    if (run.status === 'running' || run.status === 'queued' || this.owns(id)) throw new Error(`run #${id} is ${run.status}: cancel it first, then delete it`)
    const db = this.ctx.ledger.db
    const dir = resolve(this.runDir(id))
    const model = listModels(db).find((m) => resolve(m.path).startsWith(dir + sep))
    if (model) throw new Error(`model #${model.id} "${model.name}" is this run's checkpoint (${model.path}): remove that model first, then delete the run`)
    const deleted = deleteRun(db, id)
    if (!deleted) throw new Error(`no run #${id}`)
    removeCachedGraphs(onnxCacheDir(this.ctx.dataDir), deleted.inferredCheckpoints)
    this.ctx.log.write('info', 'runs', `run #${id} "${run.name}" deleted${deleted.unlinkedInferenceJobs ? ` (${deleted.unlinkedInferenceJobs} inference job(s) keep their results)` : ''}`)
    this.ctx.bus.emit('runs:deleted', { id })
    this.emit('deleted', id)
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch (err) {
      throw new Error(`run #${id} was deleted from the ledger, but its folder could not be removed (${dir}): ${(err as Error).message}`)
    }
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
  ctx.router.handle('runs:estimate', ({ config }) => runs.estimate(config))
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
  ctx.router.handle('runs:delete', ({ id }) => {
    runs.delete(id)
    return { ok: true as const }
  })
}

/** Removes the cached classifier graphs of the given checkpoint hashes (only a cache: best effort). */
function removeCachedGraphs(cacheDir: string, hashes: string[]): void {
  if (!hashes.length || !existsSync(cacheDir)) return
  const prefixes = hashes.map(classifierGraphPrefix)
  for (const f of readdirSync(cacheDir)) if (prefixes.some((p) => f.startsWith(p))) rmSync(join(cacheDir, f), { force: true })
}

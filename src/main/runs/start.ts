// Starting a run: the one use case behind `runs:start`, `marsfm train` and `marsfm pretrain`, so
// a run from the CLI is in the ledger exactly as one from the UI. What can be checked at once is
// (config, paths, model id, classes, memory when the model is known) and a refusal creates no
// run. The answer comes at once with the run's job: when the model file must be imported or a
// dataset version exported, those are the first steps of the job, with their progress.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { MemoryLimitError } from '@shared/training/memory'
import { freezeBlocksProblem } from '@shared/training/freeze-blocks'
import type { AppContext } from '../app/types'
import { pretrainedTileNorm } from '../models/pretraining'
import { onnxCacheDir } from '../app/paths'
import { createRun, setRunInputs, updateRun } from './repository'
import type { TrainParams } from './controller'
import { assertPath, exportData, importModel, needsExport, isResolvedModel, memoryCheck, requestData, requestModel, resolveClasses, type ResolvedData, type ResolvedModel } from './inputs'

export type StartRunDeps = Pick<AppContext, 'dataDir' | 'ledger' | 'engine' | 'jobs' | 'log' | 'appVersion' | 'runs'>

/** A run config as given (a request, a run.json): strict at the top level, segmentation defaults filled in. */
function parseRunConfig(raw: unknown): RunConfig {
  // Strict: a misspelt key in run.json ("batch_size") must not be dropped silently.
  const config = RunConfig.strict().parse(raw)
  if (config.task === 'segmentation' && !config.segmentation) config.segmentation = RunConfig.shape.segmentation.unwrap().parse({})
  return config
}

/** Validates and records a run, then queues it; answers with its job when it has one. */
export async function startRun(deps: StartRunDeps, raw: unknown): Promise<{ runId: number; jobId: string | null; queued: boolean; warnings: string[] }> {
  const { runs } = deps
  if (runs.closing) throw new Error('the app is closing')
  const config = parseRunConfig(raw)
  const model = requestModel(deps, config.model)
  if (isResolvedModel(model)) config.preprocessing.tileNorm ??= tileNormOf(model)
  if (isResolvedModel(model)) assertFreezeBlocks(config, model)
  const data = requestData(deps, config)
  // Checked before the run is recorded: a typo in the path is an error now, not a failed run later.
  let warnings: string[] = []
  if (!needsExport(data)) warnings = checkData(config, data)
  // Refuse a run that cannot fit before it is recorded: nothing to clean up, nothing to resume.
  // Last of the checks: it needs the engine's backend, so it waits for the engine to be ready.
  if (isResolvedModel(model)) await assertFits(deps, config, model)

  const db = deps.ledger.db
  const runId = createRun(db, {
    name: config.name,
    task: config.task,
    config,
    datasetVersionId: data.versionId,
    modelId: isResolvedModel(model) ? model.id : null,
    modelHash: isResolvedModel(model) ? model.sha256 : null,
    seed: config.seed,
    appVersion: deps.appVersion
  })
  if (data.hash) updateRun(db, runId, { datasetHash: data.hash })
  mkdirSync(runs.runDir(runId), { recursive: true })

  if (isResolvedModel(model) && !needsExport(data)) {
    runs.enqueue(runId, recordParams(deps, runId, config, model, data, warnings))
    return { runId, jobId: runs.jobOf(runId), queued: runs.jobOf(runId) === null, warnings }
  }

  updateRun(db, runId, { statusReason: isResolvedModel(model) ? 'exporting the dataset version…' : 'resolving the model…' })
  const jobId = runs.startPrepared(runId, `Train run #${runId}: ${config.name}`, async (job) => {
    let resolvedModel = model
    if (!isResolvedModel(resolvedModel)) {
      job.progress(0, 0, `Resolving model ${resolvedModel.path.split(/[\\/]/).pop()}…`)
      resolvedModel = await importModel(deps, resolvedModel)
      config.preprocessing.tileNorm ??= tileNormOf(resolvedModel)
      assertFreezeBlocks(config, resolvedModel)
      await assertFits(deps, config, resolvedModel)
    }
    let resolvedData: ResolvedData
    let dataWarnings = warnings
    if (needsExport(data)) {
      job.progress(0, 0, `Exporting dataset version #${data.versionId}…`)
      updateRun(db, runId, { statusReason: 'exporting the dataset version…' })
      resolvedData = await exportData(deps, data, job)
      dataWarnings = checkData(config, resolvedData)
    } else resolvedData = data
    setRunInputs(db, runId, { config, modelId: resolvedModel.id, modelHash: resolvedModel.sha256 })
    updateRun(db, runId, { statusReason: null })
    job.progress(0, 0, 'starting training…')
    return recordParams(deps, runId, config, resolvedModel, resolvedData, dataWarnings)
  })
  return { runId, jobId, queued: true, warnings }
}

/** The memory estimate of a run config, for the Training view (the model must be known: an id, the demo or random weights). */
export async function estimateRun(deps: Pick<AppContext, 'dataDir' | 'ledger' | 'engine' | 'jobs' | 'log'>, raw: unknown) {
  const config = RunConfig.parse(raw)
  if ('path' in config.model) return null
  if (config.task === 'segmentation' && !config.segmentation) config.segmentation = RunConfig.shape.segmentation.unwrap().parse({})
  const model = requestModel(deps, config.model)
  if (!isResolvedModel(model)) return null
  return memoryCheck(deps, config, model.spec.config)
}

function tileNormOf(model: ResolvedModel) {
  return pretrainedTileNorm(model.spec.path) ?? 'none'
}

/** Partial fine-tuning's K against the backbone's depth, before anything is recorded or loaded. */
function assertFreezeBlocks(config: RunConfig, model: ResolvedModel): void {
  const why = freezeBlocksProblem(config, model.spec.config.depth)
  if (why) throw new Error(why)
}

function checkData(config: RunConfig, data: ResolvedData): string[] {
  if (data.data.kind === 'folder') assertPath(data.data.path, 'folder', 'training data folder')
  return resolveClasses(config, data.data)
}

async function assertFits(deps: StartRunDeps, config: RunConfig, model: ResolvedModel): Promise<void> {
  const memory = await memoryCheck(deps, config, model.spec.config)
  if (!memory.fits && memory.enforced) throw new MemoryLimitError(memory.message)
}

/** The train job's params, saved beside the run for resumes; logs what was queued. */
function recordParams(deps: StartRunDeps, runId: number, config: RunConfig, model: ResolvedModel, data: ResolvedData, warnings: string[]): TrainParams {
  const runDir = deps.runs.runDir(runId)
  const params: TrainParams = { runId, runDir, config: { ...config, data: data.data }, model: model.spec, ...(config.freezeBlocks ? { cacheDir: onnxCacheDir(deps.dataDir) } : {}) }
  writeFileSync(join(runDir, 'params.json'), JSON.stringify(params, null, 2))
  deps.log.write('info', 'runs', `run #${runId} "${config.name}" (${config.task}) queued${config.positiveClass ? `; positive class "${config.positiveClass}"` : ''}; best checkpoint by ${config.checkpoint.bestMetric}`)
  for (const w of warnings) deps.log.write('warn', 'runs', `run #${runId}: ${w}`)
  return params
}

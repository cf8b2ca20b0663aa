// A run's inputs: the model (an imported one, the demo, random weights, or a checkpoint file to
// import), the data (a folder, or a frozen dataset version exported once for training), the
// classes and the memory verdict. Quick checks answer at once; importing a file and exporting a
// version are the slow steps a run's job does before it trains.
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { totalmem } from 'node:os'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { bestMetricOf, type MemoryCheck, type RunConfig, type RunData, type RunModel } from '@shared/ipc/schemas/runs'
import { PrithviConfigSchema, type ModelRecord, type ModelSummary } from '@shared/ipc/schemas/models'
import { imbalanceWarning, resolvePositiveClass } from '@shared/training/positive-class'
import { checkTrainingMemory, memoryLimit, memoryRunOf } from '@shared/training/memory'
import { validatePrithviConfig } from '@engine/checkpoint/validate-config'
import type { AppContext } from '../app/types'
import { getModel, upsertModel } from '../models/repository'
import { ensureDemoModel } from '../models/demo'
import { demoModelOf } from '@shared/models/demo-models'
import { exportVersion, EXPORT_MARKER } from '../datasets/exporter'
import { getVersion } from '../datasets/versions'
import type { LocalJobContext } from '../jobs/job-manager'
import { imageFolderClassCounts } from './class-counts'
import type { TrainParams } from './controller'

export type RunInputDeps = Pick<AppContext, 'dataDir' | 'ledger' | 'engine' | 'jobs' | 'log'>

export interface ResolvedModel {
  id: number | null
  sha256: string | null
  spec: TrainParams['model']
}

/** A checkpoint file named by path, to be imported (inspected in the engine) before the run can use it. */
export interface ModelToImport {
  path: string
  configPath?: string
}

export interface ResolvedData {
  data: RunData
  versionId: number | null
  hash: string | null
}

/** A frozen version without its training export yet. */
export interface DataToExport {
  versionId: number
  hash: string
  format: 'mmseg' | 'imagefolder'
  outDir: string
  data: RunData
}

export function assertPath(path: string, kind: 'file' | 'folder', what: string): void {
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st) throw new Error(`${what} not found: ${path}`)
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) throw new Error(`${what} is not a ${kind}: ${path}`)
}

/** Random weights, the demo and a registered model resolve at once; a checkpoint file is checked and left to import. */
export function requestModel(deps: RunInputDeps, m: RunModel): ResolvedModel | ModelToImport {
  if ('random' in m) {
    validatePrithviConfig(m.random, 'model.random')
    return { id: null, sha256: null, spec: { config: m.random, stats: m.stats ?? PRITHVI_HLS_STATS } }
  }
  if ('path' in m) {
    assertPath(m.path, 'file', 'model checkpoint')
    if (m.configPath) assertPath(m.configPath, 'file', 'model config file')
    return { path: m.path, ...(m.configPath ? { configPath: m.configPath } : {}) }
  }
  let record: ModelRecord | null
  if ('demo' in m) {
    const demo = demoModelOf(m.demo)
    record = ensureDemoModel(deps, demo.id)
    if (!record) throw new Error(`the demo model ${demo.file} is not shipped with this build (resources/models/)`)
  } else {
    record = getModel(deps.ledger.db, m.id)
    if (!record) throw new Error(`no model #${m.id}`)
  }
  return fromRecord(record)
}

function fromRecord(record: ModelRecord): ResolvedModel {
  if (!existsSync(record.path)) throw new Error(`the checkpoint of model #${record.id} is missing: ${record.path}`)
  return { id: record.id, sha256: record.sha256, spec: { path: record.path, config: record.config, stats: record.stats ?? PRITHVI_HLS_STATS } }
}

export function isResolvedModel(m: ResolvedModel | ModelToImport): m is ResolvedModel {
  return 'spec' in m
}

/** Inspects a checkpoint file in the engine and registers it, so the run can name its model. */
export async function importModel(deps: RunInputDeps, m: ModelToImport): Promise<ResolvedModel> {
  let summary: ModelSummary | undefined
  const jobId = await deps.jobs.startEngineJob('model-inspect', `Import model ${m.path.split(/[\\/]/).pop()}`, { path: m.path, configPath: m.configPath }, { onFinish: (_job, result) => (summary = result) })
  const job = await deps.jobs.waitFor(jobId)
  if (job.state !== 'done' || !summary) throw new Error(`cannot use ${m.path}: ${job.error?.message ?? job.state}`)
  return fromRecord(upsertModel(deps.ledger.db, summary))
}

/** A folder is used as it is; a frozen version is trained from its export (ImageFolder / MMSegmentation), made once. */
export function requestData(deps: RunInputDeps, config: RunConfig): ResolvedData | DataToExport {
  if (config.data.kind === 'folder') return { data: config.data, versionId: null, hash: null }
  const version = getVersion(deps.ledger.db, config.data.id)
  const format = config.task === 'segmentation' ? 'mmseg' : 'imagefolder'
  const outDir = join(deps.dataDir, 'training-data', `version-${version.id}-${format}`)
  const data: RunData = { kind: 'folder', path: outDir, layout: config.task === 'segmentation' ? 'mmseg' : config.task === 'pretrain' ? 'images' : 'imagefolder' }
  if (existsSync(join(outDir, EXPORT_MARKER))) return { data, versionId: version.id, hash: version.contentHash }
  return { versionId: version.id, hash: version.contentHash, format, outDir, data }
}

export function needsExport(d: ResolvedData | DataToExport): d is DataToExport {
  return 'outDir' in d
}

export async function exportData(deps: RunInputDeps, d: DataToExport, job: LocalJobContext): Promise<ResolvedData> {
  await exportVersion({ db: deps.ledger.db, dataDir: deps.dataDir }, { versionId: d.versionId, format: d.format, outDir: d.outDir, mask: { mode: 'filled', width: 5 } }, { signal: job.signal })
  return { data: d.data, versionId: d.versionId, hash: d.hash }
}

/**
 * Fills in, so the run records them: a binary classification's positive class (requested, else a
 * "crater" class by name, else the minority) and the best-checkpoint metric (balanced accuracy by
 * default). Refuses plain accuracy as that metric on skewed data, where the checkpoint that
 * predicts the majority class everywhere would win. Returns the warnings to show.
 */
export function resolveClasses(config: RunConfig, data: RunData): string[] {
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

/**
 * The memory estimate of a run on the engine's backend (classification assumes 2 classes until
 * the data is listed). Computed here from the engine's status, not by calling the engine: a call
 * would wait behind a training step that can take a minute. The engine checks again before step 1.
 */
export async function memoryCheck(deps: RunInputDeps, config: RunConfig, arch: unknown): Promise<MemoryCheck> {
  await deps.engine.whenReady()
  const status = deps.engine.getStatus()
  const model = PrithviConfigSchema.parse(arch)
  const limit = memoryLimit(status.backend ?? 'wasm', totalmem(), status.gpu)
  const verdict = checkTrainingMemory({ ...model, ...(config.imgSize ? { img_size: config.imgSize } : {}) }, memoryRunOf(config), limit)
  return { ...verdict, enforced: deps.engine.envValue('MARSFM_MEMORY_CHECK') !== 'off' }
}

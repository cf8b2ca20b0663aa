// Models service: import a checkpoint (the engine inspects it; the ledger records it with its
// SHA-256), list and remove models, and export their graphs to ONNX. Long work runs as jobs. Each
// use case is a function the router's one-line handlers and `marsfm model` share.
import type { AppContext } from '../app/types'
import { requirePath } from '../app/require-path'
import { getModel, listModels, removeModel, upsertModel } from '../models/repository'
import { makeDirsSync } from '../app/make-dirs'
import { dirname } from 'node:path'
import type { ModelExportOnnxRequest, ModelImportRequest, ModelRecord, ModelSummary } from '@shared/ipc/schemas/models'

function assertFile(path: string, what: string): void {
  requirePath(path, what, 'file') // a link loop is named as such, not "not found"
}

export interface ModelImport {
  jobId: string
  /** The ledger row and the inspection once the job is done; null when it failed or was cancelled. */
  recorded: Promise<{ record: ModelRecord; summary: ModelSummary } | null>
}

/** Inspects a checkpoint in the engine and records it in the ledger (by SHA-256: a re-import updates the row). */
export async function importModel(ctx: AppContext, req: ModelImportRequest): Promise<ModelImport> {
  assertFile(req.path, 'checkpoint')
  if (req.configPath) assertFile(req.configPath, 'config file')
  let settle: (v: { record: ModelRecord; summary: ModelSummary } | null) => void = () => {}
  const recorded = new Promise<{ record: ModelRecord; summary: ModelSummary } | null>((resolve) => (settle = resolve))
  const jobId = await ctx.jobs.startEngineJob('model-inspect', `Import model ${req.path.split(/[\\/]/).pop()}`, { path: req.path, configPath: req.configPath }, {
    onFinish: (job, summary) => {
      if (job.state !== 'done' || !summary) return settle(null)
      const record = upsertModel(ctx.ledger.db, summary, req.name ? { name: req.name } : {})
      ctx.log.write('info', 'models', `imported model #${record.id} ${record.name} (${record.sha256.slice(0, 12)})`)
      for (const w of summary.warnings) ctx.log.write('warn', 'models', `model #${record.id} ${record.name}: ${w}`)
      settle({ record, summary })
    }
  })
  return { jobId, recorded }
}

export function deleteModel(ctx: AppContext, id: number): { ok: true } {
  if (!removeModel(ctx.ledger.db, id)) throw new Error(`no model #${id}`)
  return { ok: true }
}

/** Exports a ledger model's graph (MAE, encoder or classifier) to an ONNX file, as a job. */
export async function exportModelOnnx(ctx: AppContext, req: ModelExportOnnxRequest): Promise<{ jobId: string }> {
  const model = getModel(ctx.ledger.db, req.id)
  if (!model) throw new Error(`no model #${req.id}`)
  assertFile(model.path, 'checkpoint')
  // The folder is made here: the engine's recursive mkdir would never return for a path under /proc.
  makeDirsSync(dirname(req.outPath))
  const jobId = await ctx.jobs.startEngineJob('model-export-onnx', `Export ${model.name} (${req.graph}) to ONNX`, {
    path: model.path,
    config: model.config,
    graph: req.graph,
    outPath: req.outPath,
    maskRatio: req.maskRatio
  })
  return { jobId }
}

export function registerModelsService(ctx: AppContext): void {
  ctx.router.handle('models:list', () => listModels(ctx.ledger.db))
  ctx.router.handle('models:import', async (req) => ({ jobId: (await importModel(ctx, req)).jobId }))
  ctx.router.handle('models:remove', ({ id }) => deleteModel(ctx, id))
  ctx.router.handle('models:export-onnx', (req) => exportModelOnnx(ctx, req))
}

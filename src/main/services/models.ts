// Models service: import a checkpoint (the engine inspects it; the ledger records it with its
// SHA-256), list and remove models, and export their graphs to ONNX. Long work runs as jobs.
import type { AppContext } from '../app/types'
import { requirePath } from '../app/require-path'
import { getModel, listModels, removeModel, upsertModel } from '../models/repository'
import { makeDirsSync } from '../app/make-dirs'
import { dirname } from 'node:path'

function assertFile(path: string, what: string): void {
  requirePath(path, what, 'file') // a link loop is named as such, not "not found"
}

export function registerModelsService(ctx: AppContext): void {
  ctx.router.handle('models:list', () => listModels(ctx.ledger.db))

  ctx.router.handle('models:import', async ({ path, configPath, name }) => {
    assertFile(path, 'checkpoint')
    if (configPath) assertFile(configPath, 'config file')
    const jobId = await ctx.jobs.startEngineJob('model-inspect', `Import model ${path.split(/[\\/]/).pop()}`, { path, configPath }, {
      onFinish: (job, summary) => {
        if (job.state !== 'done' || !summary) return
        const record = upsertModel(ctx.ledger.db, summary, { name })
        ctx.log.write('info', 'models', `imported model #${record.id} ${record.name} (${record.sha256.slice(0, 12)})`)
        for (const w of summary.warnings) ctx.log.write('warn', 'models', `model #${record.id} ${record.name}: ${w}`)
      }
    })
    return { jobId }
  })

  ctx.router.handle('models:remove', ({ id }) => {
    if (!removeModel(ctx.ledger.db, id)) throw new Error(`no model #${id}`)
    return { ok: true as const }
  })

  ctx.router.handle('models:export-onnx', async ({ id, graph, outPath, maskRatio }) => {
    const model = getModel(ctx.ledger.db, id)
    if (!model) throw new Error(`no model #${id}`)
    assertFile(model.path, 'checkpoint')
    // The folder is made here: the engine's recursive mkdir would never return for a path under /proc.
    makeDirsSync(dirname(outPath))
    const jobId = await ctx.jobs.startEngineJob('model-export-onnx', `Export ${model.name} (${graph}) to ONNX`, {
      path: model.path,
      config: model.config,
      graph,
      outPath,
      maskRatio
    })
    return { jobId }
  })
}

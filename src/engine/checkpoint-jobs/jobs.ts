// Engine jobs over checkpoints: inspect one (architecture, key report, hash) and export the
// model's graphs to ONNX. Both read the file here, in the engine, never in main.
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import { assertLoadable, assertUsable, loadCheckpoint, type LoadedCheckpoint } from '../checkpoint'
import { exportOnnxFile } from '../onnx/export-file'
import { registerJob } from '../jobs/registry'
import type { ModelSummary } from '@shared/ipc/schemas/models'

export function summarise(path: string, loaded: LoadedCheckpoint): ModelSummary {
  return {
    path,
    fileBytes: statSync(path).size,
    format: loaded.format,
    sha256: loaded.sha256,
    config: loaded.config,
    configSource: loaded.configSource,
    stats: loaded.stats ?? null,
    dtype: loaded.dtype,
    parameterCount: loaded.parameterCount,
    hasDecoder: loaded.hasDecoder,
    stateDictPath: loaded.stateDictPath,
    report: loaded.report,
    notes: loaded.notes,
    warnings: loaded.warnings,
    card: loaded.card
  }
}

registerJob('model-inspect', async (p, ctx) => {
  ctx.progress(0, 2, 'reading checkpoint')
  const loaded = await loadCheckpoint(p.path, p.configPath ? { configPath: p.configPath } : {})
  ctx.progress(1, 2, 'checking weights')
  // A file with missing or wrong-shape model weights is refused here, with the keys named;
  // NaN / infinite weights import with a warning (summary.warnings) and are refused at run time.
  assertLoadable(loaded.report)
  for (const w of loaded.warnings) ctx.log('warn', `${basename(p.path)}: ${w}`)
  ctx.progress(2, 2, 'done')
  return summarise(p.path, loaded)
})

registerJob('model-export-onnx', async (p, ctx) => {
  ctx.progress(0, 3, 'reading checkpoint')
  // Only the classifier graph needs the tensors that are not backbone weights (its head).
  const extra = p.graph === 'classifier'
  const loaded = await loadCheckpoint(p.path, p.config ? { config: p.config, extra } : p.configPath ? { configPath: p.configPath, extra } : { extra })
  assertUsable(loaded, basename(p.path))
  if (ctx.signal.aborted) throw ctx.signal.reason
  ctx.progress(1, 3, `building the ${p.graph} graph`)
  const weights = new Map([...loaded.weights, ...loaded.extra])
  const result = exportOnnxFile(loaded.config, weights, p.graph, p.outPath, { maskRatio: p.maskRatio })
  ctx.progress(3, 3, 'written')
  return { outPath: p.outPath, ...result }
})

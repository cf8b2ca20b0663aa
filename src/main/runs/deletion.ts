// Deleting a run that is neither running nor queued: its ledger rows (run, metrics, checkpoints;
// inference jobs that used its checkpoints keep their results), its folder with the checkpoints
// and the ONNX graphs cached from them. Refused while a model imported from one of its checkpoint
// files is registered.
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { classifierGraphPrefix } from '@shared/inference/graph-cache'
import type { AppContext } from '../app/types'
import { listModels } from '../models/repository'
import { onnxCacheDir } from '../app/paths'
import { deleteRun } from './repository'

export type RemoveRunDeps = Pick<AppContext, 'dataDir' | 'ledger' | 'bus' | 'log' | 'runs'>

export function removeRun(deps: RemoveRunDeps, id: number): void {
  const { runs } = deps
  const run = runs.get(id)
  if (run.status === 'running' || run.status === 'queued' || runs.owns(id)) throw new Error(`run #${id} is ${run.status}: cancel it first, then delete it`)
  const db = deps.ledger.db
  const dir = resolve(runs.runDir(id))
  const model = listModels(db).find((m) => resolve(m.path).startsWith(dir + sep))
  if (model) throw new Error(`model #${model.id} "${model.name}" is this run's checkpoint (${model.path}): remove that model first, then delete the run`)
  const deleted = deleteRun(db, id)
  if (!deleted) throw new Error(`no run #${id}`)
  removeCachedGraphs(onnxCacheDir(deps.dataDir), deleted.inferredCheckpoints)
  deps.log.write('info', 'runs', `run #${id} "${run.name}" deleted${deleted.unlinkedInferenceJobs ? ` (${deleted.unlinkedInferenceJobs} inference job(s) keep their results)` : ''}`)
  deps.bus.emit('runs:deleted', { id })
  runs.emit('deleted', id)
  try {
    rmSync(dir, { recursive: true, force: true })
  } catch (err) {
    throw new Error(`run #${id} was deleted from the ledger, but its folder could not be removed (${dir}): ${(err as Error).message}`)
  }
}

/** Removes the cached classifier graphs of the given checkpoint hashes (only a cache: best effort). */
function removeCachedGraphs(cacheDir: string, hashes: string[]): void {
  if (!hashes.length || !existsSync(cacheDir)) return
  const prefixes = hashes.map(classifierGraphPrefix)
  for (const f of readdirSync(cacheDir)) if (prefixes.some((p) => f.startsWith(p))) rmSync(join(cacheDir, f), { force: true })
}

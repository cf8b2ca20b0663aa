// Seeds a real ledger with finished runs for the experiments tests, through the app's own
// repositories: a frozen dataset version, runs on the demo model whose configs differ in learning
// rate and seed, their metrics (train/loss every step, val/* every 10) and checkpoints.
import type { Db } from '@main/ledger/ledger'
import { createDataset } from '@main/datasets/repository/datasets'
import { insertImage } from '@main/datasets/repository/images'
import { insertTile } from '@main/datasets/repository/tiles'
import { freeze } from '@main/datasets/versions'
import { addCheckpoint, appendMetrics, createRun, updateRun } from '@main/runs/repository'
import type { MetricPoint } from '@shared/ipc/schemas/runs'

export interface SeededRun {
  id: number
  name: string
  lr: number
  seed: number
}

/** A one-tile dataset frozen as version 1; returns the version's id. */
export function seedDatasetVersion(db: Db, name: string): number {
  const datasetId = createDataset(db, { name, description: '', task: 'classification', classes: ['crater', 'other'] })
  const imageId = insertImage(db, {
    datasetId, sha256: 'a'.repeat(64), path: '/nowhere/a.png', fileName: 'a.png', format: 'png', width: 64, height: 64,
    channels: 3, bitDepth: 8, observationId: null, storedName: null, colour: null, thumbnail: null
  })
  insertTile(db, { datasetId, imageId, x: 0, y: 0, width: 64, height: 64, observationId: null, origin: 'whole', thumbnail: null, phash: null, colour: null })
  return freeze(db, datasetId, 'experiments test').version.id
}

/** The loss curve of a run: decays with lr, plus a seed-dependent offset (known mean and spread). */
export const lossAt = (step: number, lr: number, seed: number) => 1 / (1 + step * lr * 100) + seed * 0.01

/**
 * Runs for every (lr, seed) pair, `steps` steps each, finished; names `lr <lr> seed <seed>`.
 * `modelId`: an imported model (by name on the run page), else the demo model config.
 */
export function seedRuns(db: Db, opts: { versionId: number; modelId: number | null; lrs: number[]; seeds: number[]; steps: number; checkpointDir: string }): SeededRun[] {
  const out: SeededRun[] = []
  for (const lr of opts.lrs) {
    for (const seed of opts.seeds) {
      const name = `lr ${lr} seed ${seed}`
      const config = {
        name, task: 'classification', model: opts.modelId ? { id: opts.modelId } : { demo: true },
        data: { kind: 'dataset-version', id: opts.versionId }, steps: opts.steps, batchSize: 8, seed,
        optimizer: { name: 'adamw', lr }, positiveClass: 'crater'
      }
      const id = createRun(db, { name, task: 'classification', config, datasetVersionId: opts.versionId, modelId: opts.modelId, modelHash: null, seed, appVersion: '0.0.0-test' })
      updateRun(db, id, { status: 'running', started: true, backend: 'wasm', device: 'cpu', datasetHash: 'f'.repeat(64) })
      const points: MetricPoint[] = []
      for (let step = 1; step <= opts.steps; step++) {
        points.push({ step, name: 'train/loss', value: lossAt(step, lr, seed) })
        if (step % 10 === 0) {
          points.push({ step, name: 'val/loss', value: lossAt(step, lr, seed) + 0.05 })
          points.push({ step, name: 'val/balanced_accuracy', value: Math.min(0.99, 0.5 + step * lr * 10 + seed * 0.01) })
        }
      }
      appendMetrics(db, id, points)
      addCheckpoint(db, { runId: id, step: opts.steps, kind: 'last', path: `${opts.checkpointDir}/run-${id}-last.safetensors`, metricName: null, metricValue: null })
      addCheckpoint(db, { runId: id, step: opts.steps, kind: 'best', path: `${opts.checkpointDir}/run-${id}-best.safetensors`, metricName: 'val/balanced_accuracy', metricValue: 0.9 })
      updateRun(db, id, { status: 'done', finished: true })
      out.push({ id, name, lr, seed })
    }
  }
  return out
}

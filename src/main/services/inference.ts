// Inference service: classification runs and the checkpoints inference can use, inference jobs
// (engine `inference-classify`) recorded in the ledger's `inference_jobs`, reopened and removed,
// a larger preview of a classified image (only for images a recorded job names), and sliding-window
// heat maps over one large image (engine `inference-heatmap`).
import { existsSync, readFileSync } from 'node:fs'
import type { z } from 'zod'
import { previewPng } from '../datasets/image-io'
import type { AppContext } from '../app/types'
import { requirePath } from '../app/require-path'
import { type HeatmapRequest, type InferenceCandidate, type InferenceInput, type InferenceSource } from '@shared/ipc/schemas/inference'
import type { CheckpointRecord } from '@shared/ipc/schemas/runs'
import type { ComputeDevice, OrtPrecision } from '@shared/ipc/schemas/device'
import { exportNames } from '@shared/datasets/manifest'
import { getRun, runCheckpoints } from '../runs/repository'
import { versionManifest } from '../datasets/versions'
import { storedPath } from '../datasets/store'
import { onnxCacheDir } from '../app/paths'
import {
  createInferenceJob,
  failInterruptedInference,
  finishInferenceJob,
  getInferenceJob,
  listInferenceJobs,
  removeInferenceJob
} from '../inference/repository'

/**
 * The checkpoints of a run inference can use: the latest recorded 'best' and 'last' rows (each kind's
 * file is overwritten in place, so the row written last describes it, even after a resume from an
 * earlier step) and every periodic one.
 */
export function usableCheckpoints(all: readonly CheckpointRecord[]): CheckpointRecord[] {
  const newest = (kind: 'best' | 'last') => all.filter((c) => c.kind === kind).sort((a, b) => b.id - a.id)[0]
  return [newest('best'), newest('last'), ...all.filter((c) => c.kind === 'periodic')].filter((c): c is CheckpointRecord => !!c && existsSync(c.path))
}

function checkpointClasses(path: string): string[] {
  try {
    const meta = JSON.parse(readFileSync(path.replace(/\.safetensors$/, '.json'), 'utf8')) as { classes?: unknown }
    return Array.isArray(meta.classes) ? meta.classes.map(String) : []
  } catch {
    return []
  }
}

export function inferenceCandidates(ctx: AppContext): InferenceCandidate[] {
  const db = ctx.ledger.db
  const runs = db.prepare(`SELECT id, name, status FROM runs WHERE task = 'classification' ORDER BY id DESC`).all() as { id: number; name: string; status: string }[]
  return runs.flatMap((r) => {
    const ckpts = usableCheckpoints(runCheckpoints(db, r.id))
    if (!ckpts.length) return []
    return [{
      runId: r.id,
      name: r.name,
      status: r.status,
      classes: checkpointClasses(ckpts[0]!.path),
      checkpoints: ckpts.map((c) => ({ id: c.id, kind: c.kind, step: c.step, metricName: c.metricName, metricValue: c.metricValue }))
    }]
  })
}

/** A dataset version's tiles (one split, if given) as image rectangles with their consensus labels. */
function datasetItems(ctx: AppContext, versionId: number, split: string | undefined, maxImages: number) {
  const manifest = versionManifest(ctx.ledger.db, versionId)
  const tiles = manifest.tiles.filter((t) => !split || t.split === split).slice(0, maxImages)
  if (!tiles.length) throw new Error(`dataset version ${versionId} has no${split ? ` ${split}` : ''} tiles`)
  const names = exportNames(tiles)
  return tiles.map((t) => {
    const path = storedPath(ctx.dataDir, `${t.image.sha256}.${t.image.ext}`)
    if (!existsSync(path)) throw new Error(`the pixels of ${t.image.fileName} are missing from the data folder (${path})`)
    return { path, name: names.get(t.tileId)!, label: t.label, region: { x: t.x, y: t.y, width: t.width, height: t.height } }
  })
}

function sourceParams(ctx: AppContext, source: InferenceSource, maxImages: number) {
  if (source.kind === 'folder') {
    requirePath(source.path, 'folder', 'folder')
    return { folder: source.path }
  }
  if (source.kind === 'files') {
    for (const f of source.paths) requirePath(f, 'image')
    return { files: source.paths }
  }
  return { items: datasetItems(ctx, source.versionId, source.split, maxImages) }
}

function describeSource(source: InferenceSource): string {
  if (source.kind === 'folder') return source.path.split(/[\\/]/).filter(Boolean).slice(-2).join('/')
  if (source.kind === 'files') return `${source.paths.length} file(s)`
  return `dataset version ${source.versionId}${source.split ? ` (${source.split})` : ''}`
}

/** A heat-map request after parsing (defaults filled in). */
export type HeatmapStart = z.output<typeof HeatmapRequest>

export interface InferenceStart {
  name?: string | undefined
  runId: number
  checkpoint: 'best' | 'last' | number
  source: InferenceSource
  backend: 'auto' | 'ort' | 'tfjs'
  /** ONNX Runtime's device; default 'auto'. */
  device?: ComputeDevice | undefined
  /** Default 'fp32'. */
  precision?: OrtPrecision | undefined
  batchSize: number
  maxImages: number
  thumbnails: number
}

/** A classification run and the checkpoint asked for ('best' / 'last': the newest of that kind; a number: a checkpoints row id). */
function runCheckpoint(ctx: AppContext, runId: number, checkpoint: 'best' | 'last' | number) {
  const db = ctx.ledger.db
  const run = getRun(db, runId)
  if (!run) throw new Error(`no run #${runId}`)
  if (run.task !== 'classification') throw new Error(`run #${run.id} is a ${run.task} run; inference needs a classification run`)
  const all = runCheckpoints(db, run.id)
  const usable = usableCheckpoints(all)
  const ckpt = typeof checkpoint === 'number' ? all.find((c) => c.id === checkpoint) : usable.find((c) => c.kind === checkpoint)
  if (!ckpt) {
    const have = usable.map((c) => c.kind).join(', ')
    throw new Error(`run #${run.id} has no ${typeof checkpoint === 'number' ? `checkpoint #${checkpoint}` : `"${checkpoint}" checkpoint`}${have ? ` (it has: ${have})` : ' yet'}`)
  }
  if (!existsSync(ckpt.path)) throw new Error(`the checkpoint file is gone: ${ckpt.path}`)
  return { run, ckpt }
}

/**
 * The heat-map use case, for the Inference view (`inference:heatmap`) and `marsfm infer --heatmap`:
 * one large image scored window by window with a run's checkpoint. The outcome is the job's result
 * (drawn and exported by the caller); it is not recorded in the ledger.
 */
export async function startHeatmap(ctx: AppContext, req: HeatmapStart): Promise<{ jobId: string }> {
  const { run, ckpt } = runCheckpoint(ctx, req.runId, req.checkpoint)
  requirePath(req.image, 'image')
  if (req.window !== undefined && req.stride !== undefined && req.stride > req.window) {
    throw new Error(`a stride of ${req.stride} px skips pixels between ${req.window} px windows: use a stride ≤ the window`)
  }
  const name = req.image.split(/[\\/]/).pop()
  return {
    jobId: await ctx.jobs.startEngineJob('inference-heatmap', `Heat map: ${name} · ${run.name} · ${ckpt.kind} @ ${ckpt.step}`, {
      checkpoint: ckpt.path,
      image: req.image,
      ...(req.window !== undefined ? { window: req.window } : {}),
      ...(req.stride !== undefined ? { stride: req.stride } : {}),
      ...(req.className !== undefined ? { className: req.className } : {}),
      batchSize: req.batchSize,
      backend: req.backend,
      device: req.device,
      cacheDir: onnxCacheDir(ctx.dataDir)
    })
  }
}

/** Records an inference job and starts it in the engine; the ledger row is finished when the job ends. */
export async function startInference(ctx: AppContext, req: InferenceStart): Promise<{ jobId: string; inferenceId: number }> {
  const db = ctx.ledger.db
  const { run, ckpt } = runCheckpoint(ctx, req.runId, req.checkpoint)
  const source = sourceParams(ctx, req.source, req.maxImages)
  const settings = { backend: req.backend, device: req.device ?? 'auto', precision: req.precision ?? 'fp32', batchSize: req.batchSize, maxImages: req.maxImages, thumbnails: req.thumbnails }
  const name = req.name ?? `${run.name} · ${ckpt.kind} @ ${ckpt.step} · ${describeSource(req.source)}`
  const input: InferenceInput = {
    ...settings,
    name,
    source: req.source,
    run: { id: run.id, name: run.name },
    checkpoint: { id: ckpt.id, kind: ckpt.kind, step: ckpt.step, path: ckpt.path, metricName: ckpt.metricName, metricValue: ckpt.metricValue }
  }
  const id = createInferenceJob(db, input, run.modelId)
  try {
    const jobId = await ctx.jobs.startEngineJob('inference-classify', `Inference #${id}: ${name}`, { ...settings, checkpoint: ckpt.path, ...source, cacheDir: onnxCacheDir(ctx.dataDir) }, {
      onFinish: (job, outcome) => {
        try {
          if (job.state === 'done' && outcome) {
            finishInferenceJob(db, id, 'done', { outcome })
            ctx.log.write('info', 'inference', `inference #${id} done`)
          } else finishInferenceJob(db, id, job.state === 'cancelled' ? 'cancelled' : 'failed', { reason: job.error?.message ?? job.state })
        } catch (err) {
          finishInferenceJob(db, id, 'failed', { reason: `could not record the results: ${(err as Error).message}` })
        }
      }
    })
    return { jobId, inferenceId: id }
  } catch (err) {
    finishInferenceJob(db, id, 'failed', { reason: (err as Error).message })
    throw err
  }
}

export function inferenceOrThrow(ctx: AppContext, id: number) {
  const job = getInferenceJob(ctx.ledger.db, id)
  if (!job) throw new Error(`no inference job #${id}`)
  return job
}

/** A larger preview of a classified image: only an image the recorded outcome names, so no path from the page is ever opened. */
export async function inferenceImage(ctx: AppContext, id: number, index: number, maxSide: number) {
  const p = getInferenceJob(ctx.ledger.db, id)?.outcome?.predictions[index]
  if (!p) throw new Error(`inference job #${id} has no image ${index}`)
  if (!existsSync(p.path)) throw new Error(`the image is gone: ${p.path}`)
  return { index, name: p.name, dataUrl: await previewPng(p.path, p.region, maxSide) }
}

export function deleteInference(ctx: AppContext, id: number): { ok: true } {
  const job = inferenceOrThrow(ctx, id)
  if (job.status === 'running') throw new Error(`inference job #${id} is still running: cancel it first`)
  removeInferenceJob(ctx.ledger.db, id)
  return { ok: true }
}

export function registerInferenceService(ctx: AppContext): void {
  // A CLI command may run beside the app on the same data folder: only the app marks leftovers.
  const interrupted = ctx.mode === 'cli' ? 0 : failInterruptedInference(ctx.ledger.db)
  if (interrupted) ctx.log.write('warn', 'inference', `${interrupted} inference job(s) were interrupted by the last shutdown`)

  ctx.router.handle('inference:candidates', () => inferenceCandidates(ctx))
  ctx.router.handle('inference:start', (req) => startInference(ctx, req))
  ctx.router.handle('inference:list', () => listInferenceJobs(ctx.ledger.db))
  ctx.router.handle('inference:get', ({ id }) => inferenceOrThrow(ctx, id))
  ctx.router.handle('inference:image', ({ id, index, maxSide }) => inferenceImage(ctx, id, index, maxSide))
  ctx.router.handle('inference:remove', ({ id }) => deleteInference(ctx, id))
  ctx.router.handle('inference:heatmap', (req) => startHeatmap(ctx, req))
}

// Backbones service: the backbone comparison on frozen embeddings (issue #11's one-click answer to
// "does Earth pre-training transfer to Mars?"). The use case resolves a frozen dataset version's
// labelled tiles and the chosen backbones, records the study in the ledger, and runs one engine
// job (embed each backbone with ONNX Runtime, cached; probe them on the same observation-grouped
// folds); the view and `marsfm probe` / `marsfm embed` share it.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { previewPng } from '../datasets/image-io'
import type { AppContext } from '../app/types'
import { embeddingStoreRoot, onnxCacheDir } from '../app/paths'
import { BackboneStudyOutcome, BackboneStudyRequest, type BackboneStudyInput, type BackboneStudyRequest as StudyRequest } from '@shared/ipc/schemas/backbones'
import { exportNames, type ManifestTile } from '@shared/datasets/manifest'
import { resolvePositiveClass } from '@shared/training/positive-class'
import { getModel } from '../models/repository'
import { getVersion, versionManifest } from '../datasets/versions'
import { getDataset } from '../datasets/repository/datasets'
import { storedPath } from '../datasets/store'
import {
  createBackboneStudy,
  failInterruptedBackboneStudies,
  finishBackboneStudy,
  getBackboneStudy,
  listBackboneStudies,
  removeBackboneStudy
} from '../backbones/repository'


/** A tile's fold group: its HiRISE observation, else its source image (never split across folds). */
function observationOf(t: ManifestTile): string {
  return t.observationId ?? `image:${t.image.sha256.slice(0, 12)}`
}

/** Starts a backbone study; answers with the job and study ids at once. */
export async function startBackboneStudy(ctx: AppContext, raw: StudyRequest): Promise<{ jobId: string; studyId: number }> {
  const req = BackboneStudyRequest.parse(raw)
  const db = ctx.ledger.db
  const version = getVersion(db, req.versionId)
  const dataset = getDataset(db, version.datasetId)
  const manifest = versionManifest(db, req.versionId)
  const declared = manifest.dataset.classes
  const labelled = manifest.tiles.filter((t) => t.label !== null && declared.includes(t.label)).slice(0, req.maxTiles)
  // The probe's classes are those with labelled tiles (a dataset may declare classes it never used).
  const classes = declared.filter((c) => labelled.some((t) => t.label === c))
  if (!req.embedOnly && classes.length < 2) {
    throw new Error(`dataset version ${version.version} of "${dataset.name}" has labelled tiles of ${classes.length} class(es)${classes.length ? ` (${classes.join(', ')})` : ''}; a probe needs at least 2`)
  }
  if (!labelled.length) throw new Error(`dataset version ${version.version} of "${dataset.name}" has no labelled tiles; label tiles before comparing backbones`)
  const counts = classes.map((c) => labelled.filter((t) => t.label === c).length)
  const observations = new Set(labelled.map(observationOf))
  if (!req.embedOnly && observations.size < 2) throw new Error(`the labelled tiles come from ${observations.size} observation; cross-validation grouped by observation needs at least 2`)
  const positive = classes.length === 2 ? resolvePositiveClass(classes, counts, req.positiveClass).positiveClass : null
  if (classes.length !== 2 && req.positiveClass) throw new Error(`a positive class applies to two classes; the labelled tiles of "${dataset.name}" have ${classes.length} (${classes.join(', ')})`)

  const names = exportNames(labelled)
  const tiles = labelled.map((t) => {
    const path = storedPath(ctx.dataDir, `${t.image.sha256}.${t.image.ext}`)
    if (!existsSync(path)) throw new Error(`the pixels of ${t.image.fileName} are missing from the data folder (${path})`)
    return {
      key: `${t.image.sha256}:${t.x},${t.y},${t.width},${t.height}`,
      tileId: t.tileId,
      name: names.get(t.tileId)!,
      path,
      region: { x: t.x, y: t.y, width: t.width, height: t.height },
      label: classes.indexOf(t.label!),
      observation: observationOf(t)
    }
  })

  const used = new Set<string>()
  const backbones = req.backbones.map((b) => {
    const model = getModel(db, b.kind === 'model' ? b.modelId : b.likeModelId)
    if (!model) throw new Error(`no model #${b.kind === 'model' ? b.modelId : b.likeModelId}`)
    if (b.kind === 'model' && !existsSync(model.path)) throw new Error(`the checkpoint of model #${model.id} ${model.name} is gone: ${model.path}`)
    const seed = b.kind === 'random' ? (b.seed ?? 0) : undefined
    let name = b.name ?? (b.kind === 'model' ? model.name : `random init (${model.name} architecture${seed ? `, seed ${seed}` : ''})`)
    for (let n = 2; used.has(name); n++) name = `${b.name ?? model.name} (${n})`
    used.add(name)
    return { name, kind: b.kind, modelId: model.id, modelName: model.name, sha256: model.sha256, ...(seed !== undefined ? { seed } : {}), model }
  })

  const studyName = req.name ?? `${dataset.name} v${version.version}: ${backbones.map((b) => b.name).join(' vs ')}`
  const input: BackboneStudyInput = {
    name: studyName,
    request: req,
    version: { id: version.id, datasetName: dataset.name, version: version.version, contentHash: version.contentHash },
    classes,
    positiveClass: positive,
    backbones: backbones.map(({ model: _m, ...b }) => b),
    tiles: tiles.map(({ label: _l, observation: _o, ...t }) => t)
  }
  const id = createBackboneStudy(db, input)
  const params = {
    backbones: backbones.map((b) => ({
      name: b.name,
      backbone: b.kind === 'model' ? { kind: 'checkpoint' as const, path: b.model.path, config: b.model.config } : { kind: 'random' as const, config: b.model.config, seed: b.seed ?? 0 },
      ...(b.model.stats ? { stats: b.model.stats } : {}),
      preprocessing: req.preprocessing
    })),
    tiles: tiles.map((t) => ({ key: t.key, path: t.path, region: t.region, label: t.label, observation: t.observation })),
    classes,
    // Only a two-class probe has a positive class; otherwise the index only breaks argmax ties.
    positiveIndex: positive === null ? 0 : classes.indexOf(positive),
    storeRoot: embeddingStoreRoot(ctx.dataDir),
    cacheDir: onnxCacheDir(ctx.dataDir),
    device: req.device,
    probe: req.embedOnly ? null : { folds: req.folds, seeds: req.seeds, methods: req.methods, poolings: req.poolings, bootstrap: req.bootstrap }
  }
  try {
    const jobId = await ctx.jobs.startEngineJob('backbone-study', `Backbones #${id}: ${studyName}`, params, {
      onFinish: (job) => {
        try {
          if (job.state === 'done') {
            finishBackboneStudy(db, id, 'done', { outcome: BackboneStudyOutcome.parse(job.result) })
            ctx.log.write('info', 'backbones', `backbone study #${id} done`)
          } else finishBackboneStudy(db, id, job.state === 'cancelled' ? 'cancelled' : 'failed', { reason: job.error?.message ?? job.state })
        } catch (err) {
          finishBackboneStudy(db, id, 'failed', { reason: `could not record the results: ${(err as Error).message}` })
        }
      }
    })
    return { jobId, studyId: id }
  } catch (err) {
    finishBackboneStudy(db, id, 'failed', { reason: (err as Error).message })
    throw err
  }
}

function studyOrThrow(ctx: AppContext, id: number) {
  const study = getBackboneStudy(ctx.ledger.db, id)
  if (!study) throw new Error(`no backbone study #${id}`)
  return study
}

/** "More tiles like this": the k tiles of the study nearest to tile `index` in one backbone's embedding. */
export async function neighbourTiles(ctx: AppContext, req: { id: number; backbone: string; index: number; k: number; pooling: 'cls' | 'mean' }) {
  const study = studyOrThrow(ctx, req.id)
  const outcome = study.outcome
  if (!outcome) throw new Error(`backbone study #${req.id} has no results (${study.status})`)
  const b = outcome.backbones.find((x) => x.name === req.backbone)
  if (!b) throw new Error(`backbone study #${req.id} has no backbone "${req.backbone}" (it has ${outcome.backbones.map((x) => x.name).join(', ')})`)
  const tile = outcome.tiles[req.index]
  if (!tile) throw new Error(`backbone study #${req.id} has no tile ${req.index}`)
  const keys = outcome.tiles.map((t) => t.key)
  const found = (await ctx.engine.call('embeddings-neighbours', { storeRoot: embeddingStoreRoot(ctx.dataDir), storeKey: b.embed.storeKey, keys, query: tile.key, k: req.k, pooling: req.pooling }, 60_000)) as {
    key: string
    similarity: number
  }[]
  const indexOf = new Map(keys.map((k, i) => [k, i]))
  return found.map((n) => {
    const i = indexOf.get(n.key)!
    return { index: i, similarity: n.similarity, label: outcome.tiles[i]!.label, observation: outcome.tiles[i]!.observation }
  })
}

/** A scored tile's picture (only tiles the recorded study names: no path from the page is opened). */
export async function backboneTileImage(ctx: AppContext, req: { id: number; index: number; maxSide: number }) {
  const study = studyOrThrow(ctx, req.id)
  const key = study.outcome?.tiles[req.index]?.key
  const tile = key ? study.input.tiles.find((t) => t.key === key) : undefined
  if (!tile) throw new Error(`backbone study #${req.id} has no tile ${req.index}`)
  if (!existsSync(tile.path)) throw new Error(`the image is gone: ${tile.path}`)
  return { index: req.index, name: tile.name, dataUrl: await previewPng(tile.path, tile.region, req.maxSide) }
}

export function removeStudy(ctx: AppContext, id: number) {
  const study = studyOrThrow(ctx, id)
  if (study.status === 'running') throw new Error(`backbone study #${id} is still running: cancel it first`)
  removeBackboneStudy(ctx.ledger.db, id)
  return { ok: true as const }
}

export function registerBackbonesService(ctx: AppContext): void {
  // A CLI command may run beside the app on the same data folder: only the app marks leftovers.
  const interrupted = ctx.mode === 'cli' ? 0 : failInterruptedBackboneStudies(ctx.ledger.db)
  if (interrupted) ctx.log.write('warn', 'backbones', `${interrupted} backbone study(ies) were interrupted by the last shutdown`)
  ctx.router.handle('backbones:start', (req) => startBackboneStudy(ctx, req))
  ctx.router.handle('backbones:list', () => listBackboneStudies(ctx.ledger.db))
  ctx.router.handle('backbones:get', ({ id }) => studyOrThrow(ctx, id))
  ctx.router.handle('backbones:neighbours', (req) => neighbourTiles(ctx, req))
  ctx.router.handle('backbones:tile-image', (req) => backboneTileImage(ctx, req))
  ctx.router.handle('backbones:remove', ({ id }) => removeStudy(ctx, id))
}

// Datasets service: curation of HiRISE crops end to end — import, tiling, labels, crater
// shapes, splits, frozen versions, exports and quality checks. Short calls answer at once;
// imports, tiling, exports and duplicate scans are local jobs with progress and cancel.
import { getSetting, setSetting } from '../settings/settings'
import { statSync } from 'node:fs'
import { describeIoError, ioErrorCode } from '@shared/io-errors'
import type { AppContext } from '../app/types'
import type { ImportRequest } from '@shared/ipc/schemas/datasets'
import type { Channel, ParsedRequestOf } from '@shared/ipc/contract'
import { agreementReport, annotatorsAgree } from '@shared/datasets/agreement'
import { normaliseClassName } from '@shared/datasets/classes'
import { intersectImage } from '@shared/datasets/tiling'
import { emptySummary, forEachConcurrent, importImageFile, record, type DatasetDeps } from '../datasets/importer'
import { capFailures, importClasses, importFormat } from '../datasets/formats-import'
import { gridTile, cutTileAt } from '../datasets/tiler'
import { splitDataset, leaksOf, splitReport } from '../datasets/splitter'
import { freeze, getVersion, listVersions } from '../datasets/versions'
import { exportVersion } from '../datasets/exporter'
import { qualityReport } from '../datasets/quality'
import { dataUrl, readRegion } from '../datasets/image-io'
import { collectImageFiles, pixelSource } from '../datasets/store'
import { annotationsOf, replaceAnnotations } from '../datasets/repository/annotations'
import { createDataset, deleteDataset, getDataset, listDatasets, summarise, updateDataset } from '../datasets/repository/datasets'
import { getImage, listImages } from '../datasets/repository/images'
import { setLabels } from '../datasets/repository/labels'
import { tileViews } from '../datasets/repository/tile-views'
import { datasetsOfTiles, deleteTiles, getTile, setSplits, tileRows, tileThumbnails } from '../datasets/repository/tiles'

const ANNOTATOR_KEY = 'datasets.annotator'

export function annotatorName(ctx: AppContext): string {
  return getSetting(ctx.ledger.db, ANNOTATOR_KEY, process.env.USER || process.env.USERNAME || 'annotator')
}

function deps(ctx: AppContext): DatasetDeps {
  return { db: ctx.ledger.db, dataDir: ctx.dataDir }
}

function requireExisting(paths: readonly string[]): void {
  const problems: string[] = []
  for (const p of paths) {
    try {
      statSync(p)
    } catch (err) {
      // A symbolic link loop or a permission problem is named as such, not as "not found".
      problems.push(ioErrorCode(err) === 'ENOENT' ? `not found: ${p}` : describeIoError(err, 'reading', p))
    }
  }
  if (problems.length) throw new Error(`${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`)
}

/** Imports files and folders: the work behind `datasets:import` and `marsfm dataset import`. */
export async function importPaths(d: DatasetDeps, req: ImportRequest, opts: { signal?: AbortSignal; progress?: (done: number, total: number, message?: string) => void } = {}) {
  getDataset(d.db, req.datasetId)
  const summary = emptySummary()
  const { images, skipped } = await collectImageFiles(req.paths, req.recursive, { reportOthers: true })
  for (const s of skipped) {
    summary.scanned++
    summary.failed.push(s)
  }
  await forEachConcurrent(
    images,
    async (path) => record(summary, path, await importImageFile(d, req.datasetId, path, { wholeTiles: req.wholeTiles, wholeTileMax: req.wholeTileMax })),
    { signal: opts.signal, progress: (done, total) => opts.progress?.(done, total, `${done} / ${total} files`) }
  )
  if (!summary.scanned) summary.notes.push(`no images found in ${req.paths.join(', ')}`)
  else if (summary.failed.length && (summary.imported || summary.duplicates.length)) summary.notes.push(`${summary.failed.length} of ${summary.scanned} files failed`)
  capFailures(summary)
  return summary
}

type Req<C extends Channel> = ParsedRequestOf<C>

// The use cases behind the datasets channels (the CLI's `marsfm dataset` calls the same functions
// or the repositories and curation modules they wrap).

export function newDataset(ctx: AppContext, req: Req<'datasets:create'>) {
  const id = createDataset(ctx.ledger.db, { ...req, classes: req.classes.map(normaliseClassName) })
  return summarise(ctx.ledger.db, getDataset(ctx.ledger.db, id))
}

export function editDataset(ctx: AppContext, { datasetId, ...patch }: Req<'datasets:update'>) {
  updateDataset(ctx.ledger.db, datasetId, patch)
  return summarise(ctx.ledger.db, getDataset(ctx.ledger.db, datasetId))
}

export function removeDataset(ctx: AppContext, datasetId: number): { ok: true } {
  deleteDataset(ctx.ledger.db, datasetId)
  return { ok: true }
}

/** The desktop app's file dialog; web mode has none (the page asks for a typed path). */
export async function pickPaths(ctx: AppContext, kind: Req<'datasets:pick-paths'>['kind']) {
  const picker = ctx.pathPicker
  return picker ? { supported: true, paths: await picker.pick(kind) } : { supported: false, paths: [] }
}

/** Starts an import of files and folders as a local job. */
export function startImport(ctx: AppContext, req: ImportRequest): { jobId: string } {
  getDataset(ctx.ledger.db, req.datasetId)
  requireExisting(req.paths)
  const title = `Import ${req.paths.length === 1 ? req.paths[0] : `${req.paths.length} paths`}`
  return { jobId: ctx.jobs.startLocalJob('datasets:import', title, (j) => importPaths(deps(ctx), req, { signal: j.signal, progress: j.progress })) }
}

/** Starts an import of an annotation format (COCO, ImageFolder, YOLO, VOC, landmark lists) as a local job. */
export function startFormatImport(ctx: AppContext, req: Req<'datasets:import-format'>): { jobId: string } {
  getDataset(ctx.ledger.db, req.datasetId)
  requireExisting([req.path, ...(req.imagesDir ? [req.imagesDir] : [])])
  return { jobId: ctx.jobs.startLocalJob('datasets:import', `Import ${req.format}: ${req.path}`, (j) => importFormat(deps(ctx), req, { signal: j.signal, progress: j.progress })) }
}

export function imagePage(ctx: AppContext, { datasetId, offset, limit, withThumbnails }: Req<'images:list'>) {
  const { total, rows } = listImages(ctx.ledger.db, datasetId, offset, limit, withThumbnails)
  return {
    total,
    images: rows.map(({ thumbnail, storedName: _s, ...im }) => ({ ...im, thumbnail: thumbnail ? dataUrl(thumbnail, 'image/jpeg') : null }))
  }
}

/** A JPEG of one rectangle of a stored image, scaled to at most maxSide. */
export async function imageRegion(ctx: AppContext, req: Req<'images:region'>) {
  const im = getImage(ctx.ledger.db, req.imageId)
  const rect = intersectImage({ x: req.x, y: req.y, width: req.width, height: req.height }, im.width, im.height)
  if (!rect) throw new Error(`the region lies outside the ${im.width}×${im.height} image`)
  const out = await readRegion(pixelSource(ctx.dataDir, im), { ...im, hasAlpha: false }, rect, req.maxSide, 'jpeg')
  return { dataUrl: dataUrl(out.bytes, 'image/jpeg'), ...rect, outWidth: out.outWidth, outHeight: out.outHeight }
}

export function tilePage(ctx: AppContext, req: Req<'tiles:list'>) {
  let tiles = tileViews(ctx.ledger.db, req.datasetId)
  if (req.imageId !== undefined) tiles = tiles.filter((t) => t.imageId === req.imageId)
  if (req.label === 'unlabelled') tiles = tiles.filter((t) => !t.labels.length)
  else if (req.label) tiles = tiles.filter((t) => t.label === req.label)
  if (req.split) tiles = tiles.filter((t) => (t.split ?? 'none') === req.split)
  if (req.disagree) tiles = tiles.filter((t) => t.labels.length > 1 && !t.agree)
  if (req.conflict) tiles = tiles.filter((t) => t.labelStatus === 'conflict')
  return { total: tiles.length, tiles: tiles.slice(req.offset, req.offset + req.limit) }
}

export function thumbnailsOf(ctx: AppContext, tileIds: number[]) {
  return tileThumbnails(ctx.ledger.db, tileIds).flatMap((t) => (t.thumbnail ? [{ tileId: t.tileId, dataUrl: dataUrl(t.thumbnail, 'image/jpeg') }] : []))
}

/** A tile's pixels as PNG: the annotation view shows the exact pixels the masks will be drawn on. */
export async function tileImage(ctx: AppContext, tileId: number, maxSide: number) {
  const t = getTile(ctx.ledger.db, tileId)
  const im = getImage(ctx.ledger.db, t.imageId)
  const out = await readRegion(pixelSource(ctx.dataDir, im), { ...im, hasAlpha: false }, t, maxSide, 'png')
  return { dataUrl: dataUrl(out.bytes, 'image/png'), width: t.width, height: t.height, outWidth: out.outWidth, outHeight: out.outHeight }
}

export function startGridTiling(ctx: AppContext, req: Req<'tiles:grid'>): { jobId: string } {
  getDataset(ctx.ledger.db, req.datasetId)
  return {
    jobId: ctx.jobs.startLocalJob('datasets:tile', `Tile at ${req.size} px (stride ${req.stride ?? req.size}, ${req.edge} edges)`, (j) =>
      gridTile(deps(ctx), req, { signal: j.signal, progress: j.progress })
    )
  }
}

/** Sets tiles' splits by hand and answers the observation leaks that creates. */
export function setTileSplits(ctx: AppContext, { tileIds, split }: Req<'tiles:set-split'>) {
  const db = ctx.ledger.db
  const updated = setSplits(db, new Map(tileIds.map((id) => [id, split])), true)
  return { updated, leaks: datasetsOfTiles(db, tileIds).flatMap((d) => leaksOf(db, d)) }
}

/** Labels tiles (null clears); a class the tile's dataset does not have is refused. */
export function labelTiles(ctx: AppContext, { tileIds, className, annotator }: Req<'labels:set'>) {
  const db = ctx.ledger.db
  if (className !== null) {
    for (const d of datasetsOfTiles(db, tileIds)) {
      const ds = getDataset(db, d)
      if (!ds.classes.includes(className)) throw new Error(`"${className}" is not a class of dataset "${ds.name}" (${ds.classes.join(', ')})`)
    }
  }
  return { updated: setLabels(db, tileIds, className, annotator ?? annotatorName(ctx)) }
}

/**
 * Decides conflicting tiles: the adjudicator's label overrides every annotator's (the others stay,
 * so who said what is kept). A class the dataset does not have is refused.
 */
export function adjudicateTiles(ctx: AppContext, { tileIds, className, annotator }: Req<'labels:adjudicate'>) {
  const db = ctx.ledger.db
  for (const d of datasetsOfTiles(db, tileIds)) {
    const ds = getDataset(db, d)
    if (!ds.classes.includes(className)) throw new Error(`"${className}" is not a class of dataset "${ds.name}" (${ds.classes.join(', ')})`)
  }
  return { updated: setLabels(db, tileIds, className, annotator ?? annotatorName(ctx), 'adjudication') }
}

/** The classes an annotation source holds, before importing it (the Import panel's mapping step). */
export async function sourceClasses(req: Req<'datasets:import-classes'>) {
  requireExisting([req.path, ...(req.imagesDir ? [req.imagesDir] : [])])
  return importClasses(req)
}

/** Removes the tiles whose annotators disagree. */
export function keepAgreedTiles(ctx: AppContext, datasetId: number) {
  const disagreeing = tileViews(ctx.ledger.db, datasetId).filter((t) => t.labels.length > 1 && !annotatorsAgree(t.labels)).map((t) => t.id)
  return { removed: disagreeing.length ? deleteTiles(ctx.ledger.db, disagreeing) : 0 }
}

export function saveAnnotations(ctx: AppContext, { tileId, annotator, shapes }: Req<'annotations:save'>) {
  replaceAnnotations(ctx.ledger.db, tileId, annotator ?? annotatorName(ctx), shapes)
  return annotationsOf(ctx.ledger.db, tileId)
}

/** Splits a dataset by observation; its warnings (e.g. a skewed class) also go to the log. */
export function splitByObservation(ctx: AppContext, { datasetId, seed, ratios, excludeFlaggedColour, labelledOnly }: Req<'datasets:split'>) {
  const report = splitDataset(ctx.ledger.db, datasetId, { seed, ratios, excludeFlaggedColour, labelledOnly })
  for (const w of report.warnings) ctx.log.write('warn', 'datasets', `dataset #${datasetId}: ${w}`)
  return report
}

export function startExport(ctx: AppContext, req: Req<'datasets:export'>): { jobId: string } {
  const v = getVersion(ctx.ledger.db, req.versionId)
  return {
    jobId: ctx.jobs.startLocalJob('datasets:export', `Export v${v.version} as ${req.format} to ${req.outDir}`, (j) => exportVersion(deps(ctx), req, { signal: j.signal, progress: j.progress }))
  }
}

export function startQualityCheck(ctx: AppContext, { datasetId, maxDistance }: Req<'datasets:quality'>): { jobId: string } {
  getDataset(ctx.ledger.db, datasetId)
  return {
    jobId: ctx.jobs.startLocalJob('datasets:quality', 'Quality check: near-duplicates and colour', (j) =>
      qualityReport(deps(ctx), datasetId, maxDistance, { signal: j.signal, progress: j.progress })
    )
  }
}

export function datasetStats(ctx: AppContext, datasetId: number) {
  const db = ctx.ledger.db
  const d = getDataset(db, datasetId)
  const report = splitReport(db, datasetId)
  const colour: Record<string, number> = {}
  for (const t of tileRows(db, datasetId)) colour[t.colour ?? 'unknown'] = (colour[t.colour ?? 'unknown'] ?? 0) + 1
  return { classes: d.classes, bySplit: report.byClass, colour }
}

export function setAnnotator(ctx: AppContext, annotator: string) {
  setSetting(ctx.ledger.db, ANNOTATOR_KEY, annotator)
  return { annotator }
}

export function registerDatasetsService(ctx: AppContext): void {
  const db = ctx.ledger.db
  const r = ctx.router
  r.handle('datasets:list', () => listDatasets(db))
  r.handle('datasets:create', (req) => newDataset(ctx, req))
  r.handle('datasets:update', (req) => editDataset(ctx, req))
  r.handle('datasets:delete', ({ datasetId }) => removeDataset(ctx, datasetId))
  r.handle('datasets:pick-paths', ({ kind }) => pickPaths(ctx, kind))
  r.handle('datasets:import', (req) => startImport(ctx, req))
  r.handle('datasets:import-format', (req) => startFormatImport(ctx, req))
  r.handle('images:list', (req) => imagePage(ctx, req))
  r.handle('images:region', (req) => imageRegion(ctx, req))
  r.handle('tiles:list', (req) => tilePage(ctx, req))
  r.handle('tiles:thumbnails', ({ tileIds }) => thumbnailsOf(ctx, tileIds))
  r.handle('tiles:image', ({ tileId, maxSide }) => tileImage(ctx, tileId, maxSide))
  r.handle('tiles:grid', (req) => startGridTiling(ctx, req))
  r.handle('tiles:cut', ({ imageId, cx, cy, size }) => cutTileAt(deps(ctx), imageId, cx, cy, size))
  r.handle('tiles:delete', ({ tileIds }) => ({ deleted: deleteTiles(db, tileIds) }))
  r.handle('tiles:set-split', (req) => setTileSplits(ctx, req))
  r.handle('labels:set', (req) => labelTiles(ctx, req))
  r.handle('labels:agreement', ({ datasetId }) => agreementReport(tileViews(db, datasetId).map((t) => t.labels)))
  r.handle('labels:keep-agreed', ({ datasetId }) => keepAgreedTiles(ctx, datasetId))
  r.handle('labels:adjudicate', (req) => adjudicateTiles(ctx, req))
  r.handle('datasets:import-classes', (req) => sourceClasses(req))
  r.handle('annotations:list', ({ tileId }) => annotationsOf(db, tileId))
  r.handle('annotations:save', (req) => saveAnnotations(ctx, req))
  r.handle('datasets:split', (req) => splitByObservation(ctx, req))
  r.handle('datasets:leaks', ({ datasetId }) => leaksOf(db, datasetId))
  r.handle('datasets:freeze', ({ datasetId, note }) => freeze(db, datasetId, note).version)
  r.handle('datasets:versions', ({ datasetId }) => listVersions(db, datasetId))
  r.handle('datasets:export', (req) => startExport(ctx, req))
  r.handle('datasets:quality', (req) => startQualityCheck(ctx, req))
  r.handle('datasets:stats', ({ datasetId }) => datasetStats(ctx, datasetId))
  r.handle('datasets:settings-get', () => ({ annotator: annotatorName(ctx) }))
  r.handle('datasets:settings-set', ({ annotator }) => setAnnotator(ctx, annotator))
}

// Datasets service: curation of HiRISE crops end to end — import, tiling, labels, crater
// shapes, splits, frozen versions, exports and quality checks. Short calls answer at once;
// imports, tiling, exports and duplicate scans are local jobs with progress and cancel.
import { getSetting, setSetting } from '../settings/settings'
import { statSync } from 'node:fs'
import { describeIoError, ioErrorCode } from '@shared/io-errors'
import type { AppContext } from '../app/types'
import type { ImportRequest } from '@shared/ipc/schemas/datasets'
import { agreementReport, annotatorsAgree } from '@shared/datasets/agreement'
import { normaliseClassName } from '@shared/datasets/classes'
import { intersectImage } from '@shared/datasets/tiling'
import { emptySummary, forEachConcurrent, importImageFile, record, type DatasetDeps } from '../datasets/importer'
import { capFailures, importFormat } from '../datasets/formats-import'
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

export function registerDatasetsService(ctx: AppContext): void {
  const db = ctx.ledger.db
  const r = ctx.router

  r.handle('datasets:list', () => listDatasets(db))
  r.handle('datasets:create', (req) => {
    const id = createDataset(db, { ...req, classes: req.classes.map(normaliseClassName) })
    return summarise(db, getDataset(db, id))
  })
  r.handle('datasets:update', ({ datasetId, ...patch }) => {
    updateDataset(db, datasetId, patch)
    return summarise(db, getDataset(db, datasetId))
  })
  r.handle('datasets:delete', ({ datasetId }) => {
    deleteDataset(db, datasetId)
    return { ok: true as const }
  })
  r.handle('datasets:pick-paths', async ({ kind }) => {
    const picker = ctx.pathPicker
    return picker ? { supported: true, paths: await picker.pick(kind) } : { supported: false, paths: [] }
  })

  r.handle('datasets:import', (req) => {
    getDataset(db, req.datasetId)
    requireExisting(req.paths)
    const title = `Import ${req.paths.length === 1 ? req.paths[0] : `${req.paths.length} paths`}`
    const jobId = ctx.jobs.startLocalJob('datasets:import', title, (j) => importPaths(deps(ctx), req, { signal: j.signal, progress: j.progress }))
    return { jobId }
  })
  r.handle('datasets:import-format', (req) => {
    getDataset(db, req.datasetId)
    requireExisting([req.path, ...(req.imagesDir ? [req.imagesDir] : [])])
    const jobId = ctx.jobs.startLocalJob('datasets:import', `Import ${req.format}: ${req.path}`, (j) => importFormat(deps(ctx), req, { signal: j.signal, progress: j.progress }))
    return { jobId }
  })

  r.handle('images:list', ({ datasetId, offset, limit, withThumbnails }) => {
    const { total, rows } = listImages(db, datasetId, offset, limit, withThumbnails)
    return {
      total,
      images: rows.map(({ thumbnail, storedName: _s, ...im }) => ({ ...im, thumbnail: thumbnail ? dataUrl(thumbnail, 'image/jpeg') : null }))
    }
  })
  r.handle('images:region', async (req) => {
    const im = getImage(db, req.imageId)
    const rect = intersectImage({ x: req.x, y: req.y, width: req.width, height: req.height }, im.width, im.height)
    if (!rect) throw new Error(`the region lies outside the ${im.width}×${im.height} image`)
    const out = await readRegion(pixelSource(ctx.dataDir, im), { ...im, hasAlpha: false }, rect, req.maxSide, 'jpeg')
    return { dataUrl: dataUrl(out.bytes, 'image/jpeg'), ...rect, outWidth: out.outWidth, outHeight: out.outHeight }
  })

  r.handle('tiles:list', (req) => {
    let tiles = tileViews(db, req.datasetId)
    if (req.imageId !== undefined) tiles = tiles.filter((t) => t.imageId === req.imageId)
    if (req.label === 'unlabelled') tiles = tiles.filter((t) => !t.labels.length)
    else if (req.label) tiles = tiles.filter((t) => t.label === req.label)
    if (req.split) tiles = tiles.filter((t) => (t.split ?? 'none') === req.split)
    if (req.disagree) tiles = tiles.filter((t) => t.labels.length > 1 && !t.agree)
    return { total: tiles.length, tiles: tiles.slice(req.offset, req.offset + req.limit) }
  })
  r.handle('tiles:thumbnails', ({ tileIds }) =>
    tileThumbnails(db, tileIds).flatMap((t) => (t.thumbnail ? [{ tileId: t.tileId, dataUrl: dataUrl(t.thumbnail, 'image/jpeg') }] : []))
  )
  r.handle('tiles:image', async ({ tileId, maxSide }) => {
    const t = getTile(db, tileId)
    const im = getImage(db, t.imageId)
    // PNG: the annotation view shows the exact pixels the masks will be drawn on.
    const out = await readRegion(pixelSource(ctx.dataDir, im), { ...im, hasAlpha: false }, t, maxSide, 'png')
    return { dataUrl: dataUrl(out.bytes, 'image/png'), width: t.width, height: t.height, outWidth: out.outWidth, outHeight: out.outHeight }
  })
  r.handle('tiles:grid', (req) => {
    getDataset(db, req.datasetId)
    const jobId = ctx.jobs.startLocalJob('datasets:tile', `Tile at ${req.size} px (stride ${req.stride ?? req.size}, ${req.edge} edges)`, (j) =>
      gridTile(deps(ctx), req, { signal: j.signal, progress: j.progress })
    )
    return { jobId }
  })
  r.handle('tiles:cut', ({ imageId, cx, cy, size }) => cutTileAt(deps(ctx), imageId, cx, cy, size))
  r.handle('tiles:delete', ({ tileIds }) => ({ deleted: deleteTiles(db, tileIds) }))
  r.handle('tiles:set-split', ({ tileIds, split }) => {
    const updated = setSplits(db, new Map(tileIds.map((id) => [id, split])), true)
    const datasetIds = datasetsOfTiles(db, tileIds)
    return { updated, leaks: datasetIds.flatMap((d) => leaksOf(db, d)) }
  })

  r.handle('labels:set', ({ tileIds, className, annotator }) => {
    if (className !== null) {
      for (const d of datasetsOfTiles(db, tileIds)) {
        const ds = getDataset(db, d)
        if (!ds.classes.includes(className)) throw new Error(`"${className}" is not a class of dataset "${ds.name}" (${ds.classes.join(', ')})`)
      }
    }
    return { updated: setLabels(db, tileIds, className, annotator ?? annotatorName(ctx)) }
  })
  r.handle('labels:agreement', ({ datasetId }) => agreementReport(tileViews(db, datasetId).map((t) => t.labels)))
  r.handle('labels:keep-agreed', ({ datasetId }) => {
    const disagreeing = tileViews(db, datasetId).filter((t) => t.labels.length > 1 && !annotatorsAgree(t.labels)).map((t) => t.id)
    return { removed: disagreeing.length ? deleteTiles(db, disagreeing) : 0 }
  })

  r.handle('annotations:list', ({ tileId }) => annotationsOf(db, tileId))
  r.handle('annotations:save', ({ tileId, annotator, shapes }) => {
    replaceAnnotations(db, tileId, annotator ?? annotatorName(ctx), shapes)
    return annotationsOf(db, tileId)
  })

  r.handle('datasets:split', ({ datasetId, seed, ratios, excludeFlaggedColour, labelledOnly }) => {
    const report = splitDataset(db, datasetId, { seed, ratios, excludeFlaggedColour, labelledOnly })
    for (const w of report.warnings) ctx.log.write('warn', 'datasets', `dataset #${datasetId}: ${w}`)
    return report
  })
  r.handle('datasets:leaks', ({ datasetId }) => leaksOf(db, datasetId))
  r.handle('datasets:freeze', ({ datasetId, note }) => freeze(db, datasetId, note).version)
  r.handle('datasets:versions', ({ datasetId }) => listVersions(db, datasetId))
  r.handle('datasets:export', (req) => {
    const v = getVersion(db, req.versionId)
    const jobId = ctx.jobs.startLocalJob('datasets:export', `Export v${v.version} as ${req.format} to ${req.outDir}`, (j) =>
      exportVersion(deps(ctx), req, { signal: j.signal, progress: j.progress })
    )
    return { jobId }
  })
  r.handle('datasets:quality', ({ datasetId, maxDistance }) => {
    getDataset(db, datasetId)
    const jobId = ctx.jobs.startLocalJob('datasets:quality', 'Quality check: near-duplicates and colour', (j) =>
      qualityReport(deps(ctx), datasetId, maxDistance, { signal: j.signal, progress: j.progress })
    )
    return { jobId }
  })
  r.handle('datasets:stats', ({ datasetId }) => {
    const d = getDataset(db, datasetId)
    const report = splitReport(db, datasetId)
    const colour: Record<string, number> = {}
    for (const t of tileRows(db, datasetId)) colour[t.colour ?? 'unknown'] = (colour[t.colour ?? 'unknown'] ?? 0) + 1
    return { classes: d.classes, bySplit: report.byClass, colour }
  })
  r.handle('datasets:settings-get', () => ({ annotator: annotatorName(ctx) }))
  r.handle('datasets:settings-set', ({ annotator }) => {
    setSetting(db, ANNOTATOR_KEY, annotator)
    return { annotator }
  })
}

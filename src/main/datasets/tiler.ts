// Cutting tiles out of imported images: a regular grid (decoded one band of rows at a time,
// so a 20,000 px image never sits in memory whole) or one tile centred where the user clicked.
// Crater shapes drawn on the whole image are carried into each tile, clipped to it.
import type { GridTileRequest, TileView } from '@shared/ipc/schemas/datasets'
import { clipGeometry, translateGeometry } from '@shared/datasets/geometry'
import { gridRects, rectAround, type Rect } from '@shared/datasets/tiling'
import { CancelledError } from '@shared/ipc/errors'
import { cropRgb, cutFromBand, readBand, tilePreview, type ImageFacts } from './image-io'
import type { DatasetDeps } from './importer'
import { addAnnotation, annotationsOf } from './repository/annotations'
import { getImage, imageIdsOf, type ImageRow } from './repository/images'
import { tileView } from './repository/tile-views'
import { findTileByRect, insertTile } from './repository/tiles'
import { pixelSource } from './store'

export interface TilingResult {
  images: number
  tilesCreated: number
  tilesExisting: number
  annotationsCarried: number
  failed: { imageId: number; fileName: string; reason: string }[]
}

function factsOf(im: ImageRow): ImageFacts {
  return { format: im.format, width: im.width, height: im.height, channels: im.channels, bitDepth: im.bitDepth, hasAlpha: false }
}

export async function gridTile(
  deps: DatasetDeps,
  req: GridTileRequest,
  opts: { signal?: AbortSignal; progress?: (done: number, total: number, message?: string) => void } = {}
): Promise<TilingResult> {
  const imageIds = req.imageIds ?? imageIdsOf(deps.db, req.datasetId)
  const images = imageIds.map((id) => getImage(deps.db, id))
  for (const im of images) if (im.datasetId !== req.datasetId) throw new Error(`image ${im.id} is not in dataset ${req.datasetId}`)
  const plans = images.map((im) => ({ im, rects: gridRects(im.width, im.height, { size: req.size, stride: req.stride, edge: req.edge }) }))
  const total = plans.reduce((n, p) => n + p.rects.length, 0)
  const result: TilingResult = { images: images.length, tilesCreated: 0, tilesExisting: 0, annotationsCarried: 0, failed: [] }
  let done = 0
  for (const { im, rects } of plans) {
    try {
      const source = pixelSource(deps.dataDir, im)
      const carried = req.carryAnnotations ? wholeImageShapes(deps, im.id) : []
      const facts = factsOf(im)
      // One band of rows per distinct tile row.
      const rows = new Map<number, Rect[]>()
      for (const r of rects) rows.set(r.y, [...(rows.get(r.y) ?? []), r])
      for (const [y, row] of rows) {
        if (opts.signal?.aborted) throw new CancelledError()
        const fresh = row.filter((r) => findTileByRect(deps.db, im.id, r.x, r.y, r.width, r.height) === undefined)
        result.tilesExisting += row.length - fresh.length
        if (fresh.length) {
          const band = await readBand(source, facts, y, req.size)
          const previews = await Promise.all(fresh.map((r) => tilePreview(cutFromBand(band, im.width, y, req.size, r), r.width, r.height, im.channels)))
          deps.db.transaction(() => {
            fresh.forEach((r, k) => {
              const p = previews[k]!
              const id = insertTile(deps.db, { datasetId: im.datasetId, imageId: im.id, ...r, observationId: im.observationId, origin: 'grid', thumbnail: p.thumbnail, phash: p.stats.phash, colour: p.stats.colour })
              if (id !== null) {
                result.tilesCreated++
                result.annotationsCarried += carry(deps, id, r, carried)
              }
            })
          })()
        }
        done += row.length
        opts.progress?.(done, total, `${im.fileName}: ${done} / ${total} tiles`)
      }
    } catch (err) {
      if (err instanceof CancelledError) throw err
      result.failed.push({ imageId: im.id, fileName: im.fileName, reason: (err as Error).message })
    }
  }
  return result
}

/** A tile of `size` centred at (cx, cy) in image pixels; the existing one if already cut. */
export async function cutTileAt(deps: DatasetDeps, imageId: number, cx: number, cy: number, size: number): Promise<TileView> {
  const im = getImage(deps.db, imageId)
  const rect = rectAround(cx, cy, size, im.width, im.height)
  const existing = findTileByRect(deps.db, im.id, rect.x, rect.y, rect.width, rect.height)
  if (existing !== undefined) return tileView(deps.db, existing)
  const rgb = await cropRgb(pixelSource(deps.dataDir, im), factsOf(im), rect)
  const p = await tilePreview(rgb, rect.width, rect.height, im.channels)
  const carried = wholeImageShapes(deps, im.id)
  const id = deps.db.transaction(() => {
    const tileId = insertTile(deps.db, { datasetId: im.datasetId, imageId: im.id, ...rect, observationId: im.observationId, origin: 'point', thumbnail: p.thumbnail, phash: p.stats.phash, colour: p.stats.colour })!
    carry(deps, tileId, rect, carried)
    return tileId
  })()
  return tileView(deps.db, id)
}

type Shape = ReturnType<typeof annotationsOf>[number]

/** Shapes drawn on the image's whole-image tile (imported boxes, polygons), in image pixels. */
function wholeImageShapes(deps: DatasetDeps, imageId: number): Shape[] {
  const whole = deps.db.prepare("SELECT id FROM tiles WHERE image_id = ? AND origin = 'whole'").get(imageId) as { id: number } | undefined
  return whole ? annotationsOf(deps.db, whole.id) : []
}

function carry(deps: DatasetDeps, tileId: number, rect: Rect, shapes: readonly Shape[]): number {
  let n = 0
  for (const s of shapes) {
    const clipped = clipGeometry(translateGeometry(s.geometry, -rect.x, -rect.y), rect.width, rect.height)
    if (!clipped) continue
    addAnnotation(deps.db, tileId, s.className, s.annotator, clipped)
    n++
  }
  return n
}

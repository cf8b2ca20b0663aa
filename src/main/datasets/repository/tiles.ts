// The `tiles` table: the rectangles of images that are labelled, split and trained on (origin,
// split, perceptual hash, colour, thumbnail). Every edit touches the datasets it changes.
import type { Db } from '../../ledger/ledger'
import type { ColourClass } from '@shared/datasets/colour'
import type { SplitName } from '@shared/datasets/split'
import { touch } from './datasets'
import { NotFoundError } from './not-found'

const now = () => new Date().toISOString()

export interface NewTile {
  datasetId: number
  imageId: number
  x: number
  y: number
  width: number
  height: number
  observationId: string | null
  origin: 'grid' | 'point' | 'whole'
  thumbnail: Buffer | null
  phash: string | null
  colour: ColourClass | null
}

/** Inserts a tile; returns its id, or null where the same rectangle of that image exists. */
export function insertTile(db: Db, t: NewTile): number | null {
  const r = db
    .prepare(
      `INSERT OR IGNORE INTO tiles (dataset_id, image_id, x, y, width, height, observation_id, origin, thumbnail, phash, colour, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    .run(t.datasetId, t.imageId, t.x, t.y, t.width, t.height, t.observationId, t.origin, t.thumbnail, t.phash, t.colour, now())
  if (!r.changes) return null
  touch(db, t.datasetId)
  return Number(r.lastInsertRowid)
}

export function findTileByRect(db: Db, imageId: number, x: number, y: number, width: number, height: number): number | undefined {
  return (db.prepare('SELECT id FROM tiles WHERE image_id = ? AND x = ? AND y = ? AND width = ? AND height = ?').get(imageId, x, y, width, height) as { id: number } | undefined)?.id
}

export interface TileRow {
  id: number
  datasetId: number
  imageId: number
  fileName: string
  x: number
  y: number
  width: number
  height: number
  origin: 'grid' | 'point' | 'whole'
  observationId: string | null
  split: SplitName | null
  splitManual: number
  colour: ColourClass | null
  phash: string | null
  sha256: string
}

// The image's file name and hash come along: every reader of a tile names or hashes its image.
const TILE_SELECT = `SELECT t.id, t.dataset_id AS datasetId, t.image_id AS imageId, i.file_name AS fileName, t.x, t.y, t.width, t.height,
  t.origin, t.observation_id AS observationId, t.split, t.split_manual AS splitManual, t.colour, t.phash, i.sha256
  FROM tiles t JOIN images i ON i.id = t.image_id`

export function getTile(db: Db, id: number): TileRow {
  const r = db.prepare(`${TILE_SELECT} WHERE t.id = ?`).get(id) as TileRow | undefined
  if (!r) throw new NotFoundError(`tile ${id}`)
  return r
}

export function tileRows(db: Db, datasetId: number): TileRow[] {
  return db.prepare(`${TILE_SELECT} WHERE t.dataset_id = ? ORDER BY t.id`).all(datasetId) as TileRow[]
}

export function tileThumbnails(db: Db, ids: number[]): { tileId: number; thumbnail: Buffer | null }[] {
  const get = db.prepare('SELECT thumbnail FROM tiles WHERE id = ?')
  return ids.map((id) => ({ tileId: id, thumbnail: ((get.get(id) as { thumbnail: Buffer | null } | undefined)?.thumbnail ?? null) }))
}

/** The datasets the given tiles belong to (edits touch each of them). */
export function datasetsOfTiles(db: Db, tileIds: readonly number[]): number[] {
  const get = db.prepare('SELECT dataset_id AS d FROM tiles WHERE id = ?')
  const out = new Set<number>()
  for (const id of tileIds) {
    const r = get.get(id) as { d: number } | undefined
    if (!r) throw new NotFoundError(`tile ${id}`)
    out.add(r.d)
  }
  return [...out]
}

export function deleteTiles(db: Db, tileIds: readonly number[]): number {
  const datasets = datasetsOfTiles(db, tileIds)
  const del = db.prepare('DELETE FROM tiles WHERE id = ?')
  let n = 0
  db.transaction(() => {
    for (const id of tileIds) n += del.run(id).changes
    for (const d of datasets) touch(db, d)
  })()
  return n
}

export function setTileStats(db: Db, tileId: number, phash: string, colour: ColourClass): void {
  db.prepare('UPDATE tiles SET phash = ?, colour = ? WHERE id = ?').run(phash, colour, tileId)
}

export function setSplits(db: Db, assignments: ReadonlyMap<number, SplitName | null>, manual: boolean): number {
  const upd = db.prepare('UPDATE tiles SET split = ?, split_manual = ? WHERE id = ?')
  let n = 0
  db.transaction(() => {
    for (const [id, split] of assignments) n += upd.run(split, manual ? 1 : 0, id).changes
    for (const d of datasetsOfTiles(db, [...assignments.keys()])) touch(db, d)
  })()
  return n
}

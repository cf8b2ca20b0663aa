// The `annotations` table: shapes (boxes, polygons, points) drawn on a tile, per annotator; the
// geometry is stored as JSON.
import type { Db } from '../../ledger/ledger'
import type { Geometry } from '@shared/datasets/geometry'
import { touch } from './datasets'
import { getTile } from './tiles'

const now = () => new Date().toISOString()

export interface AnnotationRow {
  id: number
  tileId: number
  className: string
  annotator: string
  geometry: Geometry
}

type RawAnnotation = Omit<AnnotationRow, 'geometry'> & { geometry_json: string }

export function annotationsOf(db: Db, tileId: number): AnnotationRow[] {
  const rows = db.prepare('SELECT id, tile_id AS tileId, class_name AS className, annotator, geometry_json FROM annotations WHERE tile_id = ? ORDER BY id').all(tileId) as RawAnnotation[]
  return rows.map(({ geometry_json, ...r }) => ({ ...r, geometry: JSON.parse(geometry_json) as Geometry }))
}

export function annotationsByTile(db: Db, datasetId: number): Map<number, AnnotationRow[]> {
  const rows = db
    .prepare('SELECT a.id, a.tile_id AS tileId, a.class_name AS className, a.annotator, a.geometry_json FROM annotations a JOIN tiles t ON t.id = a.tile_id WHERE t.dataset_id = ? ORDER BY a.id')
    .all(datasetId) as RawAnnotation[]
  const map = new Map<number, AnnotationRow[]>()
  for (const { geometry_json, ...r } of rows) {
    const list = map.get(r.tileId) ?? []
    list.push({ ...r, geometry: JSON.parse(geometry_json) as Geometry })
    map.set(r.tileId, list)
  }
  return map
}

/** Shapes per tile of a dataset (tiles without any are absent). */
export function annotationCounts(db: Db, datasetId: number): Map<number, number> {
  const rows = db.prepare('SELECT a.tile_id AS tileId, COUNT(*) AS n FROM annotations a JOIN tiles t ON t.id = a.tile_id WHERE t.dataset_id = ? GROUP BY a.tile_id').all(datasetId) as { tileId: number; n: number }[]
  return new Map(rows.map((r) => [r.tileId, r.n]))
}

export function annotationCountOf(db: Db, tileId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM annotations WHERE tile_id = ?').get(tileId) as { n: number }).n
}

export function addAnnotation(db: Db, tileId: number, className: string, annotator: string, geometry: Geometry): number {
  return Number(
    db.prepare('INSERT INTO annotations (tile_id, kind, class_name, geometry_json, annotator, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(tileId, geometry.kind, className, JSON.stringify(geometry), annotator, now())
      .lastInsertRowid
  )
}

/** Replaces one annotator's shapes on a tile. */
export function replaceAnnotations(db: Db, tileId: number, annotator: string, shapes: readonly { className: string; geometry: Geometry }[]): void {
  const tile = getTile(db, tileId)
  db.transaction(() => {
    db.prepare('DELETE FROM annotations WHERE tile_id = ? AND annotator = ?').run(tileId, annotator)
    for (const s of shapes) addAnnotation(db, tileId, s.className, annotator, s.geometry)
    touch(db, tile.datasetId)
  })()
}

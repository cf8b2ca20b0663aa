// The `labels` table: one class per tile and annotator (several annotators give agreement).
import type { Db } from '../../ledger/ledger'
import type { LabelOrigin } from '@shared/datasets/agreement'
import { touch } from './datasets'
import { datasetsOfTiles } from './tiles'

const now = () => new Date().toISOString()

export interface TileLabel {
  annotator: string
  className: string
  origin: LabelOrigin
}

/** Every label of a dataset, by tile id, each tile's labels by annotator. */
export function labelsByTile(db: Db, datasetId: number): Map<number, TileLabel[]> {
  const rows = db
    .prepare('SELECT l.tile_id AS tileId, l.annotator, l.class_name AS className, l.origin FROM labels l JOIN tiles t ON t.id = l.tile_id WHERE t.dataset_id = ? ORDER BY l.annotator')
    .all(datasetId) as ({ tileId: number } & TileLabel)[]
  const map = new Map<number, TileLabel[]>()
  for (const r of rows) {
    const list = map.get(r.tileId) ?? []
    list.push({ annotator: r.annotator, className: r.className, origin: r.origin })
    map.set(r.tileId, list)
  }
  return map
}

/** One tile's labels, by annotator. */
export function labelsOfTile(db: Db, tileId: number): TileLabel[] {
  return db.prepare('SELECT annotator, class_name AS className, origin FROM labels WHERE tile_id = ? ORDER BY annotator').all(tileId) as TileLabel[]
}

/** Sets (or, with null, clears) one annotator's label on each tile; `origin` says where it came from. */
export function setLabels(db: Db, tileIds: readonly number[], className: string | null, annotator: string, origin: LabelOrigin = 'manual'): number {
  const datasets = datasetsOfTiles(db, tileIds)
  const upsert = db.prepare(
    `INSERT INTO labels (tile_id, class_name, annotator, created_at, origin) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (tile_id, annotator) DO UPDATE SET class_name = excluded.class_name, created_at = excluded.created_at, origin = excluded.origin`
  )
  const clear = db.prepare('DELETE FROM labels WHERE tile_id = ? AND annotator = ?')
  let n = 0
  db.transaction(() => {
    const t = now()
    for (const id of tileIds) n += className === null ? clear.run(id, annotator).changes : upsert.run(id, className, annotator, t, origin).changes
    for (const d of datasets) touch(db, d)
  })()
  return n
}

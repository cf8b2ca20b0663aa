// Dataset repositories: plain functions over the ledger's SQLite handle. Every edit of a
// dataset's content goes through `touch`, which bumps its revision (see versions.ts).
import type { Db } from '../ledger/ledger'
import type { DatasetSummary, TileView } from '@shared/ipc/schemas/datasets'
import { annotatorsAgree, consensusLabel } from '@shared/datasets/agreement'
import type { ColourClass } from '@shared/datasets/colour'
import type { Geometry } from '@shared/datasets/geometry'
import type { SplitName } from '@shared/datasets/split'

export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} does not exist`)
    this.name = 'NotFoundError'
  }
}

const now = () => new Date().toISOString()

export interface DatasetRow {
  id: number
  name: string
  description: string
  task: 'classification' | 'segmentation'
  classes: string[]
  revision: number
  createdAt: string
  updatedAt: string
}

interface RawDataset {
  id: number
  name: string
  description: string
  task: string
  classes_json: string
  revision: number
  created_at: string
  updated_at: string
}

function toDataset(r: RawDataset): DatasetRow {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    task: r.task as DatasetRow['task'],
    classes: JSON.parse(r.classes_json) as string[],
    revision: r.revision,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  }
}

export function createDataset(db: Db, d: { name: string; description: string; task: string; classes: string[] }): number {
  if (db.prepare('SELECT 1 FROM datasets WHERE name = ?').get(d.name)) throw new Error(`a dataset named "${d.name}" already exists`)
  const t = now()
  return Number(
    db.prepare('INSERT INTO datasets (name, description, task, classes_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(d.name, d.description, d.task, JSON.stringify(d.classes), t, t)
      .lastInsertRowid
  )
}

export function getDataset(db: Db, id: number): DatasetRow {
  const r = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as RawDataset | undefined
  if (!r) throw new NotFoundError(`dataset ${id}`)
  return toDataset(r)
}

export function findDatasetByName(db: Db, name: string): DatasetRow | undefined {
  const r = db.prepare('SELECT * FROM datasets WHERE name = ?').get(name) as RawDataset | undefined
  return r && toDataset(r)
}

export function updateDataset(db: Db, id: number, patch: { name?: string; description?: string; task?: string; classes?: string[] }): void {
  const d = getDataset(db, id)
  db.prepare('UPDATE datasets SET name = ?, description = ?, task = ?, classes_json = ? WHERE id = ?').run(
    patch.name ?? d.name,
    patch.description ?? d.description,
    patch.task ?? d.task,
    JSON.stringify(patch.classes ?? d.classes),
    id
  )
  touch(db, id)
}

export function deleteDataset(db: Db, id: number): void {
  getDataset(db, id)
  db.prepare('DELETE FROM datasets WHERE id = ?').run(id)
}

/** Marks the dataset edited: a new draft if it had been frozen. */
export function touch(db: Db, datasetId: number): void {
  db.prepare('UPDATE datasets SET revision = revision + 1, updated_at = ? WHERE id = ?').run(now(), datasetId)
}

export function summarise(db: Db, d: DatasetRow): DatasetSummary {
  const count = (sql: string) => (db.prepare(sql).get(d.id) as { n: number }).n
  const latest = db.prepare('SELECT version, revision FROM dataset_versions WHERE dataset_id = ? ORDER BY version DESC LIMIT 1').get(d.id) as { version: number; revision: number } | undefined
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    task: d.task,
    classes: d.classes,
    images: count('SELECT COUNT(*) AS n FROM images WHERE dataset_id = ?'),
    tiles: count('SELECT COUNT(*) AS n FROM tiles WHERE dataset_id = ?'),
    labelled: count('SELECT COUNT(DISTINCT l.tile_id) AS n FROM labels l JOIN tiles t ON t.id = l.tile_id WHERE t.dataset_id = ?'),
    versions: count('SELECT COUNT(*) AS n FROM dataset_versions WHERE dataset_id = ?'),
    latestVersion: latest?.version ?? null,
    draft: !latest || latest.revision !== d.revision,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt
  }
}

export function listDatasets(db: Db): DatasetSummary[] {
  return (db.prepare('SELECT * FROM datasets ORDER BY name').all() as RawDataset[]).map((r) => summarise(db, toDataset(r)))
}

// --- images ---------------------------------------------------------------------------------

export interface ImageRow {
  id: number
  datasetId: number
  sha256: string
  path: string
  fileName: string
  format: string
  width: number
  height: number
  channels: number
  bitDepth: number
  observationId: string | null
  storedName: string | null
  colour: ColourClass | null
  thumbnail: Buffer | null
}

const IMAGE_COLUMNS = `id, dataset_id AS datasetId, sha256, path, file_name AS fileName, format, width, height, channels,
  bit_depth AS bitDepth, observation_id AS observationId, stored_name AS storedName, colour`

export function findImageBySha(db: Db, datasetId: number, sha256: string): ImageRow | undefined {
  return db.prepare(`SELECT ${IMAGE_COLUMNS}, NULL AS thumbnail FROM images WHERE dataset_id = ? AND sha256 = ?`).get(datasetId, sha256) as ImageRow | undefined
}

export function findImageByFileName(db: Db, datasetId: number, fileName: string): ImageRow | undefined {
  return db.prepare(`SELECT ${IMAGE_COLUMNS}, NULL AS thumbnail FROM images WHERE dataset_id = ? AND file_name = ? ORDER BY id LIMIT 1`).get(datasetId, fileName) as ImageRow | undefined
}

export function insertImage(db: Db, im: Omit<ImageRow, 'id'>): number {
  const id = Number(
    db
      .prepare(
        `INSERT INTO images (dataset_id, sha256, path, file_name, format, width, height, channels, bit_depth, observation_id, stored_name, colour, thumbnail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(im.datasetId, im.sha256, im.path, im.fileName, im.format, im.width, im.height, im.channels, im.bitDepth, im.observationId, im.storedName, im.colour, im.thumbnail, now()).lastInsertRowid
  )
  touch(db, im.datasetId)
  return id
}

export function getImage(db: Db, id: number): ImageRow {
  const r = db.prepare(`SELECT ${IMAGE_COLUMNS}, NULL AS thumbnail FROM images WHERE id = ?`).get(id) as ImageRow | undefined
  if (!r) throw new NotFoundError(`image ${id}`)
  return r
}

export function listImages(db: Db, datasetId: number, offset: number, limit: number, withThumbnails: boolean): { total: number; rows: (ImageRow & { tiles: number })[] } {
  const total = (db.prepare('SELECT COUNT(*) AS n FROM images WHERE dataset_id = ?').get(datasetId) as { n: number }).n
  const rows = db
    .prepare(
      `SELECT ${IMAGE_COLUMNS}, ${withThumbnails ? 'thumbnail' : 'NULL AS thumbnail'},
        (SELECT COUNT(*) FROM tiles t WHERE t.image_id = images.id) AS tiles
       FROM images WHERE dataset_id = ? ORDER BY file_name, id LIMIT ? OFFSET ?`
    )
    .all(datasetId, limit, offset) as (ImageRow & { tiles: number })[]
  return { total, rows }
}

export function imageIdsOf(db: Db, datasetId: number): number[] {
  return (db.prepare('SELECT id FROM images WHERE dataset_id = ? ORDER BY id').all(datasetId) as { id: number }[]).map((r) => r.id)
}

// --- tiles ----------------------------------------------------------------------------------

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

export function labelsByTile(db: Db, datasetId: number): Map<number, { annotator: string; className: string }[]> {
  const rows = db
    .prepare('SELECT l.tile_id AS tileId, l.annotator, l.class_name AS className FROM labels l JOIN tiles t ON t.id = l.tile_id WHERE t.dataset_id = ? ORDER BY l.annotator')
    .all(datasetId) as { tileId: number; annotator: string; className: string }[]
  const map = new Map<number, { annotator: string; className: string }[]>()
  for (const r of rows) {
    const list = map.get(r.tileId) ?? []
    list.push({ annotator: r.annotator, className: r.className })
    map.set(r.tileId, list)
  }
  return map
}

function annotationCounts(db: Db, datasetId: number): Map<number, number> {
  const rows = db.prepare('SELECT a.tile_id AS tileId, COUNT(*) AS n FROM annotations a JOIN tiles t ON t.id = a.tile_id WHERE t.dataset_id = ? GROUP BY a.tile_id').all(datasetId) as { tileId: number; n: number }[]
  return new Map(rows.map((r) => [r.tileId, r.n]))
}

export function toTileView(r: TileRow, labels: { annotator: string; className: string }[], annotations: number): TileView {
  return {
    id: r.id,
    imageId: r.imageId,
    fileName: r.fileName,
    x: r.x,
    y: r.y,
    width: r.width,
    height: r.height,
    origin: r.origin,
    observationId: r.observationId,
    split: r.split,
    splitManual: !!r.splitManual,
    labels,
    label: consensusLabel(labels),
    agree: annotatorsAgree(labels),
    annotations,
    colour: r.colour
  }
}

export function tileViews(db: Db, datasetId: number): TileView[] {
  const labels = labelsByTile(db, datasetId)
  const counts = annotationCounts(db, datasetId)
  return tileRows(db, datasetId).map((r) => toTileView(r, labels.get(r.id) ?? [], counts.get(r.id) ?? 0))
}

export function tileView(db: Db, id: number): TileView {
  const r = getTile(db, id)
  const labels = db.prepare('SELECT annotator, class_name AS className FROM labels WHERE tile_id = ? ORDER BY annotator').all(id) as { annotator: string; className: string }[]
  const n = (db.prepare('SELECT COUNT(*) AS n FROM annotations WHERE tile_id = ?').get(id) as { n: number }).n
  return toTileView(r, labels, n)
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

// --- labels ---------------------------------------------------------------------------------

/** Sets (or, with null, clears) one annotator's label on each tile. */
export function setLabels(db: Db, tileIds: readonly number[], className: string | null, annotator: string): number {
  const datasets = datasetsOfTiles(db, tileIds)
  const upsert = db.prepare(
    `INSERT INTO labels (tile_id, class_name, annotator, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tile_id, annotator) DO UPDATE SET class_name = excluded.class_name, created_at = excluded.created_at`
  )
  const clear = db.prepare('DELETE FROM labels WHERE tile_id = ? AND annotator = ?')
  let n = 0
  db.transaction(() => {
    const t = now()
    for (const id of tileIds) n += className === null ? clear.run(id, annotator).changes : upsert.run(id, className, annotator, t).changes
    for (const d of datasets) touch(db, d)
  })()
  return n
}

// --- annotations ----------------------------------------------------------------------------

export interface AnnotationRow {
  id: number
  tileId: number
  className: string
  annotator: string
  geometry: Geometry
}

export function annotationsOf(db: Db, tileId: number): AnnotationRow[] {
  const rows = db.prepare('SELECT id, tile_id AS tileId, class_name AS className, annotator, geometry_json FROM annotations WHERE tile_id = ? ORDER BY id').all(tileId) as (Omit<AnnotationRow, 'geometry'> & { geometry_json: string })[]
  return rows.map(({ geometry_json, ...r }) => ({ ...r, geometry: JSON.parse(geometry_json) as Geometry }))
}

export function annotationsByTile(db: Db, datasetId: number): Map<number, AnnotationRow[]> {
  const rows = db
    .prepare('SELECT a.id, a.tile_id AS tileId, a.class_name AS className, a.annotator, a.geometry_json FROM annotations a JOIN tiles t ON t.id = a.tile_id WHERE t.dataset_id = ? ORDER BY a.id')
    .all(datasetId) as (Omit<AnnotationRow, 'geometry'> & { geometry_json: string })[]
  const map = new Map<number, AnnotationRow[]>()
  for (const { geometry_json, ...r } of rows) {
    const list = map.get(r.tileId) ?? []
    list.push({ ...r, geometry: JSON.parse(geometry_json) as Geometry })
    map.set(r.tileId, list)
  }
  return map
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

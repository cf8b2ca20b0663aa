// The `images` table: one row per imported file of a dataset (hash, size, bands, observation,
// colour, thumbnail). Adding one touches its dataset.
import type { Db } from '../../ledger/ledger'
import type { ColourClass } from '@shared/datasets/colour'
import { touch } from './datasets'
import { NotFoundError } from './not-found'

const now = () => new Date().toISOString()

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

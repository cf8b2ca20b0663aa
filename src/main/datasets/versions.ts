// Frozen dataset versions. Freezing writes the manifest (tiles, labels, masks, split) and a
// content hash over it; the row never changes afterwards (a trigger forbids it), so a run or a
// study that names a version always means the same data. Further edits make the dataset a
// draft again, and the next freeze becomes the next version.
import { createHash } from 'node:crypto'
import type { VersionView } from '@shared/ipc/schemas/datasets'
import { resolveLabel } from '@shared/datasets/agreement'
import type { AppliedClassMapping } from '@shared/datasets/class-mapping'
import { hashableContent, type DatasetManifest, type ManifestTile } from '@shared/datasets/manifest'
import type { Db } from '../ledger/ledger'
import { annotationsByTile } from './repository/annotations'
import { getDataset } from './repository/datasets'
import { labelsByTile } from './repository/labels'
import { NotFoundError } from './repository/not-found'
import { tileRows } from './repository/tiles'
import { storedNameFor } from './store'

export function buildManifest(db: Db, datasetId: number): DatasetManifest {
  const d = getDataset(db, datasetId)
  const labels = labelsByTile(db, datasetId)
  const shapes = annotationsByTile(db, datasetId)
  const images = new Map(
    (db.prepare('SELECT id, sha256, format, file_name AS fileName, width, height, channels FROM images WHERE dataset_id = ?').all(datasetId) as {
      id: number
      sha256: string
      format: string
      fileName: string
      width: number
      height: number
      channels: number
    }[]).map((r) => [r.id, r])
  )
  const tiles: ManifestTile[] = tileRows(db, datasetId).map((t) => {
    const im = images.get(t.imageId)!
    const l = labels.get(t.id) ?? []
    const decided = resolveLabel(l, d.labelPolicy)
    return {
      tileId: t.id,
      image: { sha256: im.sha256, ext: storedNameFor(im.sha256, im.format).split('.').pop()!, fileName: im.fileName, width: im.width, height: im.height, channels: im.channels },
      x: t.x,
      y: t.y,
      width: t.width,
      height: t.height,
      observationId: t.observationId,
      split: t.split,
      label: decided.label,
      labelStatus: decided.status,
      labels: l,
      annotations: (shapes.get(t.id) ?? []).map((a) => ({ className: a.className, annotator: a.annotator, geometry: a.geometry }))
    }
  })
  return { format: 'marsfm-dataset-manifest/1', dataset: { name: d.name, task: d.task, classes: d.classes, classMappings: d.classMappings, labelPolicy: d.labelPolicy }, tiles }
}

export function contentHash(m: DatasetManifest): string {
  return createHash('sha256').update(hashableContent(m)).digest('hex')
}

function countsOf(m: DatasetManifest): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const t of m.tiles) {
    const k = `${t.split ?? 'none'}/${t.label ?? (t.labelStatus === 'conflict' ? 'in conflict' : 'unlabelled')}`
    counts[k] = (counts[k] ?? 0) + 1
  }
  return counts
}

interface RawVersion {
  id: number
  dataset_id: number
  version: number
  content_hash: string
  note: string
  frozen_at: string
  tile_count: number
  counts_json: string
  class_mappings_json: string
  label_policy: string
  revision: number
}

function toView(r: RawVersion): VersionView {
  return { id: r.id, datasetId: r.dataset_id, version: r.version, contentHash: r.content_hash, note: r.note, frozenAt: r.frozen_at, tiles: r.tile_count,
    counts: JSON.parse(r.counts_json) as Record<string, number>,
    classMappings: JSON.parse(r.class_mappings_json) as AppliedClassMapping[],
    labelPolicy: r.label_policy as VersionView['labelPolicy']
  }
}

const VERSION_COLUMNS = 'id, dataset_id, version, content_hash, note, frozen_at, tile_count, counts_json, class_mappings_json, label_policy, revision'

/** Freezes the dataset; if nothing changed since the latest version, that version is returned. */
export function freeze(db: Db, datasetId: number, note: string): { version: VersionView; created: boolean } {
  return db.transaction(() => {
    const d = getDataset(db, datasetId)
    const latest = db.prepare(`SELECT ${VERSION_COLUMNS} FROM dataset_versions WHERE dataset_id = ? ORDER BY version DESC LIMIT 1`).get(datasetId) as RawVersion | undefined
    if (latest && latest.revision === d.revision) return { version: toView(latest), created: false }
    const manifest = buildManifest(db, datasetId)
    if (!manifest.tiles.length) throw new Error(`dataset "${d.name}" has no tiles to freeze`)
    const hash = contentHash(manifest)
    const version = (latest?.version ?? 0) + 1
    const id = Number(
      db
        .prepare(
          'INSERT INTO dataset_versions (dataset_id, version, content_hash, manifest_json, note, frozen_at, revision, tile_count, counts_json, class_mappings_json, label_policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
        )
        .run(datasetId, version, hash, JSON.stringify(manifest), note, new Date().toISOString(), d.revision, manifest.tiles.length, JSON.stringify(countsOf(manifest)), JSON.stringify(d.classMappings), d.labelPolicy)
        .lastInsertRowid
    )
    return { version: getVersion(db, id), created: true }
  })()
}

export function getVersion(db: Db, id: number): VersionView {
  const r = db.prepare(`SELECT ${VERSION_COLUMNS} FROM dataset_versions WHERE id = ?`).get(id) as RawVersion | undefined
  if (!r) throw new NotFoundError(`dataset version ${id}`)
  return toView(r)
}

export function listVersions(db: Db, datasetId: number): VersionView[] {
  return (db.prepare(`SELECT ${VERSION_COLUMNS} FROM dataset_versions WHERE dataset_id = ? ORDER BY version DESC`).all(datasetId) as RawVersion[]).map(toView)
}

/** The frozen manifest of a version: what training runs and exports read. */
export function versionManifest(db: Db, versionId: number): DatasetManifest {
  const r = db.prepare('SELECT manifest_json FROM dataset_versions WHERE id = ?').get(versionId) as { manifest_json: string } | undefined
  if (!r) throw new NotFoundError(`dataset version ${versionId}`)
  return JSON.parse(r.manifest_json) as DatasetManifest
}

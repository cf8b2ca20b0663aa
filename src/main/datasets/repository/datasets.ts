// The `datasets` table: one row per dataset (name, task, classes, revision). Every edit of a
// dataset's content goes through `touch`, which bumps its revision (see ../versions.ts).
import type { Db } from '../../ledger/ledger'
import type { DatasetSummary } from '@shared/ipc/schemas/datasets'
import { resolveLabel, type LabelPolicy } from '@shared/datasets/agreement'
import type { AppliedClassMapping } from '@shared/datasets/class-mapping'
import { NotFoundError } from './not-found'

const now = () => new Date().toISOString()

export interface DatasetRow {
  id: number
  name: string
  description: string
  task: 'classification' | 'segmentation'
  classes: string[]
  labelPolicy: LabelPolicy
  classMappings: AppliedClassMapping[]
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
  label_policy: string
  class_mappings_json: string
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
    labelPolicy: r.label_policy as LabelPolicy,
    classMappings: JSON.parse(r.class_mappings_json) as AppliedClassMapping[],
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

export function updateDataset(db: Db, id: number, patch: { name?: string; description?: string; task?: string; classes?: string[]; labelPolicy?: LabelPolicy }): void {
  const d = getDataset(db, id)
  db.prepare('UPDATE datasets SET name = ?, description = ?, task = ?, classes_json = ?, label_policy = ? WHERE id = ?').run(
    patch.name ?? d.name,
    patch.description ?? d.description,
    patch.task ?? d.task,
    JSON.stringify(patch.classes ?? d.classes),
    patch.labelPolicy ?? d.labelPolicy,
    id
  )
  touch(db, id)
}

/** Records what an import did with its source's classes (the dataset's versions carry it). */
export function recordClassMapping(db: Db, id: number, mapping: AppliedClassMapping): void {
  const d = getDataset(db, id)
  db.prepare('UPDATE datasets SET class_mappings_json = ? WHERE id = ?').run(JSON.stringify([...d.classMappings, mapping]), id)
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

/** A dataset with its counts (images, tiles, labelled tiles, versions) and whether it is a draft. */
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
    ...decidedCounts(db, d),
    labelPolicy: d.labelPolicy,
    classMappings: d.classMappings,
    versions: count('SELECT COUNT(*) AS n FROM dataset_versions WHERE dataset_id = ?'),
    latestVersion: latest?.version ?? null,
    draft: !latest || latest.revision !== d.revision,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt
  }
}

/** Tiles with a decided label and tiles in conflict, decided as the split and the exports decide. */
function decidedCounts(db: Db, d: DatasetRow): { labelled: number; conflicts: number } {
  const rows = db
    .prepare('SELECT l.tile_id AS tileId, l.annotator, l.class_name AS className, l.origin FROM labels l JOIN tiles t ON t.id = l.tile_id WHERE t.dataset_id = ?')
    .all(d.id) as { tileId: number; annotator: string; className: string; origin: 'import' | 'manual' | 'adjudication' }[]
  const byTile = new Map<number, typeof rows>()
  for (const r of rows) byTile.set(r.tileId, [...(byTile.get(r.tileId) ?? []), r])
  let labelled = 0
  let conflicts = 0
  for (const labels of byTile.values()) {
    const { label, status } = resolveLabel(labels, d.labelPolicy)
    if (label) labelled++
    else if (status === 'conflict') conflicts++
  }
  return { labelled, conflicts }
}

export function listDatasets(db: Db): DatasetSummary[] {
  return (db.prepare('SELECT * FROM datasets ORDER BY name').all() as RawDataset[]).map((r) => summarise(db, toDataset(r)))
}

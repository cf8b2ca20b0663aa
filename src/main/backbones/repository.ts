// Backbone comparison studies in the ledger (`backbone_studies`): the request and what it resolved
// to as input_json, the outcome or the reason it stopped as output_json, the status and times.
import type { Db } from '../ledger/ledger'
import {
  BackboneStudyInput,
  BackboneStudyOutcome,
  type BackboneStudyDetail,
  type BackboneStudyListItem
} from '@shared/ipc/schemas/backbones'

type Status = BackboneStudyListItem['status']

interface Row {
  id: number
  dataset_version_id: number
  input_json: string
  status: Status
  created_at: string
  finished_at: string | null
  reason: string | null
}

const now = () => new Date().toISOString()
const LIST_COLUMNS = `id, dataset_version_id, input_json, status, created_at, finished_at, json_extract(output_json, '$.reason') AS reason`

export function createBackboneStudy(db: Db, input: BackboneStudyInput): number {
  const info = db
    .prepare(`INSERT INTO backbone_studies (dataset_version_id, input_json, status, created_at) VALUES (?, ?, 'running', ?)`)
    .run(input.version.id, JSON.stringify(input), now())
  return Number(info.lastInsertRowid)
}

export function finishBackboneStudy(db: Db, id: number, status: Exclude<Status, 'running'>, result: { outcome: BackboneStudyOutcome } | { reason: string }): void {
  const output = 'outcome' in result ? result.outcome : { reason: result.reason }
  db.prepare('UPDATE backbone_studies SET status = ?, output_json = ?, finished_at = ? WHERE id = ?').run(status, JSON.stringify(output), now(), id)
}

/** Studies left 'running' by an app that stopped mid-study. */
export function failInterruptedBackboneStudies(db: Db): number {
  return db
    .prepare(`UPDATE backbone_studies SET status = 'failed', output_json = ?, finished_at = ? WHERE status = 'running'`)
    .run(JSON.stringify({ reason: 'interrupted: the app stopped while this study was running' }), now()).changes
}

function toListItem(r: Row): BackboneStudyListItem {
  const input = BackboneStudyInput.parse(JSON.parse(r.input_json))
  return {
    id: r.id,
    name: input.name,
    versionId: r.dataset_version_id,
    backbones: input.backbones.map((b) => b.name),
    status: r.status,
    statusReason: r.reason,
    createdAt: r.created_at,
    finishedAt: r.finished_at
  }
}

export function listBackboneStudies(db: Db): BackboneStudyListItem[] {
  return (db.prepare(`SELECT ${LIST_COLUMNS} FROM backbone_studies ORDER BY id DESC`).all() as Row[]).map(toListItem)
}

export function getBackboneStudy(db: Db, id: number): BackboneStudyDetail | null {
  const r = db.prepare(`SELECT ${LIST_COLUMNS}, output_json FROM backbone_studies WHERE id = ?`).get(id) as (Row & { output_json: string | null }) | undefined
  if (!r) return null
  const input = BackboneStudyInput.parse(JSON.parse(r.input_json))
  const outcome = r.status === 'done' && r.output_json ? BackboneStudyOutcome.parse(JSON.parse(r.output_json)) : null
  return { ...toListItem(r), input, outcome }
}

export function removeBackboneStudy(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM backbone_studies WHERE id = ?').run(id).changes > 0
}

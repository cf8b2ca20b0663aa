// Inference jobs in the ledger (`inference_jobs`): the request and what it resolved to (run,
// checkpoint, source) as input_json, the outcome (per-image probabilities, summary) or the reason
// it stopped as output_json, the status and timestamps.
import type { Db } from '../ledger/ledger'
import {
  InferenceInput,
  InferenceOutcome,
  type InferenceDetail,
  type InferenceListItem,
  type InferenceStatus
} from '@shared/ipc/schemas/inference'

interface Row {
  id: number
  model_id: number | null
  checkpoint_id: number | null
  input_json: string
  status: InferenceStatus
  created_at: string
  finished_at: string | null
  images: number | null
  accuracy: number | null
  reason: string | null
}

const now = () => new Date().toISOString()

// Counts and the headline metric come from SQLite's JSON functions, so a list never parses outputs.
const LIST_COLUMNS = `id, model_id, checkpoint_id, input_json, status, created_at, finished_at,
  json_array_length(output_json, '$.predictions') AS images,
  json_extract(output_json, '$.metrics.accuracy') AS accuracy,
  json_extract(output_json, '$.reason') AS reason`

export function createInferenceJob(db: Db, input: InferenceInput, modelId: number | null): number {
  const info = db
    .prepare(`INSERT INTO inference_jobs (model_id, checkpoint_id, input_json, status, created_at) VALUES (?, ?, ?, 'running', ?)`)
    .run(modelId, input.checkpoint.id, JSON.stringify(input), now())
  return Number(info.lastInsertRowid)
}

/** Records how a job ended: its outcome when done, else the reason. */
export function finishInferenceJob(db: Db, id: number, status: Exclude<InferenceStatus, 'running'>, result: { outcome: InferenceOutcome } | { reason: string }): void {
  const output = 'outcome' in result ? result.outcome : { reason: result.reason }
  db.prepare('UPDATE inference_jobs SET status = ?, output_json = ?, finished_at = ? WHERE id = ?').run(status, JSON.stringify(output), now(), id)
}

/** Jobs left 'running' by an app that stopped mid-job. */
export function failInterruptedInference(db: Db): number {
  return db
    .prepare(`UPDATE inference_jobs SET status = 'failed', output_json = ?, finished_at = ? WHERE status = 'running'`)
    .run(JSON.stringify({ reason: 'interrupted: the app stopped while this job was running' }), now()).changes
}

function toListItem(r: Row): InferenceListItem {
  const input = InferenceInput.parse(JSON.parse(r.input_json))
  return {
    id: r.id,
    name: input.name,
    status: r.status,
    statusReason: r.reason,
    runId: input.run.id,
    runName: input.run.name,
    checkpointKind: input.checkpoint.kind,
    checkpointStep: input.checkpoint.step,
    images: r.status === 'done' ? r.images : null,
    accuracy: typeof r.accuracy === 'number' ? r.accuracy : null,
    createdAt: r.created_at,
    finishedAt: r.finished_at
  }
}

export function listInferenceJobs(db: Db): InferenceListItem[] {
  return (db.prepare(`SELECT ${LIST_COLUMNS} FROM inference_jobs ORDER BY id DESC`).all() as Row[]).map(toListItem)
}

export function getInferenceJob(db: Db, id: number): InferenceDetail | null {
  const r = db.prepare(`SELECT ${LIST_COLUMNS}, output_json FROM inference_jobs WHERE id = ?`).get(id) as (Row & { output_json: string | null }) | undefined
  if (!r) return null
  const outcome = r.status === 'done' && r.output_json ? InferenceOutcome.parse(JSON.parse(r.output_json)) : null
  return { ...toListItem(r), input: InferenceInput.parse(JSON.parse(r.input_json)), outcome }
}

export function removeInferenceJob(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM inference_jobs WHERE id = ?').run(id).changes > 0
}

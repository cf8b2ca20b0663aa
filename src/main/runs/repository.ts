// Runs in the ledger: one row per fine-tuning / pre-training run (config, dataset and model hashes,
// backend, seed, app version, status), its append-only metrics and its checkpoints.
import { randomUUID } from 'node:crypto'
import type { Db } from '../ledger/ledger'
import type { CheckpointRecord, MetricPoint, RunRecord, RunStatus, RunTask } from '@shared/ipc/schemas/runs'

interface RunRow {
  id: number
  name: string
  task: RunTask
  status: RunStatus
  status_reason: string | null
  config_json: string
  dataset_version_id: number | null
  dataset_hash: string | null
  model_id: number | null
  model_hash: string | null
  backend: string | null
  device: string | null
  seed: number
  app_version: string
  created_at: string
  started_at: string | null
  finished_at: string | null
}

export interface NewRun {
  name: string
  task: RunTask
  config: unknown
  datasetVersionId?: number | null
  modelId: number | null
  modelHash: string | null
  seed: number
  appVersion: string
}

const now = () => new Date().toISOString()

/** A run id never given before, also counting deleted runs' ids (SQL expression). */
export const NEXT_RUN_ID = '(SELECT COALESCE(MAX(id), 0) + 1 FROM (SELECT id FROM runs UNION ALL SELECT id FROM deleted_runs))'

/** Records a queued run. Its id is new: a deleted run's id is never given again (`deleted_runs`). */
export function createRun(db: Db, r: NewRun): number {
  const info = db
    .prepare(
      `INSERT INTO runs (id, uuid, name, task, status, config_json, dataset_version_id, model_id, model_hash, seed, app_version, created_at)
       VALUES (${NEXT_RUN_ID}, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`
    )
    .run(randomUUID(), r.name, r.task, JSON.stringify(r.config), r.datasetVersionId ?? null, r.modelId, r.modelHash, r.seed, r.appVersion, now())
  return Number(info.lastInsertRowid)
}

export interface RunPatch {
  status?: RunStatus
  statusReason?: string | null
  datasetHash?: string
  backend?: string
  device?: string
  started?: boolean
  finished?: boolean
}

export function updateRun(db: Db, id: number, p: RunPatch): void {
  const sets: string[] = []
  const args: unknown[] = []
  const set = (col: string, v: unknown) => {
    sets.push(`${col} = ?`)
    args.push(v)
  }
  if (p.status) set('status', p.status)
  if (p.statusReason !== undefined) set('status_reason', p.statusReason)
  if (p.datasetHash) set('dataset_hash', p.datasetHash)
  if (p.backend) set('backend', p.backend)
  if (p.device) set('device', p.device)
  if (p.started) sets.push(`started_at = COALESCE(started_at, '${now()}')`)
  if (p.finished !== undefined) set('finished_at', p.finished ? now() : null)
  if (!sets.length) return
  db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id)
}

/** Records what a run's job resolved before training: the config as completed, the imported model. */
export function setRunInputs(db: Db, id: number, r: { config: unknown; modelId: number | null; modelHash: string | null }): void {
  db.prepare('UPDATE runs SET config_json = ?, model_id = ?, model_hash = ? WHERE id = ?').run(JSON.stringify(r.config), r.modelId, r.modelHash, id)
}

/** Appends metric points in one transaction (the table is append-only). */
export function appendMetrics(db: Db, runId: number, points: readonly MetricPoint[]): void {
  if (!points.length) return
  const insert = db.prepare('INSERT INTO metrics (run_id, step, name, value, recorded_at) VALUES (?, ?, ?, ?, ?)')
  const at = now()
  db.transaction(() => {
    for (const p of points) insert.run(runId, p.step, p.name, p.value, at)
  })()
}

export function maxMetricStep(db: Db, runId: number): number {
  return (db.prepare('SELECT MAX(step) AS s FROM metrics WHERE run_id = ?').get(runId) as { s: number | null }).s ?? 0
}

/** Every metric point of a run; where a step was recorded twice the later row wins. */
export function runMetrics(db: Db, runId: number): MetricPoint[] {
  return db
    .prepare(
      `SELECT step, name, value FROM metrics WHERE rowid IN (SELECT MAX(rowid) FROM metrics WHERE run_id = ? GROUP BY name, step) ORDER BY step, name`
    )
    .all(runId) as MetricPoint[]
}

export function addCheckpoint(db: Db, c: Omit<CheckpointRecord, 'id' | 'createdAt'>): void {
  db.prepare('INSERT INTO checkpoints (run_id, step, kind, path, metric_name, metric_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    c.runId,
    c.step,
    c.kind,
    c.path,
    c.metricName,
    c.metricValue,
    now()
  )
}

interface CheckpointRow {
  id: number
  run_id: number
  step: number
  kind: CheckpointRecord['kind']
  path: string
  metric_name: string | null
  metric_value: number | null
  created_at: string
}

const toCheckpoint = (r: CheckpointRow): CheckpointRecord => ({
  id: r.id,
  runId: r.run_id,
  step: r.step,
  kind: r.kind,
  path: r.path,
  metricName: r.metric_name,
  metricValue: r.metric_value,
  createdAt: r.created_at
})

export function runCheckpoints(db: Db, runId: number): CheckpointRecord[] {
  return (db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id').all(runId) as CheckpointRow[]).map(toCheckpoint)
}

/** The newest resumable checkpoint (last or periodic; a 'best' file may lag behind). */
export function latestCheckpoint(db: Db, runId: number): CheckpointRecord | null {
  const row = db.prepare(`SELECT * FROM checkpoints WHERE run_id = ? AND kind IN ('last', 'periodic') ORDER BY step DESC, id DESC LIMIT 1`).get(runId) as CheckpointRow | undefined
  return row ? toCheckpoint(row) : null
}

/**
 * A run row with everything the list shows, in one statement: the newest value of each metric and
 * the highest step (from `run_latest_metrics`, kept by a trigger), the newest resumable
 * checkpoint's step, and the dataset version's and model's names. No query per run.
 */
const RUN_SELECT = `
  SELECT r.*,
    (SELECT json_group_object(l.name, l.value) FROM run_latest_metrics l WHERE l.run_id = r.id) AS latest_json,
    (SELECT MAX(l.max_step) FROM run_latest_metrics l WHERE l.run_id = r.id) AS max_step,
    (SELECT c.step FROM checkpoints c WHERE c.run_id = r.id AND c.kind IN ('last', 'periodic') ORDER BY c.step DESC, c.id DESC LIMIT 1) AS last_checkpoint_step,
    (SELECT d.name || ' v' || v.version FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE v.id = r.dataset_version_id) AS dataset_name,
    (SELECT m.name FROM models m WHERE m.id = r.model_id) AS model_name
  FROM runs r`

interface RunListRow extends RunRow {
  notes: string
  tags_json: string
  latest_json: string | null
  max_step: number | null
  last_checkpoint_step: number | null
  dataset_name: string | null
  model_name: string | null
}

function toRecord(r: RunListRow, jobId: string | null): RunRecord {
  return {
    id: r.id,
    name: r.name,
    task: r.task,
    status: r.status,
    statusReason: r.status_reason,
    config: JSON.parse(r.config_json),
    datasetHash: r.dataset_hash,
    datasetVersionId: r.dataset_version_id,
    datasetName: r.dataset_name,
    modelId: r.model_id,
    modelName: r.model_name,
    modelHash: r.model_hash,
    backend: r.backend,
    device: r.device,
    seed: r.seed,
    appVersion: r.app_version,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    jobId,
    step: r.max_step ?? 0,
    latest: r.latest_json ? (JSON.parse(r.latest_json) as Record<string, number>) : {},
    lastCheckpointStep: r.last_checkpoint_step,
    notes: r.notes,
    tags: JSON.parse(r.tags_json) as string[]
  }
}

export function getRun(db: Db, id: number, jobId: string | null = null): RunRecord | null {
  const row = db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as RunListRow | undefined
  return row ? toRecord(row, jobId) : null
}

/** Every run, newest first, in one query. */
export function listRuns(db: Db, jobOf: (id: number) => string | null = () => null): RunRecord[] {
  return (db.prepare(`${RUN_SELECT} ORDER BY r.id DESC`).all() as RunListRow[]).map((r) => toRecord(r, jobOf(r.id)))
}

/** Sets a run's notes and tags (tags trimmed, deduplicated, in the order given). */
export function annotateRun(db: Db, id: number, notes: string, tags: readonly string[]): boolean {
  const unique = [...new Set(tags.map((t) => t.trim()).filter(Boolean))]
  return db.prepare('UPDATE runs SET notes = ?, tags_json = ? WHERE id = ?').run(notes, JSON.stringify(unique), id).changes > 0
}

export interface SeriesRequest {
  runIds: readonly number[]
  names: readonly string[]
}

/**
 * The chosen metrics of the chosen runs in one query, as step-ordered series per run and name
 * (where a step was recorded twice the later row wins, as in `runMetrics`).
 */
export function metricSeries(db: Db, req: SeriesRequest): Map<number, Map<string, { steps: number[]; values: number[] }>> {
  const out = new Map<number, Map<string, { steps: number[]; values: number[] }>>()
  if (!req.runIds.length || !req.names.length) return out
  const rows = db
    .prepare(
      `SELECT run_id, name, step, value FROM metrics
       WHERE run_id IN (${req.runIds.map(() => '?').join(',')}) AND name IN (${req.names.map(() => '?').join(',')})
       ORDER BY run_id, name, step, rowid`
    )
    .raw()
    .all(...req.runIds, ...req.names) as [number, string, number, number][]
  let series: { steps: number[]; values: number[] } | undefined
  let key = ''
  for (const [runId, name, step, value] of rows) {
    const k = `${runId}\u0000${name}`
    if (k !== key) {
      key = k
      let byName = out.get(runId)
      if (!byName) out.set(runId, (byName = new Map()))
      byName.set(name, (series = { steps: [], values: [] }))
    }
    const n = series!.steps.length
    if (n && series!.steps[n - 1] === step) series!.values[n - 1] = value
    else {
      series!.steps.push(step)
      series!.values.push(value)
    }
  }
  return out
}

/**
 * Why a run stopped with the app, and how to continue it: from its newest checkpoint, or from
 * step 0 with its recorded config when it has none (never started, or stopped before the first).
 */
export function interruptedReason(db: Db, runId: number, was: 'running' | 'queued'): string {
  const ckpt = latestCheckpoint(db, runId)
  const started = (db.prepare('SELECT started_at FROM runs WHERE id = ?').get(runId) as { started_at: string | null } | undefined)?.started_at != null
  if (was === 'running') {
    return ckpt
      ? `the app stopped while this run was running; resume it from step ${ckpt.step}`
      : 'the app stopped while this run was running, before its first checkpoint; resume it to start again from step 0'
  }
  if (!started) return 'the app stopped before this run started; resume it to start from step 0'
  return ckpt ? `the app stopped before this run could resume; resume it from step ${ckpt.step}` : 'the app stopped before this run could start again; resume it to start from step 0'
}

/**
 * Marks runs left 'running' or 'queued' by a process that is gone (`isOrphan` says which): they
 * become 'failed' with a reason that says how to continue them (`interruptedReason`).
 */
export function markInterrupted(db: Db, isOrphan: (runId: number) => boolean): number {
  const rows = db.prepare(`SELECT id, status FROM runs WHERE status IN ('running', 'queued')`).all() as { id: number; status: 'running' | 'queued' }[]
  const update = db.prepare(`UPDATE runs SET status = 'failed', status_reason = ?, finished_at = ? WHERE id = ?`)
  let n = 0
  db.transaction(() => {
    for (const { id, status } of rows) {
      if (!isOrphan(id)) continue
      update.run(interruptedReason(db, id, status), now(), id)
      n++
    }
  })()
  return n
}

export interface RunDeletion {
  /** Inference jobs that used one of the run's checkpoints: kept (their input records the run), unlinked. */
  unlinkedInferenceJobs: number
  /** SHA-256 of the run's checkpoints that inference read (their exported graphs are cached by it). */
  inferredCheckpoints: string[]
}

/**
 * Deletes a run's rows in one transaction: checkpoints, the run, then its metrics (append-only
 * while the run exists, so foreign keys are checked at commit); `deleted_runs` keeps its id and
 * name. Inference jobs that used one of its checkpoints keep their results and lose the link.
 * Refused while such a job is still running.
 */
export function deleteRun(db: Db, runId: number): RunDeletion | null {
  return db.transaction(() => {
    const run = db.prepare('SELECT name FROM runs WHERE id = ?').get(runId) as { name: string } | undefined
    if (!run) return null
    const ofRun = 'SELECT id FROM checkpoints WHERE run_id = ?'
    const busy = db.prepare(`SELECT id FROM inference_jobs WHERE status = 'running' AND checkpoint_id IN (${ofRun})`).get(runId) as { id: number } | undefined
    if (busy) throw new Error(`inference job #${busy.id} is using a checkpoint of run #${runId}: wait for it to finish or cancel it first`)
    const inferred = db
      .prepare(`SELECT DISTINCT json_extract(output_json, '$.checkpoint.sha256') AS sha FROM inference_jobs WHERE checkpoint_id IN (${ofRun}) AND output_json IS NOT NULL`)
      .all(runId) as { sha: string | null }[]
    db.pragma('defer_foreign_keys = ON')
    const unlinked = db.prepare(`UPDATE inference_jobs SET checkpoint_id = NULL WHERE checkpoint_id IN (${ofRun})`).run(runId).changes
    db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId)
    db.prepare('DELETE FROM runs WHERE id = ?').run(runId)
    db.prepare('DELETE FROM metrics WHERE run_id = ?').run(runId)
    db.prepare('INSERT INTO deleted_runs (id, name, deleted_at) VALUES (?, ?, ?)').run(runId, run.name, now())
    return { unlinkedInferenceJobs: unlinked, inferredCheckpoints: inferred.flatMap((r) => (typeof r.sha === 'string' ? [r.sha] : [])) }
  })()
}

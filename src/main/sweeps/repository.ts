// Sweeps in the ledger: one `sweeps` row (spec, ranking metric, status, owner) and one
// `sweep_trials` row per trial (its parameters, its run config, its run and status).
import type { Db } from '../ledger/ledger'
import type { SweepRecord, SweepStatus, SweepTrialRecord, TrialStatus } from '@shared/ipc/schemas/sweeps'
import type { ExpandedSweep } from '@shared/sweeps/spec'

const now = () => new Date().toISOString()

interface SweepRow {
  id: number
  name: string
  spec_json: string
  metric: string
  goal: 'max' | 'min'
  status: SweepStatus
  status_reason: string | null
  owner_pid: number | null
  created_at: string
  finished_at: string | null
}

interface TrialRow {
  sweep_id: number
  idx: number
  params_json: string
  config_json: string
  run_id: number | null
  status: TrialStatus
  status_reason: string | null
}

export interface PendingTrial {
  sweepId: number
  index: number
  config: unknown
}

/** Records a sweep and its trials (all pending) in one transaction. */
export function createSweep(db: Db, s: ExpandedSweep, ownerPid: number): number {
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(`INSERT INTO sweeps (name, spec_json, metric, goal, status, owner_pid, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`)
        .run(s.spec.name, JSON.stringify(s.spec), s.metric, s.goal, ownerPid, now()).lastInsertRowid
    )
    const insert = db.prepare(`INSERT INTO sweep_trials (sweep_id, idx, params_json, config_json, status) VALUES (?, ?, ?, ?, 'pending')`)
    for (const t of s.trials) insert.run(id, t.index, JSON.stringify(t.params), JSON.stringify(t.config))
    return id
  })()
}

export function setSweepStatus(db: Db, id: number, status: SweepStatus, reason: string | null = null): void {
  const finished = status === 'done' || status === 'cancelled'
  db.prepare('UPDATE sweeps SET status = ?, status_reason = ?, finished_at = ? WHERE id = ?').run(status, reason, finished ? now() : null, id)
}

export function setSweepOwner(db: Db, id: number, pid: number): void {
  db.prepare('UPDATE sweeps SET owner_pid = ? WHERE id = ?').run(pid, id)
}

export function setTrial(db: Db, sweepId: number, index: number, p: { status: TrialStatus; reason?: string | null; runId?: number }): void {
  if (p.runId !== undefined) db.prepare('UPDATE sweep_trials SET status = ?, status_reason = ?, run_id = ? WHERE sweep_id = ? AND idx = ?').run(p.status, p.reason ?? null, p.runId, sweepId, index)
  else db.prepare('UPDATE sweep_trials SET status = ?, status_reason = ? WHERE sweep_id = ? AND idx = ?').run(p.status, p.reason ?? null, sweepId, index)
}

/** A finished trial whose run ended again (resumed by hand) takes the run's new outcome; its sweep, or null. */
export function updateFinishedTrialOfRun(db: Db, runId: number, status: TrialStatus, reason: string | null): number | null {
  const row = db.prepare(`SELECT sweep_id, idx, status FROM sweep_trials WHERE run_id = ? AND status IN ('done', 'failed', 'cancelled', 'paused')`).get(runId) as
    | { sweep_id: number; idx: number; status: TrialStatus }
    | undefined
  if (!row || row.status === status) return null
  setTrial(db, row.sweep_id, row.idx, { status, reason })
  return row.sweep_id
}

/** Drops a sweep's pending trials (cancel): they never start. */
export function dropPendingTrials(db: Db, sweepId: number, reason: string): number {
  return db.prepare(`UPDATE sweep_trials SET status = 'cancelled', status_reason = ? WHERE sweep_id = ? AND status = 'pending'`).run(reason, sweepId).changes
}

/** Sweeps not finished, oldest first, with their owner process. */
export function unfinishedSweeps(db: Db): { id: number; ownerPid: number | null }[] {
  return (db.prepare(`SELECT id, owner_pid FROM sweeps WHERE status IN ('queued', 'running') ORDER BY id`).all() as { id: number; owner_pid: number | null }[]).map((r) => ({ id: r.id, ownerPid: r.owner_pid }))
}

/** The trial whose run was training when its driver stopped (at most one per sweep). */
export function runningTrial(db: Db, sweepId: number): { index: number; runId: number | null } | null {
  const r = db.prepare(`SELECT idx, run_id FROM sweep_trials WHERE sweep_id = ? AND status = 'running' ORDER BY idx LIMIT 1`).get(sweepId) as { idx: number; run_id: number | null } | undefined
  return r ? { index: r.idx, runId: r.run_id } : null
}

export function nextPendingTrial(db: Db, sweepId: number): PendingTrial | null {
  const r = db.prepare(`SELECT * FROM sweep_trials WHERE sweep_id = ? AND status = 'pending' ORDER BY idx LIMIT 1`).get(sweepId) as TrialRow | undefined
  return r ? { sweepId, index: r.idx, config: JSON.parse(r.config_json) } : null
}

/** The best value of `metric` a run recorded (its best checkpoint's, as checkpoints are picked by it). */
function bestValue(db: Db, runId: number, metric: string, goal: 'max' | 'min'): number | null {
  const r = db.prepare(`SELECT ${goal === 'max' ? 'MAX' : 'MIN'}(value) AS v FROM metrics WHERE run_id = ? AND name = ?`).get(runId, metric) as { v: number | null }
  return r.v
}

function trialRecord(db: Db, row: TrialRow, metric: string, goal: 'max' | 'min'): SweepTrialRecord {
  const config = JSON.parse(row.config_json) as { steps?: number }
  let step = 0
  let value: number | null = null
  if (row.run_id !== null) {
    step = (db.prepare('SELECT MAX(step) AS s FROM metrics WHERE run_id = ?').get(row.run_id) as { s: number | null }).s ?? 0
    value = bestValue(db, row.run_id, metric, goal)
  }
  return { index: row.idx, params: JSON.parse(row.params_json), runId: row.run_id, status: row.status, statusReason: row.status_reason, step, steps: config.steps ?? 0, value }
}

export function getSweep(db: Db, id: number): SweepRecord | null {
  const row = db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined
  if (!row) return null
  const rows = db.prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY idx').all(id) as TrialRow[]
  const trials = rows.map((r) => trialRecord(db, r, row.metric, row.goal))
  const counts: Record<string, number> = {}
  for (const t of trials) counts[t.status] = (counts[t.status] ?? 0) + 1
  let best: SweepRecord['best'] = null
  for (const t of trials) {
    if (t.value === null || t.runId === null) continue
    if (!best || (row.goal === 'max' ? t.value > best.value : t.value < best.value)) best = { index: t.index, runId: t.runId, value: t.value }
  }
  const spec = JSON.parse(row.spec_json) as { method?: 'grid' | 'random' }
  return {
    id: row.id,
    name: row.name,
    method: spec.method ?? 'grid',
    status: row.status,
    statusReason: row.status_reason,
    metric: row.metric,
    goal: row.goal,
    spec,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    trials,
    counts,
    best
  }
}

export function listSweeps(db: Db): SweepRecord[] {
  return (db.prepare('SELECT id FROM sweeps ORDER BY id DESC').all() as { id: number }[]).map((r) => getSweep(db, r.id)!)
}

// Models in the ledger: one row per checkpoint file content (SHA-256), with what inspection found.
import { basename } from 'node:path'
import type { Db } from '../ledger/ledger'
import type { ModelRecord, ModelSummary } from '@shared/ipc/schemas/models'

interface Row {
  id: number
  name: string
  path: string
  sha256: string
  format: string
  config_json: string
  stats_json: string | null
  param_count: number
  dtype: string
  report_json: string
  source: string
  created_at: string
  card_json: string | null
}

function toRecord(r: Row): ModelRecord {
  return {
    id: r.id,
    name: r.name,
    path: r.path,
    sha256: r.sha256,
    format: r.format,
    config: JSON.parse(r.config_json),
    stats: r.stats_json ? JSON.parse(r.stats_json) : null,
    parameterCount: r.param_count,
    dtype: r.dtype,
    report: JSON.parse(r.report_json),
    source: r.source,
    createdAt: r.created_at,
    card: r.card_json ? JSON.parse(r.card_json) : null
  }
}

export function listModels(db: Db): ModelRecord[] {
  return (db.prepare('SELECT * FROM models ORDER BY created_at DESC, id DESC').all() as Row[]).map(toRecord)
}

export function getModel(db: Db, id: number): ModelRecord | null {
  const row = db.prepare('SELECT * FROM models WHERE id = ?').get(id) as Row | undefined
  return row ? toRecord(row) : null
}

export function findModelBySha(db: Db, sha256: string): ModelRecord | null {
  const row = db.prepare('SELECT * FROM models WHERE sha256 = ?').get(sha256) as Row | undefined
  return row ? toRecord(row) : null
}

/** Records an inspected checkpoint; the same content imported again updates its path and name. */
export function upsertModel(db: Db, summary: ModelSummary, opts: { name?: string; source?: string } = {}): ModelRecord {
  const name = opts.name ?? basename(summary.path)
  db.prepare(
    `INSERT INTO models (name, path, sha256, format, config_json, stats_json, param_count, dtype, report_json, source, created_at, card_json)
     VALUES (@name, @path, @sha256, @format, @config, @stats, @params, @dtype, @report, @source, @now, @card)
     ON CONFLICT (sha256) DO UPDATE SET name = excluded.name, path = excluded.path, config_json = excluded.config_json,
       stats_json = COALESCE(excluded.stats_json, models.stats_json), report_json = excluded.report_json,
       card_json = COALESCE(excluded.card_json, models.card_json)`
  ).run({
    name,
    path: summary.path,
    sha256: summary.sha256,
    format: summary.format,
    config: JSON.stringify(summary.config),
    stats: summary.stats ? JSON.stringify(summary.stats) : null,
    params: summary.parameterCount,
    dtype: summary.dtype,
    report: JSON.stringify(summary.report),
    source: opts.source ?? 'imported',
    now: new Date().toISOString(),
    card: summary.card ? JSON.stringify(summary.card) : null
  })
  return findModelBySha(db, summary.sha256)!
}

export function removeModel(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0
}

/**
 * A new app version ships a new demo model at the same path: older demo rows no longer describe
 * that file. They are deleted when nothing refers to them, else renamed so old runs keep their link.
 */
export function retireOldDemoModels(db: Db, source: string, currentSha: string): void {
  const old = db.prepare('SELECT id, name, sha256 FROM models WHERE source = ? AND sha256 != ?').all(source, currentSha) as { id: number; name: string; sha256: string }[]
  for (const m of old) {
    const used = db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM runs WHERE model_id = @id) + (SELECT COUNT(*) FROM reconstruction_studies WHERE model_id = @id)
              + (SELECT COUNT(*) FROM inference_jobs WHERE model_id = @id) AS n`
      )
      .get({ id: m.id }) as { n: number }
    if (used.n === 0) db.prepare('DELETE FROM models WHERE id = ?').run(m.id)
    else db.prepare("UPDATE models SET name = ?, source = 'demo-superseded' WHERE id = ?").run(`${m.name.replace(/ \(.*$/, '')} (superseded, ${m.sha256.slice(0, 12)})`, m.id)
  }
}

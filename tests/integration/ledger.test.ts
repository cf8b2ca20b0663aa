import { afterEach, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { LATEST_SCHEMA_VERSION, LEDGER_FILE, LedgerError, openLedger } from '@main/ledger/ledger'
import { migrations } from '@main/ledger/migrations'
import { tempHome } from '../support/temp-home'

const homes: { remove(): void }[] = []
function home() {
  const h = tempHome()
  homes.push(h)
  return h.dir
}
afterEach(() => homes.splice(0).forEach((h) => h.remove()))

describe('ledger', () => {
  it('builds the whole schema from an empty folder, in WAL mode, with STRICT tables', () => {
    const dir = home()
    const ledger = openLedger(dir)
    expect(ledger.schemaVersion).toBe(LATEST_SCHEMA_VERSION)
    expect(ledger.db.pragma('journal_mode', { simple: true })).toBe('wal')
    const tables = ledger.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as { name: string; sql: string }[]
    const names = tables.map((t) => t.name)
    for (const t of ['models', 'datasets', 'images', 'tiles', 'labels', 'annotations', 'dataset_versions', 'runs', 'metrics', 'checkpoints', 'reconstruction_studies', 'reconstruction_results', 'inference_jobs', 'schema_migrations']) {
      expect(names).toContain(t)
      expect(tables.find((x) => x.name === t)!.sql).toMatch(/STRICT$/)
    }
    const applied = ledger.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]
    expect(applied.map((r) => r.version)).toEqual(migrations.map((m) => m.version))
    ledger.close()
    // Re-opening applies nothing twice.
    const again = openLedger(dir)
    expect((again.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(migrations.length)
    again.close()
  })

  it('keeps metrics append-only', () => {
    const ledger = openLedger(home())
    const now = new Date().toISOString()
    const run = ledger.db
      .prepare("INSERT INTO runs (name, task, status, config_json, seed, app_version, created_at) VALUES ('r', 'classification', 'running', '{}', 1, '0', ?)")
      .run(now)
    ledger.db.prepare('INSERT INTO metrics (run_id, step, name, value, recorded_at) VALUES (?, 1, ?, 0.5, ?)').run(run.lastInsertRowid, 'loss', now)
    expect(() => ledger.db.prepare('UPDATE metrics SET value = 0').run()).toThrow(/append-only/)
    expect(() => ledger.db.prepare('DELETE FROM metrics').run()).toThrow(/append-only/)
    ledger.close()
  })

  it('refuses a ledger written by a newer schema, without touching it', () => {
    const dir = home()
    openLedger(dir).close()
    const raw = new Database(join(dir, LEDGER_FILE))
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 'x')").run(LATEST_SCHEMA_VERSION + 5)
    raw.close()
    let error: unknown
    try {
      openLedger(dir)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(LedgerError)
    expect((error as LedgerError).code).toBe('newer-schema')
    expect((error as Error).message).toMatch(/newer MarsFM Workstation/)
    const check = new Database(join(dir, LEDGER_FILE))
    expect((check.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(LATEST_SCHEMA_VERSION + 5)
    check.close()
  })

  it('rolls back a failing migration and stops there', () => {
    const dir = home()
    const broken = [
      ...migrations,
      { version: 900, name: 'adds a table', up: (db: Database.Database) => db.exec('CREATE TABLE extra (x INTEGER) STRICT') },
      {
        version: 901,
        name: 'breaks halfway',
        up: (db: Database.Database) => {
          db.exec('CREATE TABLE half (x INTEGER) STRICT')
          db.exec('THIS IS NOT SQL')
        }
      }
    ]
    expect(() => openLedger(dir, { migrations: broken })).toThrow(/migration 901 \(breaks halfway\) failed/)
    const raw = new Database(join(dir, LEDGER_FILE))
    const names = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name)
    expect(names).toContain('extra')
    expect(names).not.toContain('half')
    expect((raw.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(900)
    raw.close()
  })
})

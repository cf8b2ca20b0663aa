// The experiment ledger: one SQLite file (WAL) owned by the main process. Opening it brings the
// schema up to date; a file written by a newer MarsFM is refused rather than guessed at.
import Database from 'better-sqlite3'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { LATEST_SCHEMA_VERSION, migrations, type Migration } from './migrations'

export type Db = Database.Database

export class LedgerError extends Error {
  constructor(message: string, readonly code: 'newer-schema' | 'migration-failed' | 'open-failed') {
    super(message)
    this.name = 'LedgerError'
  }
}

export interface Ledger {
  db: Db
  path: string
  schemaVersion: number
  sizeBytes(): number
  close(): void
}

export const LEDGER_FILE = 'ledger.sqlite'

export function openLedger(dataDir: string, opts: { migrations?: readonly Migration[] } = {}): Ledger {
  const path = join(dataDir, LEDGER_FILE)
  mkdirSync(dirname(path), { recursive: true })
  let db: Db
  try {
    // The desktop app runs under Electron's ABI and brings its own build of the addon.
    const nativeBinding = process.env.MARSFM_SQLITE_BINDING
    db = new Database(path, nativeBinding ? { nativeBinding } : {})
  } catch (err) {
    throw new LedgerError(`cannot open the ledger at ${path}: ${(err as Error).message}`, 'open-failed')
  }
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    const schemaVersion = migrate(db, opts.migrations ?? migrations)
    return {
      db,
      path,
      schemaVersion,
      sizeBytes: () => fileSize(path) + fileSize(`${path}-wal`),
      close: () => db.close()
    }
  } catch (err) {
    db.close()
    throw err
  }
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0
}

/** Applies the pending migrations; returns the resulting schema version. */
export function migrate(db: Db, list: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`)
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
  const latest = list.length ? list[list.length - 1]!.version : 0
  if (current > latest) {
    throw new LedgerError(
      `this ledger was written by a newer MarsFM Workstation (schema ${current}; this version knows up to ${latest}). ` +
        'Update the app, or point MARSFM_HOME at another folder.',
      'newer-schema'
    )
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  for (const m of list) {
    if (m.version <= current) continue
    try {
      db.transaction(() => {
        m.up(db)
        record.run(m.version, m.name, new Date().toISOString())
      })()
    } catch (err) {
      throw new LedgerError(`ledger migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, 'migration-failed')
    }
  }
  return Math.max(current, latest)
}

export { LATEST_SCHEMA_VERSION }

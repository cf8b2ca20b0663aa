// Shared checks for the hostile-input corpus (tests/hostile/*.test.ts). Every bad input must get a
// clear error that names the file or field, leave the ledger intact (integrity check, row counts),
// leave no file behind, and echo no file content. Each corpus file records its cases here and prints
// its counts per category in an afterAll (printTally), for the closing note.

import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'vitest'

export type Outcome = 'clear-error' | 'handled' | 'crash' | 'hang' | 'silent-acceptance' | 'content-echo'

export interface CaseRecord {
  category: string
  name: string
  outcome: Outcome
}

// vitest runs each file in its own worker: the tally is per file, printed by that file's afterAll.
const records: CaseRecord[] = []

export function record(category: string, name: string, outcome: Outcome): void {
  records.push({ category, name, outcome })
}

export function tally(): Record<string, Record<Outcome, number>> {
  const out: Record<string, Record<Outcome, number>> = {}
  for (const r of records) {
    const row = (out[r.category] ??= { 'clear-error': 0, handled: 0, crash: 0, hang: 0, 'silent-acceptance': 0, 'content-echo': 0 })
    row[r.outcome]++
  }
  return out
}

/** Prints this file's counts per category (one line each) for the closing note. */
export function printTally(file: string): void {
  for (const [category, counts] of Object.entries(tally())) {
    const parts = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
    console.log(`hostile ${file} ${category}: ${parts.join(', ')}`)
  }
}

export interface LedgerSnapshot {
  integrity: string
  counts: Record<string, number>
}

/** Integrity check and row counts of every table of a ledger file (read-only; absent file → empty). */
export function ledgerSnapshot(path: string): LedgerSnapshot {
  if (!existsSync(path)) return { integrity: 'absent', counts: {} }
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown'
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
    const counts: Record<string, number> = {}
    for (const { name } of tables) counts[name] = (db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n
    return { integrity, counts }
  } finally {
    db.close()
  }
}

/** The ledger is intact and, except for the tables named in `changed`, holds the same rows. */
export function expectLedgerUnchanged(before: LedgerSnapshot, after: LedgerSnapshot, changed: string[] = []): void {
  expect(after.integrity === 'ok' || after.integrity === 'absent').toBe(true)
  const strip = (c: Record<string, number>) => Object.fromEntries(Object.entries(c).filter(([k]) => !changed.includes(k)))
  expect(strip(after.counts)).toEqual(strip(before.counts))
}

/** Every file below `dir`, relative to it (for "no file left behind"). */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      let st
      try {
        st = statSync(p, { throwIfNoEntry: false })
      } catch {
        st = lstatSync(p) // a symbolic link loop (ELOOP) is listed as itself, not followed
      }
      if (!st) continue
      if (st.isDirectory()) walk(p)
      else out.push(relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

/** Leftover temporary files (`*.tmp`, `*.part`) below `dir`. */
export function tempLeftovers(dir: string): string[] {
  return listFiles(dir).filter((f) => /\.(tmp|part)$/.test(f) || /\.tmp[-.]/.test(f))
}

/**
 * A clear, specific error: names what it is about (a file name or a field) and echoes none of the
 * secret text planted in the input (`secret`), which stands for file content an attacker wants.
 */
export function expectClearError(message: string, opts: { names?: string | RegExp; secret?: string } = {}): void {
  expect(message.length).toBeGreaterThan(0)
  expect(message.length).toBeLessThan(2000) // a sentence, not a dump
  if (opts.names !== undefined) {
    if (typeof opts.names === 'string') expect(message).toContain(opts.names)
    else expect(message).toMatch(opts.names)
  }
  if (opts.secret) expect(message).not.toContain(opts.secret)
}

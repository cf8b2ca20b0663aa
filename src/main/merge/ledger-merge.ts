// Merging other ledgers into this one (`marsfm ledger merge HOME…`): the runs a Slurm array made,
// one MARSFM_HOME per task, come back with their metrics, their checkpoint files (copied into
// this data folder) and the models and dataset versions they cite. Ids are remapped (every home
// numbers its runs from 1); a run is known by its uuid, so merging the same home twice adds
// nothing. Each run is one transaction: a run that cannot be merged (a checkpoint file missing)
// leaves nothing behind and the others go on.
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, sep } from 'node:path'
import Database from 'better-sqlite3'
import type { Db } from '../ledger/ledger'
import { LATEST_SCHEMA_VERSION, LEDGER_FILE } from '../ledger/ledger'
import { NEXT_RUN_ID } from '../runs/repository'
import { EXPORT_MARKER } from '../datasets/exporter'

export interface HomeMergeReport {
  home: string
  runsAdded: number
  /** Runs this ledger already has (same uuid): merging twice adds nothing. */
  runsAlready: number
  metrics: number
  checkpoints: number
  modelsAdded: number
  versionsAdded: number
  /** Runs left out on purpose (still running or queued there). */
  skipped: string[]
  /** Runs (or the whole home) that could not be merged, with the reason; nothing of them was written. */
  failed: string[]
  /** source run id → id in this ledger, for the runs added. */
  idMap: Record<number, number>
}

type Row = Record<string, unknown>

/** The ledger file of a home folder (or the file itself). */
function ledgerFileOf(home: string): string {
  if (!existsSync(home)) throw new Error(`${home} does not exist`)
  return statSync(home).isDirectory() ? join(home, LEDGER_FILE) : home
}

function columnsOf(db: Db, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name)
}

/** Inserts a copy of `row` into `table` with the columns both ledgers have (less `omit`), with `over` applied. */
function insertCopy(db: Db, table: string, row: Row, over: Row = {}, omit: string[] = ['id']): number {
  const target = new Set(columnsOf(db, table))
  const values: Row = { ...row, ...over }
  const cols = Object.keys(values).filter((c) => target.has(c) && !omit.includes(c))
  const info = db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(Object.fromEntries(cols.map((c) => [c, values[c]])))
  return Number(info.lastInsertRowid)
}

/** A run's identity across ledgers: its uuid, or for a ledger older than uuids one derived from what the run is. */
function runUuid(run: Row): string {
  if (typeof run.uuid === 'string' && run.uuid) return run.uuid
  return `legacy-${createHash('sha256').update(JSON.stringify([run.created_at, run.name, run.config_json, run.model_hash, run.seed])).digest('hex').slice(0, 32)}`
}

/** Where a checkpoint file is now: where it was written, or the same place under the home (a home copied back from a cluster). */
function checkpointFile(path: string, home: string, runId: number): string | null {
  if (existsSync(path)) return path
  const marker = `${sep}runs${sep}${runId}${sep}`
  const at = path.lastIndexOf(marker)
  if (at >= 0) {
    const moved = join(home, 'runs', String(runId), path.slice(at + marker.length))
    if (existsSync(moved)) return moved
  }
  return null
}

class HomeMerger {
  readonly report: HomeMergeReport
  private readonly models = new Map<number, number>()
  private readonly versions = new Map<number, number>()

  constructor(
    private readonly src: Db,
    private readonly dst: Db,
    private readonly home: string,
    private readonly dataDir: string
  ) {
    this.report = { home, runsAdded: 0, runsAlready: 0, metrics: 0, checkpoints: 0, modelsAdded: 0, versionsAdded: 0, skipped: [], failed: [], idMap: {} }
  }

  /** The model's id here: the same weights (sha256) if this ledger has them, else a copy of its row. */
  private model(id: number | null): number | null {
    if (id === null) return null
    const known = this.models.get(id)
    if (known !== undefined) return known
    const row = this.src.prepare('SELECT * FROM models WHERE id = ?').get(id) as Row | undefined
    if (!row) return null
    const here = this.dst.prepare('SELECT id FROM models WHERE sha256 = ?').get(row.sha256) as { id: number } | undefined
    const mapped = here ? here.id : insertCopy(this.dst, 'models', row)
    if (!here) this.report.modelsAdded++
    this.models.set(id, mapped)
    return mapped
  }

  /** The dataset version's id here: the same content (hash) if present, else its dataset (by name) and a copy of the version. */
  private version(id: number | null): number | null {
    if (id === null) return null
    const known = this.versions.get(id)
    if (known !== undefined) return known
    const row = this.src.prepare('SELECT * FROM dataset_versions WHERE id = ?').get(id) as Row | undefined
    if (!row) return null
    const here = this.dst.prepare('SELECT id FROM dataset_versions WHERE content_hash = ?').get(row.content_hash) as { id: number } | undefined
    let mapped: number
    if (here) mapped = here.id
    else {
      const dataset = this.src.prepare('SELECT * FROM datasets WHERE id = ?').get(row.dataset_id) as Row
      const existing = this.dst.prepare('SELECT id FROM datasets WHERE name = ?').get(dataset.name) as { id: number } | undefined
      const datasetId = existing ? existing.id : insertCopy(this.dst, 'datasets', dataset)
      // Keep its number when free; versions of one dataset are numbered once, in order.
      const taken = this.dst.prepare('SELECT 1 FROM dataset_versions WHERE dataset_id = ? AND version = ?').get(datasetId, row.version)
      const number = taken ? ((this.dst.prepare('SELECT MAX(version) AS v FROM dataset_versions WHERE dataset_id = ?').get(datasetId) as { v: number }).v + 1) : row.version
      const note = `${row.note ? `${String(row.note)} ` : ''}(merged from ${this.home}, version ${String(row.version)})`
      mapped = insertCopy(this.dst, 'dataset_versions', row, { dataset_id: datasetId, version: number, note })
      this.report.versionsAdded++
    }
    this.versions.set(id, mapped)
    return mapped
  }

  /**
   * A run that trained on an exported dataset version (a Slurm task trains on `DIR/data/version-…`,
   * its ledger knows no versions) belongs to that version here when this ledger has its content.
   */
  private versionOfExport(configJson: string): number | null {
    const data = (JSON.parse(configJson) as { data?: { kind?: string; path?: string } }).data
    if (data?.kind !== 'folder' || typeof data.path !== 'string') return null
    const marker = join(data.path, EXPORT_MARKER)
    if (!existsSync(marker)) return null
    try {
      const hash = (JSON.parse(readFileSync(marker, 'utf8')) as { contentHash?: unknown }).contentHash
      if (typeof hash !== 'string') return null
      return (this.dst.prepare('SELECT id FROM dataset_versions WHERE content_hash = ?').get(hash) as { id: number } | undefined)?.id ?? null
    } catch {
      return null
    }
  }

  /** The run's config with the model and dataset-version ids of this ledger. */
  private remapConfig(json: string): string {
    const config = JSON.parse(json) as { model?: { id?: number }; data?: { kind?: string; id?: number } }
    if (config.model && typeof config.model.id === 'number') config.model = { ...config.model, id: this.model(config.model.id) ?? config.model.id }
    if (config.data?.kind === 'dataset-version' && typeof config.data.id === 'number') config.data = { ...config.data, id: this.version(config.data.id) ?? config.data.id }
    return JSON.stringify(config)
  }

  mergeRun(run: Row): void {
    const srcId = run.id as number
    const uuid = runUuid(run)
    if (this.dst.prepare('SELECT 1 FROM runs WHERE uuid = ?').get(uuid)) {
      this.report.runsAlready++
      return
    }
    if (run.status === 'running' || run.status === 'queued') {
      this.report.skipped.push(`run #${srcId} "${String(run.name)}" is ${String(run.status)} there: merge it when it has finished`)
      return
    }
    const checkpoints = this.src.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY id').all(srcId) as Row[]
    const files = checkpoints.map((c) => checkpointFile(c.path as string, this.home, srcId))
    const missing = checkpoints.findIndex((_, i) => files[i] === null)
    if (missing >= 0) throw new Error(`run #${srcId}: its checkpoint at step ${String(checkpoints[missing]!.step)} is missing (${String(checkpoints[missing]!.path)})`)

    let runDir: string | null = null
    try {
      this.dst.transaction(() => {
        const newId = (this.dst.prepare(`SELECT ${NEXT_RUN_ID} AS id`).get() as { id: number }).id
        runDir = join(this.dataDir, 'runs', String(newId))
        const modelId = this.model((run.model_id as number | null) ?? null)
        const versionId = this.version((run.dataset_version_id as number | null) ?? null) ?? this.versionOfExport(run.config_json as string)
        insertCopy(this.dst, 'runs', run, { id: newId, uuid, model_id: modelId, dataset_version_id: versionId, config_json: this.remapConfig(run.config_json as string) }, [])
        const metrics = this.src.prepare('SELECT step, name, value, recorded_at FROM metrics WHERE run_id = ? ORDER BY rowid').all(srcId) as Row[]
        const addMetric = this.dst.prepare('INSERT INTO metrics (run_id, step, name, value, recorded_at) VALUES (?, ?, ?, ?, ?)')
        for (const m of metrics) addMetric.run(newId, m.step, m.name, m.value, m.recorded_at)
        this.report.metrics += metrics.length
        mkdirSync(join(runDir, 'checkpoints'), { recursive: true })
        checkpoints.forEach((c, i) => {
          const to = join(runDir!, 'checkpoints', basename(files[i]!))
          copyFileSync(files[i]!, to)
          insertCopy(this.dst, 'checkpoints', c, { run_id: newId, path: to })
        })
        this.report.checkpoints += checkpoints.length
        // Its train-job params, so a paused or failed run can be resumed here too.
        const params = join(this.home, 'runs', String(srcId), 'params.json')
        if (existsSync(params)) {
          const p = JSON.parse(readFileSync(params, 'utf8')) as Row
          delete p.resumeFrom
          writeFileSync(join(runDir, 'params.json'), JSON.stringify({ ...p, runId: newId, runDir }, null, 2))
        }
        this.report.idMap[srcId] = newId
        this.report.runsAdded++
      })()
    } catch (err) {
      if (runDir) rmSync(runDir, { recursive: true, force: true })
      throw err
    }
  }
}

/** Merges each home's runs into `dst`; one report per home, in order. */
export function mergeLedgers(dst: Db, dataDir: string, homes: string[]): HomeMergeReport[] {
  const reports: HomeMergeReport[] = []
  const self = realpathSync(join(dataDir, LEDGER_FILE))
  for (const home of homes) {
    let src: Db | null = null
    try {
      const file = ledgerFileOf(home)
      if (!existsSync(file)) throw new Error(`${home} holds no ledger (${LEDGER_FILE})`)
      if (realpathSync(file) === self) throw new Error(`${home} is this ledger itself`)
      // Read-only: the home is left exactly as it was (the desktop app brings its own addon build).
      const nativeBinding = process.env.MARSFM_SQLITE_BINDING
      src = new Database(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) })
      const version = (src.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
      if (version > LATEST_SCHEMA_VERSION) throw new Error(`${home} was written by a newer MarsFM Workstation (ledger schema ${version}; this one knows ${LATEST_SCHEMA_VERSION})`)
      const homeDir = statSync(home).isDirectory() ? home : join(file, '..')
      const merger = new HomeMerger(src, dst, homeDir, dataDir)
      for (const run of src.prepare('SELECT * FROM runs ORDER BY id').all() as Row[]) {
        try {
          merger.mergeRun(run)
        } catch (err) {
          merger.report.failed.push((err as Error).message)
        }
      }
      reports.push(merger.report)
    } catch (err) {
      reports.push({ home, runsAdded: 0, runsAlready: 0, metrics: 0, checkpoints: 0, modelsAdded: 0, versionsAdded: 0, skipped: [], failed: [(err as Error).message], idMap: {} })
    } finally {
      src?.close()
    }
  }
  return reports
}

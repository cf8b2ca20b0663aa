// The experiments table as data: each run's model and data by name (never an id or a hash), its
// duration, and the table's filter and sort. Pure, so the view, the CSV export and the tests agree.
import type { RunRecord } from '../ipc/schemas/runs'
import { configDiff, flattenConfig, type DiffRow } from '../training/config-diff'

/** The model a run used, as the user knows it. */
export function modelLabel(run: Pick<RunRecord, 'modelName' | 'modelId' | 'config'>): string {
  if (run.modelName) return run.modelName
  const m = ((run.config as { model?: unknown }).model ?? {}) as { id?: number; demo?: true | 'crater'; path?: string; random?: unknown }
  if (m.demo) return m.demo === 'crater' ? 'demo crater encoder' : 'demo model'
  if (m.path) return m.path.split(/[\\/]/).pop()!
  if (m.random) return 'random weights'
  return run.modelId !== null ? `model #${run.modelId}` : '–'
}

/** The data a run trained on: the dataset version's name, else the folder. */
export function dataLabel(run: Pick<RunRecord, 'datasetName' | 'config'>): string {
  if (run.datasetName) return run.datasetName
  const d = ((run.config as { data?: unknown }).data ?? {}) as { kind?: string; id?: number; path?: string }
  if (d.kind === 'dataset-version') return `dataset version #${d.id}`
  return d.path ?? '–'
}

/** Seconds from start to finish (to `now` while it runs); null when it never started. */
export function runDurationSeconds(run: Pick<RunRecord, 'startedAt' | 'finishedAt'>, now = Date.now()): number | null {
  if (!run.startedAt) return null
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now
  return Math.max(0, (end - Date.parse(run.startedAt)) / 1000)
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`
}

/** The config keys as the diff and the parallel coordinates show them (model and data by name). */
export function flatConfigOf(run: RunRecord): Map<string, string> {
  return flattenConfig(run.config, { model: () => modelLabel(run), data: () => dataLabel(run) })
}

/**
 * Filter text: every whitespace-separated word must match (case-insensitive) the run's id, name,
 * status, tags, model, data or a config value; `tag:x` matches a tag exactly, `key=value` a config key.
 */
export function matchesFilter(run: RunRecord, filter: string): boolean {
  const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean)
  if (!words.length) return true
  const flat = flatConfigOf(run)
  const hay = [`#${run.id}`, run.name, run.status, run.task, ...run.tags, modelLabel(run), dataLabel(run), ...flat.values()].join('\n').toLowerCase()
  return words.every((w) => {
    if (w.startsWith('tag:')) return run.tags.some((t) => t.toLowerCase() === w.slice(4))
    const eq = w.indexOf('=')
    if (eq > 0) return (flat.get(w.slice(0, eq)) ?? '').toLowerCase() === w.slice(eq + 1)
    return hay.includes(w)
  })
}

export type SortValue = string | number | null | undefined

/** Sorted copy: numbers numerically, text naturally, missing values last in both directions. */
export function sortRuns<T>(rows: readonly T[], valueOf: (row: T) => SortValue, direction: 'asc' | 'desc'): T[] {
  const sign = direction === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => {
    const x = valueOf(a)
    const y = valueOf(b)
    const xm = x === null || x === undefined || (typeof x === 'number' && !Number.isFinite(x))
    const ym = y === null || y === undefined || (typeof y === 'number' && !Number.isFinite(y))
    if (xm || ym) return xm === ym ? 0 : xm ? 1 : -1
    if (typeof x === 'number' && typeof y === 'number') return sign * (x - y)
    return sign * String(x).localeCompare(String(y), undefined, { numeric: true })
  })
}

/**
 * A run's config as raw values by dotted key (numbers stay numbers, for numeric axes), the model
 * and data by name, arrays as JSON; the run's own name is left out (it is no setting).
 */
export function configValues(run: RunRecord): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {}
  const walk = (v: unknown, prefix: string) => {
    if (prefix === 'name') return
    if (prefix === 'model') return void (out[prefix] = modelLabel(run))
    if (prefix === 'data') return void (out[prefix] = dataLabel(run))
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, prefix ? `${prefix}.${k}` : k)
    } else if (prefix) out[prefix] = typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null ? v : JSON.stringify(v)
  }
  walk(run.config, '')
  return out
}

/** The settings that differ between runs (model and data by each run's own names). */
export function runConfigDiff(runs: readonly RunRecord[]): DiffRow[] {
  return configDiff(runs.map((r) => ({ ...(r.config as object), model: modelLabel(r), data: dataLabel(r) })))
}

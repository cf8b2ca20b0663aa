// What differs between run configs: flattened dotted keys ("optimizer.lr", "checkpoint.bestMetric"),
// only those whose values differ, side by side. The model and the data are single keys shown by
// name (a model's or dataset version's name, a folder's path), never as ids or hashes.

export interface DiffNames {
  /** A run config's `model` as the user knows it. */
  model?: (model: unknown) => string
  /** A run config's `data` as the user knows it. */
  data?: (data: unknown) => string
}

/** Keys that differ between every run by design and say nothing about its setting. */
const IGNORED = new Set(['name'])

function display(v: unknown): string {
  if (v === undefined) return '–'
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

/** Flattens an object into dotted keys; arrays and leaves are values. */
export function flattenConfig(config: unknown, names: DiffNames = {}): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (v: unknown, prefix: string) => {
    if (prefix === 'model' && names.model) return void out.set(prefix, names.model(v))
    if (prefix === 'data' && names.data) return void out.set(prefix, names.data(v))
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, prefix ? `${prefix}.${k}` : k)
    } else if (prefix) out.set(prefix, display(v))
  }
  walk(config, '')
  for (const k of IGNORED) out.delete(k)
  return out
}

export interface DiffRow {
  key: string
  /** One per config, in the order given ("–" where a config lacks the key). */
  values: string[]
}

/** The keys whose values differ between the configs (a key missing from some counts as differing), sorted. */
export function configDiff(configs: readonly unknown[], names: DiffNames = {}): DiffRow[] {
  const flat = configs.map((c) => flattenConfig(c, names))
  const keys = new Set(flat.flatMap((f) => [...f.keys()]))
  const rows: DiffRow[] = []
  for (const key of [...keys].sort()) {
    const values = flat.map((f) => f.get(key) ?? '–')
    if (values.some((v) => v !== values[0])) rows.push({ key, values })
  }
  return rows
}

// Grouping runs by a config key (lr, backbone, positive class, …) and summarising each group's
// metric curves as mean ± standard deviation across its runs (typically seeds). Pure.
import { flattenConfig } from '../training/config-diff'

export interface GroupableRun {
  id: number
  config: unknown
}

export interface RunGroup {
  /** The key's value shared by the group ("–" where a run's config lacks the key). */
  value: string
  runIds: number[]
}

/** Groups runs by one dotted config key, groups in natural order of their values ("–" last). */
export function groupRuns(runs: readonly GroupableRun[], key: string): RunGroup[] {
  const groups = new Map<string, number[]>()
  for (const r of runs) {
    const v = flattenConfig(r.config).get(key) ?? '–'
    let g = groups.get(v)
    if (!g) groups.set(v, (g = []))
    g.push(r.id)
  }
  return [...groups.entries()].sort(([a], [b]) => compareValues(a, b)).map(([value, runIds]) => ({ value, runIds }))
}

/** Numbers by value ("0.001" before "0.01"), text naturally, "–" (missing) last. */
export function compareValues(a: string, b: string): number {
  if (a === '–' || b === '–') return a === b ? 0 : a === '–' ? 1 : -1
  const x = Number(a)
  const y = Number(b)
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y
  return a.localeCompare(b, undefined, { numeric: true })
}

/** Dotted config keys present in any run (candidates for "group by"), sorted. */
export function configKeys(runs: readonly GroupableRun[]): string[] {
  const keys = new Set<string>()
  for (const r of runs) for (const k of flattenConfig(r.config).keys()) keys.add(k)
  return [...keys].sort()
}

export interface StepSeries {
  steps: readonly number[]
  values: readonly number[]
}

export interface Band {
  steps: number[]
  mean: number[]
  /** Sample standard deviation (n − 1); 0 where only one run covers the step. */
  std: number[]
  /** Runs that cover each step. */
  n: number[]
}

/** A series' value at x by linear interpolation; null outside its recorded range. */
export function valueAt(s: StepSeries, x: number): number | null {
  const { steps, values } = s
  if (!steps.length || x < steps[0]! || x > steps[steps.length - 1]!) return null
  let lo = 0
  let hi = steps.length - 1
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (steps[mid]! <= x) lo = mid
    else hi = mid
  }
  if (steps[lo] === x) return values[lo]!
  if (steps[hi] === x) return values[hi]!
  const t = (x - steps[lo]!) / (steps[hi]! - steps[lo]!)
  return values[lo]! + t * (values[hi]! - values[lo]!)
}

/**
 * Mean ± std of several runs' curves at every step any of them recorded. Runs logged at different
 * steps (or downsampled differently) are interpolated linearly; a run counts only within its own
 * range, so a shorter run never drags the tail.
 */
export function meanStdBand(series: readonly StepSeries[]): Band {
  const steps = [...new Set(series.flatMap((s) => s.steps))].sort((a, b) => a - b)
  const band: Band = { steps: [], mean: [], std: [], n: [] }
  for (const x of steps) {
    const ys = series.map((s) => valueAt(s, x)).filter((y): y is number => y !== null)
    if (!ys.length) continue
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length
    const variance = ys.length > 1 ? ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1) : 0
    band.steps.push(x)
    band.mean.push(mean)
    band.std.push(Math.sqrt(variance))
    band.n.push(ys.length)
  }
  return band
}

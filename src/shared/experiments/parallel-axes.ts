// Parallel coordinates as geometry: each hyper-parameter (and the chosen metric, last) is a vertical
// axis; a run is a polyline through its value on each axis. Numeric axes are linear (log when
// every value is positive and they span two decades or more, as learning rates do); categorical
// axes (strings, booleans, mixed) place their distinct values evenly, sorted. Pure: no DOM.

import { compareValues } from './grouping'

export type AxisValue = number | string | boolean | null | undefined

export interface ParallelRun {
  id: number
  name: string
  /** Hyper-parameter values by axis key (dotted config keys). */
  values: Record<string, AxisValue>
  /** The chosen metric's value (null: not recorded). */
  metric: number | null
}

export type Axis =
  | { key: string; kind: 'numeric'; min: number; max: number; log: boolean; ticks: { label: string; at: number }[] }
  | { key: string; kind: 'categorical'; categories: string[]; ticks: { label: string; at: number }[] }

const label = (v: AxisValue): string => (v === null || v === undefined ? '–' : typeof v === 'number' ? formatNumber(v) : String(v))

export function formatNumber(v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  return a >= 1e4 || a < 1e-2 ? v.toExponential(1) : Number(v.toPrecision(3)).toString()
}

/** One axis over the values the runs take (missing values sit at the bottom of a categorical axis as "–"). */
export function buildAxis(key: string, values: readonly AxisValue[]): Axis {
  const present = values.filter((v) => v !== null && v !== undefined)
  if (present.length && present.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const nums = present as number[]
    let min = Math.min(...nums)
    let max = Math.max(...nums)
    const log = min > 0 && max / min >= 100
    if (min === max) {
      min -= Math.abs(min) * 0.5 || 1
      max += Math.abs(max) * 0.5 || 1
    }
    const axis = { key, kind: 'numeric' as const, min, max, log, ticks: [] as { label: string; at: number }[] }
    axis.ticks = [0, 0.5, 1].map((t) => ({ at: t, label: formatNumber(invert(axis, t)) }))
    return axis
  }
  // Missing values at the bottom, then numbers by value and text naturally.
  const categories = [...new Set(values.map(label))].sort((a, b) => (a === '–' ? -1 : b === '–' ? 1 : compareValues(a, b)))
  const at = (i: number) => (categories.length === 1 ? 0.5 : i / (categories.length - 1))
  return { key, kind: 'categorical', categories, ticks: categories.map((c, i) => ({ label: c, at: at(i) })) }
}

/** Position of a value on an axis in [0, 1] (0 = bottom); null when a numeric axis has no value. */
export function position(axis: Axis, v: AxisValue): number | null {
  if (axis.kind === 'categorical') {
    const i = axis.categories.indexOf(label(v))
    if (i < 0) return null
    return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1)
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return null
  if (axis.log) return (Math.log(v) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min))
  return (v - axis.min) / (axis.max - axis.min)
}

function invert(axis: Extract<Axis, { kind: 'numeric' }>, t: number): number {
  return axis.log ? Math.exp(Math.log(axis.min) + t * (Math.log(axis.max) - Math.log(axis.min))) : axis.min + t * (axis.max - axis.min)
}

export interface ParallelLayout {
  axes: Axis[]
  /** Per run: one y in [0, 1] per axis (null where the run has no value), and its colour's t in [0, 1]. */
  lines: { id: number; name: string; ys: (number | null)[]; colorT: number | null; metric: number | null }[]
}

/** Axes for the given keys plus the metric axis (last), and each run's polyline. */
export function parallelLayout(runs: readonly ParallelRun[], keys: readonly string[], metricKey: string): ParallelLayout {
  const axes = keys.map((k) => buildAxis(k, runs.map((r) => r.values[k])))
  const metricAxis = buildAxis(metricKey, runs.map((r) => r.metric))
  const all = [...axes, metricAxis]
  const metricValues = runs.map((r) => r.metric).filter((m): m is number => m !== null && Number.isFinite(m))
  const lo = Math.min(...metricValues)
  const hi = Math.max(...metricValues)
  return {
    axes: all,
    lines: runs.map((r) => ({
      id: r.id,
      name: r.name,
      metric: r.metric,
      ys: [...keys.map((k, i) => position(axes[i]!, r.values[k])), position(metricAxis, r.metric)],
      colorT: r.metric === null || !Number.isFinite(r.metric) ? null : hi > lo ? (r.metric - lo) / (hi - lo) : 0.5
    }))
  }
}

/** Keys whose values differ between runs: the hyper-parameters worth an axis. */
export function varyingKeys(runs: readonly ParallelRun[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.values)))
  return [...keys].filter((k) => new Set(runs.map((r) => label(r.values[k]))).size > 1).sort()
}

// A perceptual ramp (viridis-like, dark purple → yellow) for colouring by metric.
const RAMP: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37]
]

export function rampColor(t: number | null): string {
  if (t === null) return '#6b7080'
  const x = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1)
  const i = Math.min(Math.floor(x), RAMP.length - 2)
  const f = x - i
  const c = RAMP[i]!.map((a, j) => Math.round(a + (RAMP[i + 1]![j]! - a) * f))
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`
}

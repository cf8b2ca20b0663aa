// Compares a checkpoint's keys with the weights a PrithviConfig needs: what loads, what is
// missing, what has the wrong shape, what is extra, and which fixed buffers were skipped.

import { CheckpointError } from './errors'
import { FIXED_BUFFERS } from './prithvi-names'
import type { NameMapping } from './state-dict'

export interface WrongShape {
  name: string
  expected: number[]
  got: number[]
}

export interface KeyReport {
  /** Our names that load, in model order. */
  loaded: string[]
  /** Our names the model needs but the checkpoint lacks. */
  missing: string[]
  /** Checkpoint keys (as written in the file) that are not model weights: heads, necks, counters. */
  unexpected: string[]
  wrongShape: WrongShape[]
  /** Fixed sin-cos buffers present in the file but recomputed instead of loaded. */
  ignored: string[]
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

/** `keys` is every checkpoint key in file order; `shapeOf` gives a key's shape. */
export function buildKeyReport(
  keys: readonly string[],
  mapping: NameMapping,
  shapeOf: (key: string) => readonly number[],
  expected: ReadonlyMap<string, number[]>
): KeyReport {
  const ourNameOf = new Map<string, string>()
  for (const [ours, key] of mapping.byOurName) ourNameOf.set(key, ours)
  const report: KeyReport = { loaded: [], missing: [], unexpected: [], wrongShape: [], ignored: [] }
  for (const key of keys) {
    const ours = ourNameOf.get(key)
    if (ours === undefined) report.unexpected.push(key)
    else if (FIXED_BUFFERS.has(ours)) report.ignored.push(ours)
    else if (!expected.has(ours)) report.unexpected.push(key)
    else {
      const want = expected.get(ours)!
      const got = shapeOf(key)
      if (sameShape(want, got)) report.loaded.push(ours)
      else report.wrongShape.push({ name: ours, expected: [...want], got: [...got] })
    }
  }
  const order = [...expected.keys()]
  report.loaded.sort((a, b) => order.indexOf(a) - order.indexOf(b))
  report.missing = order.filter((n) => !FIXED_BUFFERS.has(n) && !mapping.byOurName.has(n))
  return report
}

function listed(items: string[], max = 10): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

/** Throws a CheckpointError listing every wrong-shape and missing weight, if there are any. */
export function assertLoadable(report: KeyReport): void {
  const problems: string[] = []
  if (report.wrongShape.length) {
    const shapes = report.wrongShape.map((w) => `${w.name} is [${w.got.join(', ')}], expected [${w.expected.join(', ')}]`)
    problems.push(`${report.wrongShape.length} weight(s) have the wrong shape: ${listed(shapes)}`)
  }
  if (report.missing.length) problems.push(`${report.missing.length} weight(s) are missing: ${listed(report.missing)}`)
  if (!problems.length) return
  throw new CheckpointError(report.wrongShape.length ? 'wrong-shape' : 'missing-weights', `checkpoint does not fit the model: ${problems.join('; ')}`)
}

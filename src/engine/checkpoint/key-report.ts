// Compares a checkpoint's keys with the tensors its family spec expects for a config: what
// loads, what is missing, what has the wrong shape, what is extra, and which fixed buffers were skipped.

import { shapesByName } from '@shared/models/family'
import { prithviMae, type PrithviConfig } from '@shared/models/prithvi-mae'
import { familyOf } from '@shared/models/registry'
import { CheckpointError } from './errors'
import type { NameMapping } from './state-dict'

/** Sin-cos position tables: recomputed for the chosen num_frames, never loaded. */
export const FIXED_BUFFERS: ReadonlySet<string> = prithviMae.fixedBuffers

/** Every tensor name the model needs (fixed buffers included), with its PyTorch shape, in module order. */
export function expectedShapes(cfg: PrithviConfig, opts: { decoder: boolean }): Map<string, number[]> {
  return shapesByName(familyOf(cfg).checkpointTensors(cfg, opts))
}

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

/** `keys` is every checkpoint key in file order; `shapeOf` gives a key's shape; `fixed` the family's fixed buffers. */
export function buildKeyReport(
  keys: readonly string[],
  mapping: NameMapping,
  shapeOf: (key: string) => readonly number[],
  expected: ReadonlyMap<string, number[]>,
  fixed: ReadonlySet<string> = FIXED_BUFFERS
): KeyReport {
  const ourNameOf = new Map<string, string>()
  for (const [ours, key] of mapping.byOurName) ourNameOf.set(key, ours)
  const report: KeyReport = { loaded: [], missing: [], unexpected: [], wrongShape: [], ignored: [] }
  for (const key of keys) {
    const ours = ourNameOf.get(key)
    if (ours === undefined) report.unexpected.push(key)
    else if (fixed.has(ours)) report.ignored.push(ours)
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
  report.missing = order.filter((n) => !fixed.has(n) && !mapping.byOurName.has(n))
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

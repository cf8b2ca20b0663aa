// Paths to the committed checkpoint fixtures and checks against their *.expected.json values
// (written by tests/fixtures/checkpoints/make_checkpoints.py, so no Python at test time).

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { WeightTensor } from '@engine/model/weights'

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/checkpoints')
export const fixture = (name: string): string => resolve(FIXTURES, name)

/** Where evil*.pt would `touch` if anything in them were ever executed. */
export const EVIL_MARKER = '/tmp/marsfm_evil_checkpoint_marker'

export interface ExpectedTensor {
  shape: number[]
  sum: number
  samples: [number, number][]
}

export interface ExpectedFile {
  tensors: Record<string, ExpectedTensor>
  keys?: string[]
  storages?: number
  config?: Record<string, number>
}

export function expected(name: string): ExpectedFile {
  return JSON.parse(readFileSync(fixture(name), 'utf8')) as ExpectedFile
}

/** Shape exact, sampled values exact (float32 → float64 is exact), sum to float64 rounding. */
export function expectTensor(actual: WeightTensor | undefined, want: ExpectedTensor, name: string): void {
  expect(actual, name).toBeDefined()
  expect(actual!.shape, name).toEqual(want.shape)
  expect(actual!.data.length, name).toBe(want.shape.reduce((a, b) => a * b, 1))
  for (const [i, v] of want.samples) expect(actual!.data[i], `${name}[${i}]`).toBe(v)
  let sum = 0
  for (const v of actual!.data) sum += v
  expect(Math.abs(sum - want.sum), `${name} sum`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want.sum)))
}

/** Checks every tensor listed in the expected file; `rename` maps its names onto the map's. */
export function expectAll(weights: Map<string, WeightTensor>, file: ExpectedFile, rename: (n: string) => string = (n) => n): void {
  const names = Object.keys(file.tensors)
  expect(names.length).toBeGreaterThan(0)
  for (const n of names) expectTensor(weights.get(rename(n)), file.tensors[n]!, n)
}

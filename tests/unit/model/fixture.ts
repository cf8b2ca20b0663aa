// Loads tests/fixtures/prithvi/tiny_expected.json (written by make_fixtures.py) for the model tests:
// base64 little-endian arrays with shapes, the num_frames=3 weights as a WeightMap, and comparisons.

import { readFileSync } from 'node:fs'
import type { PrithviConfig } from '@engine/model/config'
import type { WeightMap } from '@engine/model/weights'

export interface FixtureArray {
  dtype: 'float32' | 'int32' | 'uint8'
  shape: number[]
  data: string
}

export interface Decoded<T extends Float32Array | Int32Array | Uint8Array = Float32Array> {
  shape: number[]
  data: T
}

interface ImputationCase {
  input: FixtureArray
  loss: number
  pred: FixtureArray
  rgb_loss: number
}

export interface PrithviFixture {
  format: string
  config_pretrained: PrithviConfig
  config: PrithviConfig
  stats: { mean: number[]; std: number[] }
  layer_norm_eps: number
  weights: Record<string, FixtureArray>
  pos_embed: { encoder: FixtureArray; decoder: FixtureArray }
  inputs: { x: FixtureArray; noise: FixtureArray }
  encoder: Record<'ratio0' | 'ratio05', { mask_ratio: number; latent: FixtureArray; mask: FixtureArray; ids_restore: FixtureArray }>
  mae: { mask_ratio: number; loss: number; loss_norm_pix: number; pred: FixtureArray; mask: FixtureArray; ids_restore: FixtureArray }
  frames3: { mask_ratio: number; x: FixtureArray; noise: FixtureArray; loss: number; pred: FixtureArray; mask: FixtureArray; ids_restore: FixtureArray }
  imputation: { mask_ratio: number; noise: FixtureArray; rgb: FixtureArray } & Record<'means' | 'prenorm_dup' | 'postnorm_dup', ImputationCase>
}

let cached: PrithviFixture | undefined

export function loadFixture(): PrithviFixture {
  if (!cached) {
    const url = new URL('../../fixtures/prithvi/tiny_expected.json', import.meta.url)
    cached = JSON.parse(readFileSync(url, 'utf8')) as PrithviFixture
  }
  return cached
}

function bytes(a: FixtureArray): Uint8Array {
  const b = Buffer.from(a.data, 'base64')
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}

export function f32(a: FixtureArray): Decoded<Float32Array> {
  if (a.dtype !== 'float32') throw new Error(`expected float32, got ${a.dtype}`)
  return { shape: a.shape, data: new Float32Array(bytes(a).buffer) }
}

export function i32(a: FixtureArray): Decoded<Int32Array> {
  if (a.dtype !== 'int32') throw new Error(`expected int32, got ${a.dtype}`)
  return { shape: a.shape, data: new Int32Array(bytes(a).buffer) }
}

/** The fixture's num_frames=3 state dict (PyTorch layouts, pos embeds included). */
export function fixtureWeights(f: PrithviFixture = loadFixture()): WeightMap {
  const out: WeightMap = new Map()
  for (const [name, a] of Object.entries(f.weights)) out.set(name, f32(a))
  return out
}

/** The state dict the study loaded into the num_frames=1 model: pos embeds removed. */
export function studyWeights(f: PrithviFixture = loadFixture()): WeightMap {
  const w = fixtureWeights(f)
  w.delete('pos_embed')
  w.delete('decoder_pos_embed')
  return w
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    if (Number.isNaN(d)) return NaN
    if (d > m) m = d
  }
  return m
}

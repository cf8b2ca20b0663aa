// Loads tests/fixtures/onnx/reference.json (written by make_reference.py): tiny Prithvi configs,
// their random weights as a WeightMap, inputs and the PyTorch outputs to compare against.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PrithviConfig } from '@engine/model/config'
import type { WeightMap } from '@engine/model/weights'

interface Packed {
  shape: number[]
  b64: string
}

export interface Array32 {
  shape: number[]
  data: Float32Array
}

export interface MaeRun {
  maskRatio: number
  noise: Array32
  loss: number
  pred: Array32
  mask: Array32
  target: Array32
}

export interface ReferenceCase {
  name: string
  config: PrithviConfig
  weights: WeightMap
  pixels: Array32
  encoderFeatures: Array32
  logits: Array32
  mae: MaeRun[]
  posEmbed: Array32
  decoderPosEmbed: Array32
}

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/onnx/', import.meta.url))

function unpack(p: Packed): Array32 {
  const bytes = Buffer.from(p.b64, 'base64')
  const data = new Float32Array(bytes.byteLength / 4)
  new Uint8Array(data.buffer).set(bytes)
  return { shape: p.shape, data }
}

export function loadReference(): ReferenceCase[] {
  const json = JSON.parse(readFileSync(resolve(FIXTURE_DIR, 'reference.json'), 'utf8')) as {
    cases: {
      name: string
      config: PrithviConfig
      weights: Record<string, Packed>
      pixels: Packed
      encoder_features: Packed
      logits: Packed
      mae: { mask_ratio: number; noise: Packed; loss: number; pred: Packed; mask: Packed; target: Packed }[]
      pos_embed: Packed
      decoder_pos_embed: Packed
    }[]
  }
  return json.cases.map((c) => ({
    name: c.name,
    config: c.config,
    weights: new Map(Object.entries(c.weights).map(([k, v]) => [k, unpack(v)])),
    pixels: unpack(c.pixels),
    encoderFeatures: unpack(c.encoder_features),
    logits: unpack(c.logits),
    mae: c.mae.map((r) => ({
      maskRatio: r.mask_ratio,
      noise: unpack(r.noise),
      loss: r.loss,
      pred: unpack(r.pred),
      mask: unpack(r.mask),
      target: unpack(r.target)
    })),
    posEmbed: unpack(c.pos_embed),
    decoderPosEmbed: unpack(c.decoder_pos_embed)
  }))
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** The first `rows` rows of a row-major [rows, ...] array (a batch slice). */
export function firstRows(a: Array32, rows: number): Array32 {
  const per = a.data.length / a.shape[0]
  return { shape: [rows, ...a.shape.slice(1)], data: a.data.slice(0, rows * per) }
}

// Training checkpoints: one safetensors file with the backbone under its official Prithvi names
// (PyTorch layouts, so the file also imports as a model), the head under its PyTorch names, the
// optimiser moments as `optim.m.*` / `optim.v.*`, and a JSON beside it with the run's config, the
// backbone architecture, band statistics, class names and the step: all a resume needs.
import { writeFile, readFile, rename } from 'node:fs/promises'
import type { BandStats } from '@shared/bands'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import { openSafetensors, writeSafetensors } from '../checkpoint'
import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import type { Trainer } from './trainer'
import { balancedAccuracyThreshold } from '@shared/inference/threshold'

export const CHECKPOINT_FORMAT = 'marsfm-training-checkpoint/1'

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT
  task: RunConfig['task']
  /** Optimiser steps completed. */
  step: number
  config: RunConfig
  /** Backbone architecture: pass it to loadCheckpoint(path, { config }) to import the file. */
  model: PrithviConfig
  stats: BandStats
  classes: string[]
  best: { metric: string; value: number; step: number } | null
  backend: string
  savedAt: string
  /** Binary classification: the validation pass of these weights, for the threshold the Inference view offers. */
  validation?: StoredValidation
}

/**
 * Validation probabilities, compactly: the positive class's probability of each image as base64
 * little-endian uint16 (p × 65535, so within 1e-5) and its truth as a string of 0 / 1 (1: positive).
 */
export interface StoredValidation {
  step: number
  positiveClass: string
  probabilities: string
  positive: string
  /** The threshold that maximises balanced accuracy on these images. */
  threshold: { value: number; balancedAccuracy: number }
}

/** Null when the images lack one of the classes (no threshold can be chosen on them). */
export function encodeValidation(step: number, positiveClass: string, v: { probabilities: number[]; positive: number[] }): StoredValidation | null {
  if (!v.positive.includes(1) || !v.positive.includes(0)) return null
  const q = new Uint16Array(v.probabilities.length)
  v.probabilities.forEach((p, i) => (q[i] = Math.round(Math.min(1, Math.max(0, p)) * 65535)))
  const probabilities = decodeProbabilities(Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString('base64'))
  return {
    step,
    positiveClass,
    probabilities: Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString('base64'),
    positive: v.positive.map((x) => (x ? '1' : '0')).join(''),
    // Found on the stored (quantised) values, so a reader recomputing it gets the same threshold.
    threshold: balancedAccuracyThreshold(probabilities, v.positive)
  }
}

export function decodeProbabilities(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64')
  const out: number[] = []
  for (let i = 0; i + 1 < buf.length; i += 2) out.push(buf.readUInt16LE(i) / 65535)
  return out
}

export function metaPath(path: string): string {
  return path.replace(/\.safetensors$/, '.json')
}

export async function saveCheckpoint(path: string, trainer: Trainer, meta: Omit<CheckpointMeta, 'format' | 'savedAt'>): Promise<void> {
  const weights: WeightMap = new Map([
    ...(await trainer.model.toWeightMap({ posEmbed: false })),
    ...((await trainer.head?.toWeightMap()) ?? []),
    ...(await trainer.optimizer.stateWeights())
  ])
  const full: CheckpointMeta = { format: CHECKPOINT_FORMAT, ...meta, savedAt: new Date().toISOString() }
  await writeSafetensors(path, weights, { format: CHECKPOINT_FORMAT, step: String(meta.step) })
  const tmp = `${metaPath(path)}.tmp`
  await writeFile(tmp, JSON.stringify(full, null, 2))
  await rename(tmp, metaPath(path))
}

export interface LoadedTrainingCheckpoint {
  meta: CheckpointMeta
  /** Backbone weights (PyTorch layout, official names). */
  backbone: WeightMap
  head: WeightMap
  optimizer: WeightMap
}

export async function loadTrainingCheckpoint(path: string, headNames: (name: string) => boolean): Promise<LoadedTrainingCheckpoint> {
  const meta = JSON.parse(await readFile(metaPath(path), 'utf8')) as CheckpointMeta
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${metaPath(path)} is not a MarsFM training checkpoint (format ${String(meta.format)})`)
  const file = await openSafetensors(path)
  const backbone: WeightMap = new Map()
  const head: WeightMap = new Map()
  const optimizer: WeightMap = new Map()
  try {
    if (file.metadata.step !== String(meta.step)) throw new Error(`checkpoint ${path} is at step ${file.metadata.step} but its JSON says ${meta.step}`)
    for await (const [name, w] of file.read(file.tensors.keys())) {
      if (name.startsWith('optim.')) optimizer.set(name, w)
      else if (headNames(name)) head.set(name, w)
      else backbone.set(name, w)
    }
  } finally {
    await file.close()
  }
  return { meta, backbone, head, optimizer }
}

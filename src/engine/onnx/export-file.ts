// Writes a Prithvi ONNX export to disk (for the CLI): the model is streamed chunk by chunk, so a
// 100M-parameter export needs no second contiguous copy of its weights.

import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import { buildPrithviOnnx, encodePrithviOnnx, type ExportPrithviOptions, type PrithviGraph, type TensorSpec } from './export-prithvi'

export interface ExportFileResult {
  /** File size in bytes. */
  bytes: number
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  opset: number
}

export function exportOnnxFile(
  cfg: PrithviConfig,
  weights: WeightMap,
  graph: PrithviGraph,
  outPath: string,
  opts: ExportPrithviOptions = {}
): ExportFileResult {
  const built = buildPrithviOnnx(cfg, weights, graph, opts)
  const chunks = encodePrithviOnnx(built).chunks()
  mkdirSync(dirname(outPath), { recursive: true })
  const partial = `${outPath}.partial`
  const fd = openSync(partial, 'w')
  let bytes = 0
  try {
    for (const chunk of chunks) {
      let done = 0
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done)
      bytes += chunk.length
    }
  } catch (e) {
    closeSync(fd)
    rmSync(partial, { force: true })
    throw e
  }
  closeSync(fd)
  renameSync(partial, outPath)
  return { bytes, inputs: built.inputs, outputs: built.outputs, opset: built.opset }
}

// The frozen prefix of partial fine-tuning as an ONNX graph: patch embedding + position embedding,
// token masking by given indices, CLS, and the first K encoder blocks (plus the final norm when
// K = depth, so "every block frozen" is the head alone). Built from the exporter's own stages
// (export-prithvi.ts, transformer-ops.ts), so it computes what the 'encoder' graph computes up
// to block K.
//
// Masking happens before the frozen blocks, as in the study's classification fine-tuning
// (random_masking sits between the position embedding and the first block): the graph takes the
// kept patch indices `ids_keep` [N, Lkeep] chosen on the host from the step's noise, so the frozen
// blocks see exactly the tokens the trained blocks will, and run on (1 - ratio) of them.

import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import { BATCH_DIM, embedPatchesGraph, exportGeometry, gatherTokensGraph, patchifyGraph, prependClsGraph } from './export-prithvi'
import { GraphBuilder } from './graph-builder'
import { pixelsDims } from './input-layout'
import { DEFAULT_OPSET, IR_VERSION, encodeModel, type ModelProto } from './onnx-proto'
import { layerNorm, transformerBlock } from './transformer-ops'

/** The symbolic number of kept tokens (it follows the mask ratio of the run). */
export const KEPT_DIM = 'Lkeep'

/** Checks K against the architecture; the message names the field a run config sets. */
export function checkFreezeBlocks(cfg: PrithviConfig, blocks: number): void {
  if (!Number.isInteger(blocks) || blocks < 0 || blocks > cfg.depth) {
    throw new Error(`freezeBlocks ${blocks} is out of range: this model has ${cfg.depth} encoder blocks (0..${cfg.depth}; ${cfg.depth} trains the head only)`)
  }
}

/**
 * pixels [N, C, T, H, W] ([N, C, H, W] for the MAE family) and ids_keep [N, Lkeep] (int64 patch indices, the kept tokens in the
 * order the tfjs encoder keeps them) -> hidden [N, 1 + Lkeep, D]: the residual stream after
 * block K-1, or the normed latent when K = depth.
 */
export function buildFrozenPrefixOnnx(cfg: PrithviConfig, weights: WeightMap, blocks: number): ModelProto {
  checkFreezeBlocks(cfg, blocks)
  if (blocks === 0) throw new Error('freezeBlocks 0 has no frozen prefix to export')
  const g = exportGeometry(cfg, weights, 'encoder')
  const b = new GraphBuilder('prithvi_frozen_prefix')
  const N = BATCH_DIM
  const pixels = b.toCompute(b.input('pixels', 'float32', pixelsDims(cfg, N)))
  const idsKeep = b.input('ids_keep', 'int64', [N, KEPT_DIM])
  const tokens = embedPatchesGraph(b, weights, cfg, g, patchifyGraph(b, g, pixels)) // [N, L, D]
  const kept = b.scope('masking', () => gatherTokensGraph(b, tokens, idsKeep, g.D)) // [N, Lkeep, D]
  let h = prependClsGraph(b, weights, g, kept, pixels) // [N, 1+Lkeep, D]
  for (let i = 0; i < blocks; i++) h = transformerBlock(b, weights, `blocks.${i}`, h, cfg.embed_dim, cfg.num_heads, cfg.mlp_ratio, g.eps)
  if (blocks === cfg.depth) h = layerNorm(b, weights, 'norm', h, cfg.embed_dim, g.eps)
  b.output('hidden', h, 'float32', [N, `1+${KEPT_DIM}`, g.D])
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: DEFAULT_OPSET }],
    producerName: 'marsfm-workstation',
    graph: b.build(`Prithvi encoder, first ${blocks} of ${cfg.depth} blocks (frozen prefix for partial fine-tuning)`),
    metadataProps: [
      { key: 'marsfm.graph', value: 'frozen-prefix' },
      { key: 'marsfm.frozen_blocks', value: String(blocks) },
      { key: 'marsfm.prithvi_config', value: JSON.stringify(cfg) }
    ]
  }
}

/** The .onnx bytes of the frozen prefix. */
export function exportFrozenPrefixOnnx(cfg: PrithviConfig, weights: WeightMap, blocks: number): Uint8Array {
  return encodeModel(buildFrozenPrefixOnnx(cfg, weights, blocks)).finish()
}

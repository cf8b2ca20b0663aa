// Exports a Prithvi masked autoencoder from a WeightMap as an ONNX model (opset 17): the full MAE
// with its loss ('mae'), the encoder alone ('encoder'), or encoder + linear head on the CLS token
// ('classifier'). Position embeddings are the fixed 3-D sin-cos tables, recomputed for the grid.

import { checkWeights } from '@shared/models/family'
import { isMaeConfig } from '@shared/models/mae'
import type { PrithviConfig } from '@shared/models/prithvi-mae'
import { familyOf } from '@shared/models/registry'
import { keepCount } from '../model/masking'
import { positionTable } from '../model/params'
import { getWeight, type WeightMap } from '../model/weights'
import { GraphBuilder } from './graph-builder'
import { pixelsDims } from './input-layout'
import { DEFAULT_OPSET, IR_VERSION, encodeModel, type Dim, type ModelProto } from './onnx-proto'
import type { ProtoWriter } from './protobuf'
import { LAYER_NORM_EPS, layerNorm, linear, transformerBlock } from './transformer-ops'

export type PrithviGraph = 'mae' | 'encoder' | 'classifier'

export interface ExportPrithviOptions {
  /** 'mae' only: fraction of patches removed, fixed at export (default 0.5). */
  maskRatio?: number
  /** Written to the model's producer_version. */
  producerVersion?: string
  /**
   * 'encoder' / 'classifier' only: 'fp16' stores the weights as float16 and computes in float16
   * (inputs and outputs stay float32). For GPUs with shader-f16 (WebGPU EP); the MAE's masking and
   * loss stay float32.
   */
  precision?: 'fp32' | 'fp16'
}

export interface TensorSpec {
  name: string
  type: 'float32'
  shape: Dim[]
}

export interface PrithviOnnxModel {
  model: ModelProto
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  opset: number
}

/** The symbolic batch dimension of every input and output. */
export const BATCH_DIM = 'N'

interface Geometry {
  C: number
  T: number
  tub: number
  p: number
  gt: number
  gh: number
  gw: number
  /** Number of patches (tokens without CLS). */
  L: number
  /** Values per patch, tub * p * p * C. */
  patchDim: number
  D: number
  Dd: number
  /** LayerNorm eps: nn.LayerNorm's default for Prithvi, the config's for the MAE layout. */
  eps: number
}

/** The graph's sizes, once the family spec accepts the config and every weight's shape. */
function geometry(cfg: PrithviConfig, weights: WeightMap, graph: PrithviGraph): Geometry {
  const family = familyOf(cfg)
  const why = family.modelProblem(cfg)
  if (why) throw new Error(`cannot export this ${isMaeConfig(cfg) ? 'MAE' : 'Prithvi'} config: ${why}`)
  // Only the MAE graph runs the decoder; the weights' names and shapes are the spec's.
  checkWeights(family.weightSpecs(cfg, { decoder: graph === 'mae' }), weights)
  const { img_size: img, patch_size: p, num_frames: T, tubelet_size: tub, in_chans: C } = cfg
  const gt = T / tub
  const gh = img / p
  return { C, T, tub, p, gt, gh, gw: gh, L: gt * gh * gh, patchDim: tub * p * p * C, D: cfg.embed_dim, Dd: cfg.decoder_embed_dim, eps: isMaeConfig(cfg) ? cfg.layer_norm_eps : LAYER_NORM_EPS }
}

/**
 * [N, C, T, H, W] → [N, L, tub*p*p*C], einops `b c (t tub) (h p) (w q) -> b (t h w) (tub p q c)`.
 * An MAE-family [N, C, H, W] input is the same values with T = tub = 1, so one reshape serves both.
 */
function patchify(b: GraphBuilder, g: Geometry, pixels: string): string {
  return b.scope('patchify', () => {
    const split = b.op('Reshape', [pixels, b.int64([0, g.C, g.gt, g.tub, g.gh, g.p, g.gw, g.p])])
    const moved = b.op('Transpose', [split], { perm: [0, 2, 4, 6, 3, 5, 7, 1] })
    return b.op('Reshape', [moved, b.int64([0, g.L, g.patchDim])])
  })
}

/**
 * The Conv3d patch embedding as one MatMul on patchified pixels: the kernel [D, C, tub, p, p] is
 * reordered to [(tub p q c), D] so it consumes the same layout as the loss target.
 */
function patchEmbed(b: GraphBuilder, weights: WeightMap, g: Geometry, patches: string): string {
  const { C, tub, p, D } = g
  const w = getWeight(weights, 'patch_embed.proj.weight').data
  const bias = getWeight(weights, 'patch_embed.proj.bias').data
  const kernel = new Float32Array(g.patchDim * D)
  for (let d = 0; d < D; d++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < tub; k++) {
        for (let i = 0; i < p; i++) {
          for (let j = 0; j < p; j++) {
            const row = ((k * p + i) * p + j) * C + c
            kernel[row * D + d] = w[(((d * C + c) * tub + k) * p + i) * p + j]
          }
        }
      }
    }
  }
  const wName = b.initializer('patch_embed.proj.weight.as_matmul', [g.patchDim, D], kernel)
  const bName = b.initializer('patch_embed.proj.bias', [D], bias)
  return b.scope('patch_embed', () => b.op('Add', [b.op('MatMul', [patches, wName]), bName]))
}

/** Shape [N, ...rest] for Expand, with N read from `ref` at run time. */
function batchShape(b: GraphBuilder, ref: string, rest: readonly number[]): string {
  const n = b.op('Shape', [ref], { start: 0, end: 1 })
  return b.op('Concat', [n, b.int64(rest)], { axis: 0 })
}

/** Patch tokens + fixed position embedding (the CLS row of pos_embed is zero, so it is omitted). */
function embedPatches(b: GraphBuilder, weights: WeightMap, cfg: PrithviConfig, g: Geometry, patches: string): string {
  const pos = b.initializer('pos_embed', [1, g.L, g.D], positionTable(cfg, g.D, weights.get('pos_embed'), false))
  const tokens = patchEmbed(b, weights, g, patches)
  return b.scope('patch_embed', () => b.op('Add', [tokens, pos]))
}

/** Prepends cls_token (+ its zero position embedding) to [N, S, D] tokens. */
function prependCls(b: GraphBuilder, weights: WeightMap, g: Geometry, tokens: string, batchRef: string): string {
  const cls = b.initializer('cls_token', [1, 1, g.D], getWeight(weights, 'cls_token').data)
  return b.scope('cls', () => {
    const clsN = b.op('Expand', [cls, batchShape(b, batchRef, [1, g.D])])
    return b.op('Concat', [clsN, tokens], { axis: 1 })
  })
}

function encoderTransformer(b: GraphBuilder, weights: WeightMap, cfg: PrithviConfig, g: Geometry, x: string): string {
  let h = x
  for (let i = 0; i < cfg.depth; i++) h = transformerBlock(b, weights, `blocks.${i}`, h, cfg.embed_dim, cfg.num_heads, cfg.mlp_ratio, g.eps)
  return layerNorm(b, weights, 'norm', h, cfg.embed_dim, g.eps)
}

/** Gathers rows of [N, S, dim] along axis 1 with [N, K] int64 indices → [N, K, dim]. */
function gatherTokens(b: GraphBuilder, x: string, ids: string, dim: number): string {
  const index = b.op('Expand', [b.op('Unsqueeze', [ids, b.int64([2])]), b.int64([1, 1, dim])])
  return b.op('GatherElements', [x, index], { axis: 1 })
}

interface Masking {
  kept: string
  mask: string
  idsRestore: string
  keep: number
}

/** random_masking driven by the `noise` input: keep the `keep` lowest-noise patches. */
function randomMasking(b: GraphBuilder, g: Geometry, x: string, noise: string, maskRatio: number): Masking {
  const keep = keepCount(g.L, maskRatio)
  if (keep < 1) throw new Error(`mask ratio ${maskRatio} keeps no patch of ${g.L}`)
  return b.scope('masking', () => {
    const sortAll = { axis: -1, largest: 0, sorted: 1 }
    const [, idsShuffle] = b.opN('TopK', [noise, b.int64([g.L])], sortAll, { outputs: 2 }) // argsort(noise)
    const shuffleAsFloat = b.op('Cast', [idsShuffle], { to: 1 }) // exact for L < 2^24
    const [, idsRestore] = b.opN('TopK', [shuffleAsFloat, b.int64([g.L])], sortAll, { outputs: 2 }) // argsort(ids_shuffle)
    const idsKeep = b.op('Slice', [idsShuffle, b.int64([0]), b.int64([keep]), b.int64([1])])
    const kept = gatherTokens(b, x, idsKeep, g.D)
    // mask[i] = 1 where patch i is not among the kept ones, i.e. its rank ids_restore[i] >= keep
    const removed = b.op('Greater', [idsRestore, b.int64([keep - 1], [])])
    const mask = b.op('Cast', [removed], { to: 1 })
    return { kept, mask, idsRestore, keep }
  })
}

function decoder(b: GraphBuilder, weights: WeightMap, cfg: PrithviConfig, g: Geometry, latent: string, m: Masking, batchRef: string): string {
  const Dd = g.Dd
  const x = linear(b, weights, 'decoder_embed', latent, g.D, Dd)
  const maskToken = b.initializer('mask_token', [1, 1, Dd], getWeight(weights, 'mask_token').data)
  const pos = b.initializer('decoder_pos_embed', [1, 1 + g.L, Dd], positionTable(cfg, Dd, weights.get('decoder_pos_embed')))
  let h = b.scope('unshuffle', () => {
    const cls = b.op('Slice', [x, b.int64([0]), b.int64([1]), b.int64([1])])
    let visible = b.op('Slice', [x, b.int64([1]), b.int64([1 + m.keep]), b.int64([1])])
    if (m.keep < g.L) {
      const tokens = b.op('Expand', [maskToken, batchShape(b, batchRef, [g.L - m.keep, Dd])])
      visible = b.op('Concat', [visible, tokens], { axis: 1 })
    }
    const restored = gatherTokens(b, visible, m.idsRestore, Dd)
    return b.op('Add', [b.op('Concat', [cls, restored], { axis: 1 }), pos])
  })
  for (let i = 0; i < cfg.decoder_depth; i++) {
    h = transformerBlock(b, weights, `decoder_blocks.${i}`, h, Dd, cfg.decoder_num_heads, cfg.mlp_ratio, g.eps)
  }
  h = layerNorm(b, weights, 'decoder_norm', h, Dd, g.eps)
  const out = linear(b, weights, 'decoder_pred', h, Dd, g.patchDim)
  return b.scope('decoder_pred', () => b.op('Slice', [out, b.int64([1]), b.int64([1 + g.L]), b.int64([1])]))
}

/** forward_loss: per-patch MSE (over tub*p*p*C) averaged over removed patches. Returns [loss, target]. */
function maeLoss(b: GraphBuilder, cfg: PrithviConfig, g: Geometry, pred: string, patches: string, mask: string): [string, string] {
  return b.scope('loss', () => {
    let target = patches
    if (cfg.norm_pix_loss) {
      const mean = b.op('ReduceMean', [patches], { axes: [-1], keepdims: 1 })
      const centred = b.op('Sub', [patches, mean])
      const sumSq = b.op('ReduceSum', [b.op('Mul', [centred, centred]), b.int64([-1])], { keepdims: 1 })
      const variance = b.op('Div', [sumSq, b.f32(g.patchDim - 1)]) // unbiased, as torch.var
      target = b.op('Div', [centred, b.op('Sqrt', [b.op('Add', [variance, b.f32(1e-6)])])])
    }
    const err = b.op('Sub', [pred, target])
    const perPatch = b.op('ReduceMean', [b.op('Mul', [err, err])], { axes: [-1], keepdims: 0 })
    const total = b.op('ReduceSum', [b.op('Mul', [perPatch, mask])], { keepdims: 0 })
    const count = b.op('ReduceSum', [mask], { keepdims: 0 })
    return [b.op('Div', [total, count]), target]
  })
}

function classifierHead(b: GraphBuilder, weights: WeightMap, g: Geometry, features: string): { logits: string; classes: number } {
  const w = weights.get('classifier.weight')
  if (!w || w.shape.length !== 2 || w.shape[1] !== g.D) {
    throw new Error(`the classifier graph needs "classifier.weight" [K, ${g.D}] in the weights`)
  }
  const classes = w.shape[0]
  const wName = b.initializer('classifier.weight', [classes, g.D], w.data)
  const bName = b.initializer('classifier.bias', [classes], getWeight(weights, 'classifier.bias', [classes]).data)
  const logits = b.scope('classifier', () => {
    const cls = b.op('Gather', [features, b.int64([0], [])], { axis: 1 }) // [N, D]
    return b.op('Gemm', [cls, wName, bName], { transB: 1 })
  })
  return { logits, classes }
}

/** Builds the model in memory (weights referenced, not serialised). */
export function buildPrithviOnnx(cfg: PrithviConfig, weights: WeightMap, graph: PrithviGraph, opts: ExportPrithviOptions = {}): PrithviOnnxModel {
  const g = geometry(cfg, weights, graph)
  const fp16 = opts.precision === 'fp16'
  if (fp16 && graph === 'mae') throw new Error("fp16 export is for the encoder and classifier graphs; the MAE graph's masking and loss stay fp32")
  if (opts.precision !== undefined && opts.precision !== 'fp32' && !fp16) throw new Error(`unknown precision "${String(opts.precision)}" (fp32 or fp16)`)
  const b = new GraphBuilder(`prithvi_${graph}`, fp16 ? 'float16' : 'float32')
  const N = BATCH_DIM
  // [N, C, H, W] for the MAE family, [N, C, T, H, W] for Prithvi: the patchify reshape reads either.
  const inputs: TensorSpec[] = [{ name: 'pixels', type: 'float32', shape: pixelsDims(cfg, N) }]
  const outputs: TensorSpec[] = []
  const maskRatio = opts.maskRatio ?? 0.5
  const pixels = b.toCompute(b.input('pixels', 'float32', inputs[0].shape))
  const patches = patchify(b, g, pixels)
  const tokens = embedPatches(b, weights, cfg, g, patches)

  if (graph === 'mae') {
    inputs.push({ name: 'noise', type: 'float32', shape: [N, g.L] })
    const noise = b.input('noise', 'float32', inputs[1].shape)
    const m = randomMasking(b, g, tokens, noise, maskRatio)
    const latent = encoderTransformer(b, weights, cfg, g, prependCls(b, weights, g, m.kept, pixels))
    const pred = decoder(b, weights, cfg, g, latent, m, pixels)
    const [loss, target] = maeLoss(b, cfg, g, pred, patches, m.mask)
    outputs.push(
      { name: 'loss', type: 'float32', shape: [] },
      { name: 'pred', type: 'float32', shape: [N, g.L, g.patchDim] },
      { name: 'mask', type: 'float32', shape: [N, g.L] },
      { name: 'target', type: 'float32', shape: [N, g.L, g.patchDim] }
    )
    const values: Record<string, string> = { loss, pred, mask: m.mask, target }
    for (const o of outputs) b.output(o.name, values[o.name], 'float32', o.shape)
  } else {
    const features = encoderTransformer(b, weights, cfg, g, prependCls(b, weights, g, tokens, pixels))
    if (graph === 'encoder') {
      outputs.push({ name: 'features', type: 'float32', shape: [N, 1 + g.L, g.D] })
      b.output('features', features, 'float32', outputs[0].shape)
    } else {
      const { logits, classes } = classifierHead(b, weights, g, features)
      outputs.push({ name: 'logits', type: 'float32', shape: [N, classes] })
      b.output('logits', logits, 'float32', outputs[0].shape)
    }
  }

  const model: ModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: DEFAULT_OPSET }],
    producerName: 'marsfm-workstation',
    ...(opts.producerVersion !== undefined ? { producerVersion: opts.producerVersion } : {}),
    graph: b.build(`Prithvi MAE (${graph}), exported from checkpoint weights`),
    metadataProps: [
      { key: 'marsfm.graph', value: graph },
      ...(isMaeConfig(cfg) ? [{ key: 'marsfm.family', value: cfg.family }] : []),
      { key: 'marsfm.prithvi_config', value: JSON.stringify(cfg) },
      ...(graph === 'mae' ? [{ key: 'marsfm.mask_ratio', value: String(maskRatio) }] : [])
    ]
  }
  return { model, inputs, outputs, opset: DEFAULT_OPSET }
}

/** Serialised as chunks, for writing large models without one contiguous copy. */
export function encodePrithviOnnx(built: PrithviOnnxModel): ProtoWriter {
  return encodeModel(built.model)
}

/** The .onnx file bytes. */
export function exportPrithviOnnx(cfg: PrithviConfig, weights: WeightMap, graph: PrithviGraph, opts: ExportPrithviOptions = {}): Uint8Array {
  return encodePrithviOnnx(buildPrithviOnnx(cfg, weights, graph, opts)).finish()
}

// The stages the frozen-prefix graph of partial fine-tuning (export-prefix.ts) is built from.
export { geometry as exportGeometry, patchify as patchifyGraph, embedPatches as embedPatchesGraph, prependCls as prependClsGraph, gatherTokens as gatherTokensGraph }

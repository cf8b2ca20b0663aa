// Prithvi masked autoencoder (MaskedAutoencoderViT with 3-D patch embedding) on TensorFlow.js:
// patchify -> patch embedding (matMul) + sin-cos pos embed -> random masking -> CLS + encoder blocks
// -> decoder (embed, mask tokens, unshuffle, blocks, pred) -> loss on the removed patches.

import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor5D, Variable } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import { registerMissingGradients } from '../tf/gradients'
import { type BlockParams, transformerBlock } from './blocks'
import type { PrithviConfig } from './config'
import { numPatches } from './config'
import { keepMatrix, maskIndices, type MaskPlan, planFromIdsRestore, planMasking, restoreMatrix } from './masking'
import { bmm, gatherRows, layerNorm, linear } from './ops'
import { fusedWebGpu } from '../tf/webgpu-kernels'
import { type ParamSpec, paramSpecs, patchDim, posEmbedWeights, positionTable, toTfLayout, tokenGrid, toTorchLayout, validateWeights } from './params'
import { patchify, unpatchify, type PatchGeometry } from './patchify'
import { isMaeConfig } from '@shared/models/mae'
import { seededRandom, type Rng } from '@shared/random'
import type { WeightMap } from './weights'

/** nn.LayerNorm's default: Prithvi builds its blocks and norms with norm_layer=nn.LayerNorm. */
export const LAYER_NORM_EPS = 1e-5

/** Masking noise [N, L] (row-major), e.g. shared between several runs to get the same mask. */
export type Noise = ArrayLike<number> | Tensor

export interface PrithviMAEOptions {
  /** Build (and require weights for) the decoder. Default true. */
  decoder?: boolean
  /** Seed for the noise drawn when none is supplied. Default: random. */
  seed?: number
}

export interface EncoderOutput {
  /** [N, 1 + Lkeep, D], CLS first, kept tokens in noise order. */
  latent: Tensor3D
  /** [N, L] float32, 0 keep, 1 remove. */
  mask: Tensor2D
  /** [N, L] int32. */
  idsRestore: Tensor2D
}

export interface MaeOutput {
  loss: Scalar
  /** [N, L, tub*p*p*C]. */
  pred: Tensor3D
  mask: Tensor2D
  idsRestore: Tensor2D
}

let modelCounter = 0

export class PrithviMAE {
  readonly cfg: PrithviConfig
  readonly hasDecoder: boolean
  readonly numPatches: number
  readonly grid: [number, number, number]
  private readonly tf: Tf
  private readonly specs: ParamSpec[]
  private readonly vars = new Map<string, Variable>()
  private readonly fixed: Tensor[] = []
  /** ids_restore tensors this model made, with their host values (read-free decoding). */
  private readonly idsOnHost = new WeakMap<Tensor, ArrayLike<number>>()
  private readonly posCls: Tensor3D // [1, 1, D]
  private readonly posPatches: Tensor3D // [1, L, D]
  private readonly decoderPos: Tensor3D | undefined // [1, 1+L, Dd]
  private readonly rng: Rng
  /** LayerNorm eps: nn.LayerNorm's default for Prithvi, the config's for the MAE layout. */
  private readonly eps: number
  private disposed = false

  private constructor(tf: Tf, cfg: PrithviConfig, weights: WeightMap, opts: PrithviMAEOptions) {
    this.tf = tf
    registerMissingGradients(tf) // no-op when loadTf (or @tensorflow/tfjs) already did
    this.cfg = { ...cfg }
    this.hasDecoder = opts.decoder ?? true
    this.specs = paramSpecs(cfg, { decoder: this.hasDecoder })
    validateWeights(this.specs, weights)
    this.numPatches = numPatches(cfg)
    this.grid = tokenGrid(cfg)
    this.rng = seededRandom(opts.seed ?? Math.floor(Math.random() * 2 ** 32))
    const prefix = `prithvi${modelCounter++}`
    for (const spec of this.specs) {
      const w = weights.get(spec.name)!
      const init = tf.tensor(toTfLayout(spec, w.data), spec.tfShape, 'float32')
      this.vars.set(spec.name, tf.variable(init, true, `${prefix}/${spec.name}`))
      init.dispose()
    }
    // Fixed sin-cos embeddings for this config's token grid (Prithvi's checkpoint copies are
    // ignored; the MAE layout's are used when they fit the grid).
    const L = this.numPatches
    const D = cfg.embed_dim
    this.eps = isMaeConfig(cfg) ? cfg.layer_norm_eps : LAYER_NORM_EPS
    const pos = positionTable(cfg, D, weights.get('pos_embed')) // [1+L, D]
    this.posCls = this.keepFixed(tf.tensor3d(pos.subarray(0, D), [1, 1, D]))
    this.posPatches = this.keepFixed(tf.tensor3d(pos.subarray(D), [1, L, D]))
    if (this.hasDecoder) {
      const Dd = cfg.decoder_embed_dim
      this.decoderPos = this.keepFixed(tf.tensor3d(positionTable(cfg, Dd, weights.get('decoder_pos_embed')), [1, L + 1, Dd]))
    }
  }

  /** Builds the model from a state dict in PyTorch layouts; every expected shape is checked. */
  static fromWeights(tf: Tf, cfg: PrithviConfig, weights: WeightMap, opts: PrithviMAEOptions = {}): PrithviMAE {
    return new PrithviMAE(tf, cfg, weights, opts)
  }

  private keepFixed<T extends Tensor>(t: T): T {
    this.fixed.push(t)
    return t
  }

  private v<T extends Tensor>(name: string): T {
    if (this.disposed) throw new Error('PrithviMAE has been disposed')
    const t = this.vars.get(name)
    if (!t) throw new Error(`parameter ${name} is not part of this model${this.hasDecoder ? '' : ' (built without decoder)'}`)
    return t as unknown as T
  }

  private block(prefix: string): BlockParams {
    const pair = <W extends Tensor>(n: string) => ({ weight: this.v<W>(`${prefix}.${n}.weight`), bias: this.v<Tensor1D>(`${prefix}.${n}.bias`) })
    return {
      norm1: pair<Tensor1D>('norm1'),
      qkv: pair<Tensor2D>('attn.qkv'),
      proj: pair<Tensor2D>('attn.proj'),
      norm2: pair<Tensor1D>('norm2'),
      fc1: pair<Tensor2D>('mlp.fc1'),
      fc2: pair<Tensor2D>('mlp.fc2')
    }
  }

  private get geometry(): PatchGeometry {
    return { patchSize: this.cfg.patch_size, tubeletSize: this.cfg.tubelet_size, inChans: this.cfg.in_chans }
  }

  private checkInput(x: Tensor): number {
    if (this.disposed) throw new Error('PrithviMAE has been disposed')
    const { in_chans: C, num_frames: T, img_size: S } = this.cfg
    const ok = x.rank === 5 && x.shape[1] === C && x.shape[2] === T && x.shape[3] === S && x.shape[4] === S
    if (!ok) throw new Error(`input has shape [${x.shape.join(', ')}], expected [N, ${C}, ${T}, ${S}, ${S}]`)
    return x.shape[0]!
  }

  /** imgs [N, C, T, H, W] -> [N, L, tub*p*p*C]. */
  patchify(imgs: Tensor): Tensor3D {
    return this.tf.tidy(() => patchify(this.tf, imgs, this.geometry))
  }

  /** [N, L, tub*p*p*C] -> [N, C, T, H, W]. */
  unpatchify(x: Tensor): Tensor5D {
    return this.tf.tidy(() => unpatchify(this.tf, x, this.geometry, this.grid))
  }

  /** Plans the per-sample masking on the CPU (argsort of `noise` [N, L], ascending = kept first). */
  randomMasking(n: number, maskRatio: number, noise?: Noise): MaskPlan {
    let values: ArrayLike<number> | undefined
    if (noise && typeof (noise as Tensor).dataSync === 'function') values = (noise as Tensor).dataSync()
    else values = noise as ArrayLike<number> | undefined
    return planMasking(n, this.numPatches, maskRatio, values, this.rng)
  }

  /** x [N, C, T, H, W] -> latent [N, 1 + Lkeep, D] for a masking plan (no tidy: callers wrap). */
  private encode(x: Tensor, plan: MaskPlan): Tensor3D {
    const tf = this.tf
    const n = plan.n
    const patches = patchify(tf, x, this.geometry) // [N, L, P]
    let tokens = linear(tf, patches, this.v('patch_embed.proj.weight'), this.v('patch_embed.proj.bias')) as Tensor3D // [N, L, D]
    tokens = tf.add(tokens, this.posPatches) // [N, L, D]
    let kept: Tensor3D // [N, Lkeep, D]
    if (plan.identity) kept = tokens
    else if (fusedWebGpu(tf)) {
      const { kept: idx, restored } = maskIndices(plan) // a gather instead of a one-hot matmul on WebGPU
      kept = gatherRows(tf, tokens, idx, restored, plan.lenKeep)
    }
    else kept = this.permute(keepMatrix(plan), [n, plan.lenKeep, this.numPatches], tokens)
    const cls = tf.tile(tf.add(this.v<Tensor3D>('cls_token'), this.posCls), [n, 1, 1]) as Tensor3D // [N, 1, D]
    let h = (plan.lenKeep > 0 ? tf.concat([cls, kept], 1) : cls) as Tensor3D // [N, 1+Lkeep, D]
    for (let i = 0; i < this.cfg.depth; i++) h = transformerBlock(tf, h, this.block(`blocks.${i}`), this.cfg.num_heads, this.eps)
    return layerNorm(tf, h, this.v('norm.weight'), this.v('norm.bias'), this.eps) as Tensor3D // [N, 1+Lkeep, D]
  }

  /** One-hot [N, A, B] (CPU-built) @ tokens [N, B, D] -> [N, A, D]. */
  private permute(onehot: Float32Array, shape: [number, number, number], tokens: Tensor3D): Tensor3D {
    const tf = this.tf
    return bmm(tf, tf.tensor3d(onehot, shape), tokens)
  }

  /** latent [N, 1 + Lkeep, D] -> pred [N, L, tub*p*p*C] (no tidy: callers wrap). */
  private decode(latent: Tensor3D, plan: MaskPlan): Tensor3D {
    const tf = this.tf
    const { n, lenKeep } = plan
    const L = this.numPatches
    const Dd = this.cfg.decoder_embed_dim
    const y = linear(tf, latent, this.v('decoder_embed.weight'), this.v('decoder_embed.bias')) as Tensor3D // [N, 1+Lkeep, Dd]
    const cls = tf.slice(y, [0, 0, 0], [n, 1, Dd]) // [N, 1, Dd]
    let full: Tensor3D // [N, L, Dd]
    if (lenKeep === 0) full = tf.zeros([n, L, Dd])
    else {
      const body = tf.slice(y, [0, 1, 0], [n, lenKeep, Dd]) // [N, Lkeep, Dd]
      if (plan.identity) full = body
      else if (fusedWebGpu(tf)) {
        const { kept, restored } = maskIndices(plan)
        full = gatherRows(tf, body, restored, kept, L)
      } else full = this.permute(restoreMatrix(plan), [n, L, lenKeep], body)
    }
    if (lenKeep < L) {
      const removed = tf.tensor3d(plan.mask, [n, L, 1]) // [N, L, 1]
      full = tf.add(full, tf.mul(removed, this.v<Tensor3D>('mask_token'))) // [N, L, Dd]
    }
    let h = tf.add(tf.concat([cls, full], 1), this.decoderPos!) as Tensor3D // [N, 1+L, Dd]
    for (let i = 0; i < this.cfg.decoder_depth; i++) h = transformerBlock(tf, h, this.block(`decoder_blocks.${i}`), this.cfg.decoder_num_heads, this.eps)
    h = layerNorm(tf, h, this.v('decoder_norm.weight'), this.v('decoder_norm.bias'), this.eps) as Tensor3D
    const pred = linear(tf, h, this.v('decoder_pred.weight'), this.v('decoder_pred.bias')) as Tensor3D // [N, 1+L, P]
    return tf.slice(pred, [0, 1, 0], [n, L, patchDim(this.cfg)]) // [N, L, P]
  }

  private planTensors(plan: MaskPlan): { mask: Tensor2D; idsRestore: Tensor2D } {
    const idsRestore = this.tf.tensor2d(plan.idsRestore, [plan.n, plan.numPatches], 'int32')
    this.idsOnHost.set(idsRestore, plan.idsRestore)
    return { mask: this.tf.tensor2d(plan.mask, [plan.n, plan.numPatches]), idsRestore }
  }

  /**
   * Encoder with token masking: x [N, C, T, H, W] -> latent [N, 1 + Lkeep, D], mask, ids_restore.
   * maskRatio 0 without noise keeps the tokens in patch order (the official code returns the same rows
   * in a random order); with noise the order follows the noise exactly as in PyTorch.
   */
  forwardEncoder(x: Tensor, maskRatio: number, noise?: Noise): EncoderOutput {
    const plan = this.randomMasking(this.checkInput(x), maskRatio, noise)
    return this.tf.tidy(() => ({ latent: this.encode(x, plan), ...this.planTensors(plan) }))
  }

  // ---- partial fine-tuning: the encoder split at block K (the first K run frozen elsewhere, in ORT)

  /**
   * The encoder's first `blocks` blocks for a masking plan: x [N, C, T, H, W] -> [N, 1 + Lkeep, D],
   * the residual stream after block `blocks` - 1 (normed when `blocks` = depth). The reference the
   * ONNX frozen prefix is checked against. No tidy: callers wrap.
   */
  encodePrefix(x: Tensor, plan: MaskPlan, blocks: number): Tensor3D {
    const tf = this.tf
    this.checkInput(x)
    const n = plan.n
    const patches = patchify(tf, x, this.geometry) // [N, L, P]
    const tokens = tf.add(linear(tf, patches, this.v('patch_embed.proj.weight'), this.v('patch_embed.proj.bias')), this.posPatches) as Tensor3D // [N, L, D]
    const kept = plan.identity ? tokens : this.permute(keepMatrix(plan), [n, plan.lenKeep, this.numPatches], tokens) // [N, Lkeep, D]
    const cls = tf.tile(tf.add(this.v<Tensor3D>('cls_token'), this.posCls), [n, 1, 1]) as Tensor3D // [N, 1, D]
    const h = (plan.lenKeep > 0 ? tf.concat([cls, kept], 1) : cls) as Tensor3D // [N, 1+Lkeep, D]
    return this.encodeFrom(h, 0, blocks)
  }

  /**
   * Blocks [from, to) on hidden states [N, S, D], then the final norm when `to` = depth (and the
   * norm was not applied already, i.e. from < depth). No tidy: callers wrap.
   */
  encodeFrom(hidden: Tensor3D, from: number, to = this.cfg.depth): Tensor3D {
    const tf = this.tf
    const depth = this.cfg.depth
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= depth)) throw new Error(`encoder blocks [${from}, ${to}) are outside 0..${depth}`)
    let h = hidden
    for (let i = from; i < to; i++) h = transformerBlock(tf, h, this.block(`blocks.${i}`), this.cfg.num_heads, this.eps)
    if (to === depth && from < depth) h = layerNorm(tf, h, this.v('norm.weight'), this.v('norm.bias'), this.eps) as Tensor3D
    return h // [N, S, D]
  }

  /** Decoder: latent [N, 1 + Lkeep, D] and ids_restore [N, L] -> pred [N, L, tub*p*p*C]. */
  forwardDecoder(latent: Tensor3D, idsRestore: Tensor2D | ArrayLike<number>): Tensor3D {
    if (!this.hasDecoder) throw new Error('PrithviMAE was built without decoder')
    const n = latent.shape[0]
    const isTensor = typeof (idsRestore as Tensor).dataSync === 'function'
    // The host copy made with the plan: no device read (WebGPU cannot read synchronously in Node).
    const ids = isTensor ? (this.idsOnHost.get(idsRestore as Tensor) ?? (idsRestore as Tensor).dataSync()) : (idsRestore as ArrayLike<number>)
    const plan = planFromIdsRestore(ids, n, this.numPatches, latent.shape[1] - 1)
    return this.tf.tidy(() => this.decode(latent, plan))
  }

  /**
   * Mean squared error per patch over all channels of the target patch (or only `channels`, indices
   * into C, e.g. [0, 1, 2] for the RGB loss), averaged over removed patches. imgs [N, C, T, H, W],
   * pred [N, L, P], mask [N, L].
   */
  forwardLoss(imgs: Tensor, pred: Tensor, mask: Tensor, opts: { channels?: number[] } = {}): Scalar {
    const tf = this.tf
    return tf.tidy(() => {
      let target = patchify(tf, imgs, this.geometry) // [N, L, P]
      const P = target.shape[2]
      if (this.cfg.norm_pix_loss) {
        const mean = tf.mean(target, -1, true)
        const variance = tf.div(tf.sum(tf.square(tf.sub(target, mean)), -1, true), P - 1) // unbiased, as torch.var
        target = tf.div(tf.sub(target, mean), tf.sqrt(tf.add(variance, 1e-6)))
      }
      const sq = tf.square(tf.sub(pred, target)) // [N, L, P]
      let perPatch: Tensor // [N, L]
      if (opts.channels) {
        const C = this.cfg.in_chans
        const pick = new Float32Array(P)
        for (let k = 0; k < P; k++) pick[k] = opts.channels.includes(k % C) ? 1 : 0
        const count = pick.reduce((a, b) => a + b, 0)
        if (count === 0) throw new Error(`channels [${opts.channels.join(', ')}] select nothing out of ${C}`)
        perPatch = tf.div(tf.sum(tf.mul(sq, tf.tensor1d(pick)), -1), count)
      } else perPatch = tf.mean(sq, -1)
      return tf.div(tf.sum(tf.mul(perPatch, mask)), tf.sum(mask)) as Scalar
    })
  }

  /** Full MAE: x [N, C, T, H, W] -> loss, pred [N, L, tub*p*p*C], mask [N, L], ids_restore [N, L]. */
  forwardMae(x: Tensor, maskRatio = 0.75, noise?: Noise): MaeOutput {
    if (!this.hasDecoder) throw new Error('PrithviMAE was built without decoder')
    const plan = this.randomMasking(this.checkInput(x), maskRatio, noise)
    return this.tf.tidy(() => {
      const latent = this.encode(x, plan) // [N, 1+Lkeep, D]
      const pred = this.decode(latent, plan) // [N, L, P]
      const { mask, idsRestore } = this.planTensors(plan)
      const loss = this.forwardLoss(x, pred, mask)
      return { loss, pred, mask, idsRestore }
    })
  }

  /** All trainable parameters (tfjs layouts), in state_dict order. */
  trainableVariables(): Variable[] {
    return this.specs.map((s) => this.v<Variable>(s.name))
  }

  /** The variable holding a checkpoint parameter (tfjs layout, see params.ts). */
  variable(name: string): Variable {
    return this.v<Variable>(name)
  }

  /** Parameter names and layouts. */
  parameterSpecs(): readonly ParamSpec[] {
    return this.specs
  }

  /** Reads the parameters back as a state dict in PyTorch layouts (with the fixed pos embeds unless disabled). */
  async toWeightMap(opts: { posEmbed?: boolean } = {}): Promise<WeightMap> {
    const out: WeightMap = new Map()
    for (const spec of this.specs) {
      // data(), not dataSync(): the WebGPU backend cannot read synchronously in Node.
      const data = (await this.v<Variable>(spec.name).data()) as Float32Array
      out.set(spec.name, { shape: spec.torchShape.slice(), data: toTorchLayout(spec, data) })
    }
    if (opts.posEmbed ?? true) for (const [k, v] of posEmbedWeights(this.cfg, this.hasDecoder)) out.set(k, v)
    return out
  }

  dispose(): void {
    if (this.disposed) return
    for (const v of this.vars.values()) v.dispose()
    for (const t of this.fixed) t.dispose()
    this.vars.clear()
    this.disposed = true
  }
}

// One training run's model, head and optimiser, and its step: classification (CLS -> dropout ->
// linear -> BCE / CE, with token masking), segmentation (encoder -> HLS neck -> FCN head -> CE /
// Dice) and MAE pre-training (the model's own decoder and loss). The randomness of step s (masking
// noise, dropout) is drawn from (seed, s), so a resumed run repeats an uninterrupted one exactly.
import type { Scalar, Tensor, Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import { PrithviMAE } from '../model/prithvi'
import { withTransientWeights } from '../model/ops'
import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import { AdamOptimizer, clipGlobalNorm, squaredGlobalNorm, type NamedVariable } from './optimizer'
import { learningRate } from './schedule'
import { dropoutMask, streamRandom, uniformArray } from './rng'
import {
  classifierForward,
  classifierOutputs,
  classifierSpecs,
  HeadParams,
  segmentationForward,
  segmentationSpecs,
  updateRunningStats,
  type SegHeadOptions
} from './heads'
import { bceWithLogits, crossEntropy, segmentationLoss } from './losses'
import type { BatchStats } from './convs'
import type { Batch } from './data'

export class NonFiniteLossError extends Error {
  constructor(step: number, value: number, lr: number, cause: 'optimisation' | 'input' = 'optimisation') {
    super(
      cause === 'input'
        ? `training stopped: the loss became ${value} at step ${step}: the step's input batch holds NaN or infinite pixel values (check the images and their preprocessing)`
        : `training stopped: the loss became ${value} at step ${step} (learning rate ${lr.toExponential(2)}); lower the learning rate or enable gradient clipping`
    )
    this.name = 'NonFiniteLossError'
  }
}

/** Whether every value is finite (checked on the host: a NaN in a masked-out patch never reaches the loss). */
function allFinite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

export interface StepResult {
  loss: number
  lr: number
  gradNorm: number
}

export interface TrainerOptions {
  tf: Tf
  config: RunConfig
  /** Backbone architecture (num_frames 1). */
  modelConfig: PrithviConfig
  /** Backbone weights in PyTorch layout (decoder included for pre-training). */
  weights: WeightMap
  numClasses: number
  /** Classification: resolved loss weight per class (see RunConfig.classWeights). */
  classWeights?: number[]
}

export class Trainer {
  readonly model: PrithviMAE
  readonly head: HeadParams | undefined
  readonly optimizer: AdamOptimizer
  readonly segOptions: SegHeadOptions | undefined
  readonly grid: number
  private readonly tf: Tf
  private readonly cfg: RunConfig
  private readonly params: NamedVariable[]
  private readonly classWeights: number[] | undefined

  constructor(o: TrainerOptions) {
    const { tf, config: cfg, modelConfig } = o
    this.tf = tf
    this.cfg = cfg
    if (o.classWeights && o.classWeights.length !== o.numClasses) throw new Error(`${o.classWeights.length} class weights for ${o.numClasses} classes`)
    this.classWeights = o.classWeights
    const task = cfg.task
    const mc = { ...modelConfig, num_frames: 1, ...(task === 'pretrain' && cfg.normPixLoss !== undefined ? { norm_pix_loss: cfg.normPixLoss } : {}) }
    this.grid = mc.img_size / mc.patch_size
    this.model = PrithviMAE.fromWeights(tf, mc, o.weights, { decoder: task === 'pretrain', seed: cfg.seed })
    const headRng = streamRandom(cfg.seed, 'head-init')
    if (task === 'classification') {
      this.head = new HeadParams(tf, classifierSpecs(mc.embed_dim, o.numClasses), headRng)
    } else if (task === 'segmentation') {
      const seg = cfg.segmentation!
      if (mc.patch_size !== 16) throw new Error(`the segmentation neck upsamples tokens x16, so it needs patch_size 16 (this model has ${mc.patch_size})`)
      this.segOptions = { embedDim: mc.embed_dim, neckDim: seg.neckDim ?? mc.embed_dim, headChannels: seg.headChannels, numClasses: seg.numClasses, auxHead: seg.auxHead }
      this.head = new HeadParams(tf, segmentationSpecs(this.segOptions), headRng)
    }
    const backbone: NamedVariable[] = cfg.freezeBackbone && this.head ? [] : this.model.parameterSpecs().map((s) => ({ name: s.name, variable: this.model.variable(s.name) }))
    this.params = [...backbone, ...(this.head?.trainable() ?? [])]
    this.optimizer = new AdamOptimizer(tf, cfg.optimizer, this.params)
  }

  get modelConfig(): PrithviConfig {
    return this.model.cfg
  }

  get imgSize(): number {
    return this.model.cfg.img_size
  }

  /** Number of classifier outputs (1 for a binary task). */
  private get outputs(): number {
    return this.head ? this.head.get<Tensor2D>('head.weight').shape[1] : 0
  }

  private input(batch: Batch): Tensor {
    const s = this.imgSize
    return this.tf.tensor(batch.x, [batch.n, 6, 1, s, s], 'float32')
  }

  private onehot(labels: ArrayLike<number>, k: number, shape: number[]): Tensor {
    const data = new Float32Array(labels.length * k)
    for (let i = 0; i < labels.length; i++) data[i * k + labels[i]!] = 1
    return this.tf.tensor(data, [...shape, k], 'float32')
  }

  /**
   * Per-image loss weights of a whole batch: the class weight of each label, normalised to mean 1
   * over the batch, so that the mean of weighted terms is torch's weighted mean sum(w l) / sum(w)
   * and a batch split into micro-batches sums to the same loss. Undefined when unweighted.
   */
  sampleWeights(labels: ArrayLike<number>): Float32Array | undefined {
    const cw = this.classWeights
    if (!cw) return undefined
    const w = Float32Array.from(labels, (l) => cw[l]!)
    const total = w.reduce((a, b) => a + b, 0)
    if (!(total > 0)) return undefined
    for (let i = 0; i < w.length; i++) w[i] = (w[i]! * w.length) / total
    return w
  }

  /**
   * Classification loss for a batch, with the given masking noise and dropout mask (none at
   * evaluation) and per-image weights (training with class weights; see sampleWeights).
   */
  classificationLoss(batch: Batch, maskRatio: number, noise?: Float32Array, dropMask?: Float32Array, weights?: Float32Array): { loss: Scalar; logits: Tensor2D } {
    const logits = this.classifierLogits(batch, maskRatio, noise, dropMask)
    return { loss: this.lossOfLogits(logits, batch.labels!, weights), logits }
  }

  /** Classifier logits [n, outputs] of a batch (no tidy: callers wrap). */
  private classifierLogits(batch: Batch, maskRatio: number, noise?: Float32Array, dropMask?: Float32Array): Tensor2D {
    const tf = this.tf
    const { latent } = this.model.forwardEncoder(this.input(batch), maskRatio, noise)
    const d = this.model.cfg.embed_dim
    return classifierForward(tf, this.head!, latent, dropMask ? tf.tensor2d(dropMask, [batch.n, d]) : undefined, this.cfg.pool)
  }

  /** BCE / CE of logits [n, outputs] against labels [n], optionally weighted per image (no tidy: callers wrap). */
  private lossOfLogits(logits: Tensor2D, labels: ArrayLike<number>, weights?: Float32Array): Scalar {
    const tf = this.tf
    const n = logits.shape[0]
    const w = weights ? tf.tensor2d(weights, [n, 1]) : undefined
    return this.outputs === 1
      ? bceWithLogits(tf, logits, tf.tensor2d(Float32Array.from(labels), [n, 1]), w)
      : crossEntropy(tf, logits, w ? tf.mul(this.onehot(labels, this.outputs, [n]), w) : this.onehot(labels, this.outputs, [n]))
  }

  /** Segmentation loss (decode head + weighted auxiliary head) for a training batch. */
  private segmentationLoss(batch: Batch, rng: () => number, stats: { value?: Map<string, BatchStats> }): Scalar {
    const tf = this.tf
    const seg = this.cfg.segmentation!
    const o = this.segOptions!
    const x = this.input(batch)
    const { latent } = this.model.forwardEncoder(x, 0)
    const p = seg.headDropout
    const drop = (channels: number) => (p > 0 ? tf.tensor2d(dropoutMask(rng, batch.n * channels, p), [batch.n, channels]) : undefined)
    const dDecode = drop(o.headChannels)
    const dAux = o.auxHead ? drop(o.headChannels) : undefined
    const out = segmentationForward(tf, this.head!, latent, this.grid, o, true, { ...(dDecode ? { decode: dDecode } : {}), ...(dAux ? { aux: dAux } : {}) })
    for (const s of out.bnStats.values()) {
      tf.keep(s.mean)
      tf.keep(s.variance)
    }
    stats.value = out.bnStats
    const s = this.imgSize
    const onehot = this.onehot(batch.masks!, o.numClasses, [batch.n, s, s])
    let loss = segmentationLoss(tf, seg.loss, out.logits, onehot, seg.classWeights)
    if (out.aux) loss = tf.add(loss, tf.mul(segmentationLoss(tf, seg.loss, out.aux, onehot, seg.classWeights), seg.auxWeight)) as Scalar
    return loss
  }

  /** The images [start, start + n) of a batch. */
  private slice(batch: Batch, start: number, n: number): Batch {
    const s = this.imgSize
    const plane = 6 * s * s
    return {
      step: batch.step,
      n,
      x: batch.x.subarray(start * plane, (start + n) * plane),
      ...(batch.labels ? { labels: batch.labels.subarray(start, start + n) } : {}),
      ...(batch.masks ? { masks: batch.masks.subarray(start * s * s, (start + n) * s * s) } : {})
    }
  }

  /**
   * One optimiser step on `batch` as step `step` (0-based). With `microBatch`, the batch's
   * gradients are accumulated over chunks (each chunk's loss weighted by its share of the batch).
   * Throws NonFiniteLossError on NaN / inf. The losses and the gradient norm are read from the
   * device once per step, together (asynchronously: WebGPU has no synchronous read in Node).
   */
  async trainStep(batch: Batch, step: number): Promise<StepResult> {
    const tf = this.tf
    const cfg = this.cfg
    const lr = learningRate(cfg.optimizer.lr, cfg.schedule, step, cfg.steps)
    // Whether a bad pixel reaches the loss depends on the mask (PyTorch's gather drops masked patches)
    // and on the backend (WGSL lets GPUs assume no NaN: 0 * NaN may give 0), so refuse it up front.
    if (!allFinite(batch.x)) throw new NonFiniteLossError(step + 1, NaN, lr, 'input')
    const rng = streamRandom(cfg.seed, 'step', step)
    const vars = this.params.map((p) => p.variable)
    const L = this.model.numPatches
    const d = this.model.cfg.embed_dim
    // Whole-batch randomness, drawn before chunking so a chunked step draws the same values.
    const noise = cfg.task === 'pretrain' || (cfg.task === 'classification' && cfg.maskRatio > 0) ? uniformArray(rng, batch.n * L) : undefined
    const drop = cfg.task === 'classification' && cfg.dropout > 0 ? dropoutMask(rng, batch.n * d, cfg.dropout) : undefined
    const weights = cfg.task === 'classification' ? this.sampleWeights(batch.labels!) : undefined
    const chunk = Math.min(cfg.microBatch ?? batch.n, batch.n)
    const named = new Map<string, Tensor>()
    const bnAll: Map<string, BatchStats>[] = []
    const chunkLosses: Scalar[] = []
    try {
      for (let start = 0; start < batch.n; start += chunk) {
        const n = Math.min(chunk, batch.n - start)
        const part = this.slice(batch, start, n)
        const share = n / batch.n
        const bn: { value?: Map<string, BatchStats> } = {}
        let lossFn: () => Scalar
        if (cfg.task === 'classification') {
          const partNoise = noise?.subarray(start * L, (start + n) * L)
          const partDrop = drop?.subarray(start * d, (start + n) * d)
          const partWeights = weights?.subarray(start, start + n)
          lossFn = () => this.classificationLoss(part, cfg.maskRatio, partNoise, partDrop, partWeights).loss
        } else if (cfg.task === 'segmentation') {
          lossFn = () => this.segmentationLoss(part, rng, bn)
        } else {
          const partNoise = noise!.subarray(start * L, (start + n) * L)
          lossFn = () => this.model.forwardMae(this.input(part), cfg.maskRatio, partNoise).loss
        }
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => (share === 1 ? lossFn() : (tf.mul(lossFn(), share) as Scalar))), vars as Variable[])
        chunkLosses.push(value)
        if (bn.value) bnAll.push(bn.value)
        for (const p of this.params) {
          const g = grads[p.variable.name]
          if (!g) continue
          const prev = named.get(p.name)
          if (prev) {
            named.set(p.name, tf.add(prev, g))
            prev.dispose()
            g.dispose()
          } else named.set(p.name, g)
        }
      }
      const numbers = tf.tidy(() => tf.concat([tf.stack(chunkLosses), tf.reshape(squaredGlobalNorm(tf, named), [1])]))
      const read = await numbers.data()
      numbers.dispose()
      // Summed in JavaScript in chunk order, as before: logged losses stay bit-identical.
      let loss = 0
      for (let i = 0; i < chunkLosses.length; i++) loss += read[i]!
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step + 1, loss, lr)
      const clipped = clipGlobalNorm(tf, named, cfg.gradClip, Math.sqrt(read[chunkLosses.length]!))
      try {
        if (!Number.isFinite(clipped.norm)) throw new NonFiniteLossError(step + 1, clipped.norm, lr)
        this.optimizer.apply(clipped.grads, lr)
        for (const stats of bnAll) updateRunningStats(tf, this.head!, stats)
      } finally {
        for (const g of clipped.grads.values()) if (!g.isDisposed) g.dispose()
      }
      return { loss, lr, gradNorm: clipped.norm }
    } finally {
      for (const g of named.values()) if (!g.isDisposed) g.dispose()
      tf.dispose(chunkLosses)
      for (const stats of bnAll) for (const s of stats.values()) tf.dispose([s.mean, s.variance])
    }
  }

  /**
   * Images per forward at evaluation: the training micro-batch. A forward keeps every intermediate
   * until its tidy ends, so a whole evaluation batch (2x the training batch, unmasked) in one
   * forward needed more wasm heap than a training step.
   */
  private get evalChunk(): number {
    return this.cfg.microBatch ?? this.cfg.batchSize
  }

  /**
   * Evaluation logits of a classification batch (no masking, no dropout) and its summed loss. The
   * encoder runs per evaluation chunk; the loss is taken over the whole batch's logits, as before.
   */
  async classifyBatch(batch: Batch): Promise<{ preds: Int32Array; scores: Float32Array | null; lossSum: number }> {
    const tf = this.tf
    const chunk = Math.min(this.evalChunk, batch.n)
    const parts: Tensor2D[] = []
    let kept: Tensor[] = []
    try {
      for (let start = 0; start < batch.n; start += chunk) {
        const part = this.slice(batch, start, Math.min(chunk, batch.n - start))
        parts.push(withTransientWeights(() => tf.tidy(() => this.classifierLogits(part, 0))))
      }
      kept = tf.tidy(() => {
        const logits = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as Tensor2D)
        const loss = this.lossOfLogits(logits, batch.labels!)
        const preds = this.outputs === 1 ? tf.cast(tf.greater(logits, 0), 'int32') : tf.argMax(logits, 1)
        return [logits, preds, loss]
      })
      const [logits, preds, loss] = await Promise.all(kept.map((t) => t.data()))
      return { preds: Int32Array.from(preds!), scores: this.outputs === 1 ? Float32Array.from(logits!) : null, lossSum: loss![0]! * batch.n }
    } finally {
      tf.dispose(parts)
      tf.dispose(kept)
    }
  }

  /** Segmentation logits [n, S, S, K] of model inputs [n, 6, 1, S, S] at evaluation, per evaluation chunk. */
  async segmentLogits(x: Float32Array, n: number): Promise<Float32Array> {
    const tf = this.tf
    const s = this.imgSize
    const k = this.segOptions!.numClasses
    const chunk = Math.min(this.evalChunk, n)
    const out = new Float32Array(n * s * s * k)
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start)
      const part = x.subarray(start * 6 * s * s, (start + m) * 6 * s * s)
      const logits = withTransientWeights(() =>
        tf.tidy(() => {
          const { latent } = this.model.forwardEncoder(tf.tensor(part, [m, 6, 1, s, s]), 0)
          return segmentationForward(tf, this.head!, latent as Tensor3D, this.grid, this.segOptions!, false).logits
        })
      )
      try {
        out.set(await logits.data(), start * s * s * k)
      } finally {
        logits.dispose()
      }
    }
    return out
  }

  /**
   * MAE loss of a pre-training batch with fixed noise. Encoder and decoder run per evaluation
   * chunk; the loss is taken over the whole batch's predictions, as forwardMae does.
   */
  async maeLoss(batch: Batch, noise: Float32Array): Promise<number> {
    const tf = this.tf
    const L = this.model.numPatches
    const chunk = Math.min(this.evalChunk, batch.n)
    const preds: Tensor[] = []
    const masks: Tensor[] = []
    try {
      for (let start = 0; start < batch.n; start += chunk) {
        const n = Math.min(chunk, batch.n - start)
        const part = this.slice(batch, start, n)
        withTransientWeights(() =>
          tf.tidy(() => {
            const enc = this.model.forwardEncoder(this.input(part), this.cfg.maskRatio, noise.subarray(start * L, (start + n) * L))
            preds.push(tf.keep(this.model.forwardDecoder(enc.latent, enc.idsRestore)))
            masks.push(tf.keep(enc.mask))
          })
        )
      }
      const loss = tf.tidy(() => {
        const cat = (ts: Tensor[]) => (ts.length === 1 ? ts[0]! : tf.concat(ts, 0))
        return this.model.forwardLoss(this.input(batch), cat(preds), cat(masks))
      })
      try {
        return (await loss.data())[0]!
      } finally {
        loss.dispose()
      }
    } finally {
      tf.dispose([...preds, ...masks])
    }
  }

  dispose(): void {
    this.optimizer.dispose()
    this.head?.dispose()
    this.model.dispose()
  }
}

// Classification: CLS (or mean) token -> dropout -> linear -> BCE (one logit, binary) or CE, with
// token masking while training and optional per-class loss weights. A batch carries labels [N].
import type { Scalar, Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core'
import type { Tf } from '../../tf/backend'
import type { PrithviMAE } from '../../model/prithvi'
import { withTransientWeights } from '../../model/ops'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import { classifierForward, classifierSpecs, headFromProbe, HeadParams, pooledFeatures } from '../heads'
import { bceWithLogits, crossEntropy } from '../losses'
import { dropoutMask, permutation, streamRandom, uniformArray } from '../rng'
import { DIHEDRAL_VIEWS, orientPlanes, validationBatches, type Batch, type ImageCache, type LoaderOptions, type Sample } from '../data'
import { evaluateClassification, type EvalResult } from '../evaluate'
import type { FrozenPrefix } from '../frozen-prefix'
import { fitLogistic, predictLogistic } from '@shared/probe/logistic'
import { ConfusionMatrix } from '../metrics'
import { evalChunk, lossOnlyPlan, modelInput, oneHot, sliceImages, type StepPlan, type TaskContext, type TrainingTask, type TrainingTaskKind } from './task'

export class ClassificationTask implements TrainingTask {
  readonly head: HeadParams
  private readonly tf: Tf
  private readonly cfg: RunConfig
  private readonly model: PrithviMAE
  private readonly numClasses: number
  private readonly classWeights: number[] | undefined
  private readonly positiveIndex: number | undefined
  private readonly frozenPrefix: FrozenPrefix | undefined

  constructor(ctx: TaskContext) {
    if (ctx.classWeights && ctx.classWeights.length !== ctx.numClasses) throw new Error(`${ctx.classWeights.length} class weights for ${ctx.numClasses} classes`)
    this.tf = ctx.tf
    this.cfg = ctx.config
    this.model = ctx.model
    this.numClasses = ctx.numClasses
    this.classWeights = ctx.classWeights
    this.positiveIndex = ctx.positiveIndex
    this.frozenPrefix = ctx.frozenPrefix
    this.head = new HeadParams(ctx.tf, classifierSpecs(ctx.model.cfg.embed_dim, ctx.numClasses, ctx.config.headInit ?? 'uniform'), streamRandom(ctx.config.seed, 'head-init'))
  }

  /** Number of classifier outputs (1 for a binary task). */
  private get outputs(): number {
    return this.head.get<Tensor2D>('head.weight').shape[1]
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

  planStep(batch: Batch, rng: () => number): StepPlan {
    const cfg = this.cfg
    const L = this.model.numPatches
    const d = this.model.cfg.embed_dim
    // Drawn in this order (noise, then dropout) from the step's stream: resumed runs repeat it.
    const noise = cfg.maskRatio > 0 ? uniformArray(rng, batch.n * L) : undefined
    const drop = cfg.dropout > 0 ? dropoutMask(rng, batch.n * d, cfg.dropout) : undefined
    const weights = this.sampleWeights(batch.labels!)
    if (this.frozenPrefix) return this.partialPlan(batch, noise, drop, weights, this.frozenPrefix)
    return lossOnlyPlan((part, start) => {
      const end = start + part.n
      return this.loss(part, cfg.maskRatio, noise?.subarray(start * L, end * L), drop?.subarray(start * d, end * d), weights?.subarray(start, end)).loss
    })
  }

  /**
   * A step of partial fine-tuning: the same masking plan (from the same noise) and dropout as a full
   * step, but the frozen blocks' output comes from ONNX Runtime once for the whole batch (prepare),
   * and each micro-batch's loss runs only the trained blocks, the norm and the head in tfjs.
   */
  private partialPlan(batch: Batch, noise: Float32Array | undefined, drop: Float32Array | undefined, weights: Float32Array | undefined, prefix: FrozenPrefix): StepPlan {
    const tf = this.tf
    const d = this.model.cfg.embed_dim
    const plan = this.model.randomMasking(batch.n, this.cfg.maskRatio, noise)
    const S = 1 + plan.lenKeep
    let hidden: Float32Array | undefined
    return {
      prepare: async () => {
        hidden = await prefix.forward(batch.x, plan)
      },
      loss: (part, start) => {
        if (!hidden) throw new Error('partial fine-tuning: the frozen blocks have not run for this step')
        const h = tf.tensor3d(hidden.subarray(start * S * d, (start + part.n) * S * d), [part.n, S, d]) // [n, 1+Lkeep, D]
        const latent = this.model.encodeFrom(h, prefix.blocks) // [n, 1+Lkeep, D]
        const end = start + part.n
        const dropMask = drop ? tf.tensor2d(drop.subarray(start * d, end * d), [part.n, d]) : undefined
        const logits = classifierForward(tf, this.head, latent, dropMask, this.cfg.pool)
        return this.lossOfLogits(logits, part.labels!, weights?.subarray(start, end))
      },
      afterUpdate: () => {},
      dispose: () => {
        hidden = undefined
      }
    }
  }

  /**
   * Loss for a batch, with the given masking noise and dropout mask (none at evaluation) and
   * per-image weights (training with class weights; see sampleWeights). No tidy: callers wrap.
   */
  loss(batch: Batch, maskRatio: number, noise?: Float32Array, dropMask?: Float32Array, weights?: Float32Array): { loss: Scalar; logits: Tensor2D } {
    const logits = this.logits(batch, maskRatio, noise, dropMask)
    return { loss: this.lossOfLogits(logits, batch.labels!, weights), logits }
  }

  /** Classifier logits [n, outputs] of a batch (no tidy: callers wrap). */
  private logits(batch: Batch, maskRatio: number, noise?: Float32Array, dropMask?: Float32Array): Tensor2D {
    const tf = this.tf
    const { latent } = this.model.forwardEncoder(modelInput(tf, batch, this.model.cfg.img_size), maskRatio, noise)
    const d = this.model.cfg.embed_dim
    return classifierForward(tf, this.head, latent, dropMask ? tf.tensor2d(dropMask, [batch.n, d]) : undefined, this.cfg.pool)
  }

  /** BCE / CE of logits [n, outputs] against labels [n], optionally weighted per image (no tidy: callers wrap). */
  private lossOfLogits(logits: Tensor2D, labels: ArrayLike<number>, weights?: Float32Array): Scalar {
    const tf = this.tf
    const n = logits.shape[0]
    const w = weights ? tf.tensor2d(weights, [n, 1]) : undefined
    return this.outputs === 1
      ? bceWithLogits(tf, logits, tf.tensor2d(Float32Array.from(labels), [n, 1]), w)
      : crossEntropy(tf, logits, w ? tf.mul(oneHot(tf, labels, this.outputs, [n]), w) : oneHot(tf, labels, this.outputs, [n]))
  }

  slice(batch: Batch, start: number, n: number): Batch {
    return { ...sliceImages(batch, start, n, this.model.cfg.img_size), labels: batch.labels!.subarray(start, start + n) }
  }

  /**
   * Evaluation logits of a batch (no masking, no dropout) and its summed loss. The encoder runs per
   * evaluation chunk; the loss is taken over the whole batch's logits, as before.
   */
  async classifyBatch(batch: Batch): Promise<{ preds: Int32Array; scores: Float32Array | null; lossSum: number }> {
    const tf = this.tf
    const chunk = Math.min(evalChunk(this.cfg), batch.n)
    const parts: Tensor2D[] = []
    let kept: Tensor[] = []
    try {
      const s = this.model.cfg.img_size
      const views = this.cfg.tta === 'dihedral' ? DIHEDRAL_VIEWS : DIHEDRAL_VIEWS.slice(0, 1)
      for (let start = 0; start < batch.n; start += chunk) {
        const part = sliceImages(batch, start, Math.min(chunk, batch.n - start), s)
        // Test-time augmentation: the mean of the views' logits (one view without it).
        const perView: Tensor2D[] = []
        try {
          for (const view of views) perView.push(await this.evalLatentThen({ ...part, x: orientPlanes(part.x, s, view.flipH, view.quarter) }, (latent) => classifierForward(tf, this.head, latent, undefined, this.cfg.pool)))
          parts.push(perView.length === 1 ? perView.pop()! : tf.tidy(() => tf.div(tf.addN(perView), perView.length) as Tensor2D))
        } finally {
          tf.dispose(perView)
        }
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

  /**
   * `then` of the encoder's output [n, 1+L, D] for a batch at evaluation (every token, no dropout),
   * in one tidy. Partial fine-tuning: the frozen blocks run in ONNX Runtime first, as in training.
   */
  private async evalLatentThen(part: Batch, then: (latent: Tensor3D) => Tensor2D): Promise<Tensor2D> {
    const tf = this.tf
    const prefix = this.frozenPrefix
    if (prefix) {
      const plan = this.model.randomMasking(part.n, 0)
      const hidden = await prefix.forward(part.x, plan)
      const d = this.model.cfg.embed_dim
      return withTransientWeights(() => tf.tidy(() => then(this.model.encodeFrom(tf.tensor3d(hidden, [part.n, 1 + plan.lenKeep, d]), prefix.blocks))))
    }
    return withTransientWeights(() => tf.tidy(() => then(this.model.forwardEncoder(modelInput(tf, part, this.model.cfg.img_size), 0).latent)))
  }

  /**
   * LP-FT's first stage (RunConfig.headInit 'linear-probe'): the head becomes a logistic regression
   * fitted (L-BFGS, L2 1e-2 on standardised features, the run's class weights) on the pooled
   * features of the training images, as the backbone gives them before any step (no augmentation,
   * no dropout). At most `maxImages` of them, a seeded choice when there are more.
   */
  async fitHeadByProbe(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal, onProgress?: (done: number, total: number) => void, maxImages = 2048): Promise<{ images: number; iterations: number; converged: boolean; trainBalancedAccuracy: number }> {
    if (!samples.length) throw new Error('linear-probe head: the training set is empty')
    let chosen = samples
    if (samples.length > maxImages) {
      const picked = Array.from(permutation(samples.length, streamRandom(this.cfg.seed, 'probe-head')).subarray(0, maxImages)).sort((a, b) => a - b)
      chosen = picked.map((i) => samples[i]!)
    }
    const d = this.model.cfg.embed_dim
    const features = new Float32Array(chosen.length * d)
    const labels = new Int32Array(chosen.length)
    let done = 0
    for await (const batch of validationBatches(chosen, { ...opts, augment: false }, cache, evalChunk(this.cfg))) {
      if (signal.aborted) throw signal.reason
      const pooled = await this.evalLatentThen(batch, (latent) => pooledFeatures(this.tf, latent, this.cfg.pool))
      try {
        features.set((await pooled.data()) as Float32Array, done * d)
      } finally {
        pooled.dispose()
      }
      labels.set(batch.labels!, done)
      done += batch.n
      onProgress?.(done, chosen.length)
    }
    for (let i = 0; i < features.length; i++)
      if (!Number.isFinite(features[i]!)) throw new Error(`linear-probe head: the backbone gave a non-finite feature for ${chosen[Math.floor(i / d)]!.path}`)
    const x = { n: chosen.length, dim: d, data: features }
    const probe = fitLogistic(x, labels, this.numClasses, { classWeight: this.classWeights ?? 'none' })
    this.head.load(headFromProbe(probe))
    // The probe's own balanced accuracy on what it was fitted on: a check that it separates anything.
    const probs = predictLogistic(probe, x)
    const k = this.numClasses
    const preds = Int32Array.from({ length: x.n }, (_, i) => {
      let best = 0
      for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c
      return best
    })
    const cm = new ConfusionMatrix(k)
    cm.addAll(labels, preds)
    const trainBalancedAccuracy = cm.balancedAccuracy()
    return { images: chosen.length, iterations: probe.iterations, converged: probe.converged, trainBalancedAccuracy }
  }

  async startHead(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<string | undefined> {
    if (this.cfg.headInit !== 'linear-probe') return undefined
    const t0 = performance.now()
    const r = await this.fitHeadByProbe(samples, opts, cache, signal, onProgress)
    return `linear-probe head: logistic regression on the pooled features of ${r.images} training images, ${r.iterations} L-BFGS iterations${r.converged ? '' : ' (not converged)'}, balanced accuracy ${r.trainBalancedAccuracy.toFixed(3)} on them, ${((performance.now() - t0) / 1000).toFixed(1)} s`
  }

  evaluate(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal): Promise<EvalResult> {
    return evaluateClassification(this, samples, opts, cache, this.numClasses, signal, this.positiveIndex)
  }

  dispose(): void {
    this.head.dispose()
  }
}

export const classification: TrainingTaskKind = {
  backbone: (_config, arch) => ({ arch: { ...arch, num_frames: 1 }, decoder: false }),
  create: (ctx) => new ClassificationTask(ctx)
}

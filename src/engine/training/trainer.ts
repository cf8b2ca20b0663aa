// One training run's model, task and optimiser, and its step. The task (tasks/: classification,
// segmentation, MAE pre-training) gives the head, the loss of each micro-batch, the evaluation and
// what a batch carries; the Trainer accumulates gradients over micro-batches, clips, checks for NaN
// and updates, the same for every task. The randomness of step s (masking noise, dropout) is drawn
// from (seed, s), so a resumed run repeats an uninterrupted one exactly.
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import { PrithviMAE } from '../model/prithvi'
import { paramSpecs } from '../model/params'
import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import { AdamOptimizer, clipGlobalNorm, squaredGlobalNorm, type NamedVariable } from './optimizer'
import { learningRate } from './schedule'
import { streamRandom } from './rng'
import type { HeadParams } from './heads'
import type { Batch, ImageCache, LoaderOptions, Sample } from './data'
import type { EvalResult } from './evaluate'
import { TRAINING_TASKS } from './tasks/registry'
import type { TrainingTask } from './tasks/task'
import { FrozenPrefix, isFrozenParameter } from './frozen-prefix'
import { freezeBlocksProblem } from '@shared/training/freeze-blocks'
import type { Device } from '../onnx/runtime'

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
  /** Binary classification: the class whose precision / recall / F1 / AUC evaluation reports. */
  positiveIndex?: number
  /** Partial fine-tuning (config.freezeBlocks > 0): the ONNX Runtime device of the frozen blocks (default 'auto'). */
  frozenDevice?: Device
  /** Partial fine-tuning: keep the frozen prefix's graph here (by content hash), so a GPU session stays warm between runs. */
  frozenCacheDir?: string
}

export class Trainer {
  readonly model: PrithviMAE
  readonly task: TrainingTask
  readonly optimizer: AdamOptimizer
  private readonly tf: Tf
  private readonly cfg: RunConfig
  private readonly params: NamedVariable[]
  /** Partial fine-tuning: the first K blocks in ONNX Runtime (undefined when K = 0). */
  readonly frozenPrefix: FrozenPrefix | undefined

  constructor(o: TrainerOptions) {
    const { tf, config: cfg } = o
    this.tf = tf
    this.cfg = cfg
    const kind = TRAINING_TASKS[cfg.task]
    const { arch, decoder } = kind.backbone(cfg, o.modelConfig)
    const frozen = cfg.freezeBlocks ?? 0
    if (frozen > 0) {
      const why = freezeBlocksProblem(cfg, arch.depth)
      if (why) throw new Error(why)
      // Exported before the tfjs copy exists.
      this.frozenPrefix = new FrozenPrefix(arch, o.weights, frozen, { ...(o.frozenDevice ? { device: o.frozenDevice } : {}), ...(o.frozenCacheDir ? { cacheDir: o.frozenCacheDir } : {}) })
    }
    this.model = PrithviMAE.fromWeights(tf, arch, o.weights, { decoder, seed: cfg.seed })
    try {
      this.task = kind.create({ tf, config: cfg, model: this.model, numClasses: o.numClasses, ...(o.classWeights ? { classWeights: o.classWeights } : {}), ...(o.positiveIndex !== undefined ? { positiveIndex: o.positiveIndex } : {}), ...(this.frozenPrefix ? { frozenPrefix: this.frozenPrefix } : {}) })
    } catch (e) {
      this.model.dispose()
      void this.frozenPrefix?.release()
      throw e
    }
    const head = this.task.head
    const depth = this.model.cfg.depth
    // freezeBackbone: a head-only fine-tune, or (pre-training) a decoder-only fit to a fixed encoder.
    const encoder = cfg.freezeBackbone && !head ? new Set(paramSpecs(this.model.cfg, { decoder: false }).map((s) => s.name)) : undefined
    const backbone: NamedVariable[] =
      cfg.freezeBackbone && head
        ? []
        : this.model
            .parameterSpecs()
            .filter((s) => !isFrozenParameter(s.name, frozen, depth) && !encoder?.has(s.name))
            .map((s) => ({ name: s.name, variable: this.model.variable(s.name) }))
    this.params = [...backbone, ...(head?.trainable() ?? [])]
    this.optimizer = new AdamOptimizer(tf, cfg.optimizer, this.params)
  }

  /** The task's head (checkpoints, resume); none for pre-training. */
  get head(): HeadParams | undefined {
    return this.task.head
  }

  get modelConfig(): PrithviConfig {
    return this.model.cfg
  }

  get imgSize(): number {
    return this.model.cfg.img_size
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
    const vars = this.params.map((p) => p.variable)
    const plan = this.task.planStep(batch, streamRandom(cfg.seed, 'step', step))
    try {
      await plan.prepare?.()
    } catch (e) {
      plan.dispose()
      throw e
    }
    const chunk = Math.min(cfg.microBatch ?? batch.n, batch.n)
    const named = new Map<string, Tensor>()
    const chunkLosses: Scalar[] = []
    try {
      for (let start = 0; start < batch.n; start += chunk) {
        const n = Math.min(chunk, batch.n - start)
        const part = this.task.slice(batch, start, n)
        const share = n / batch.n
        const lossFn = () => plan.loss(part, start)
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => (share === 1 ? lossFn() : (tf.mul(lossFn(), share) as Scalar))), vars as Variable[])
        chunkLosses.push(value)
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
        plan.afterUpdate()
      } finally {
        for (const g of clipped.grads.values()) if (!g.isDisposed) g.dispose()
      }
      return { loss, lr, gradNorm: clipped.norm }
    } finally {
      for (const g of named.values()) if (!g.isDisposed) g.dispose()
      tf.dispose(chunkLosses)
      plan.dispose()
    }
  }

  /** The task's validation pass over `samples`. */
  evaluate(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal): Promise<EvalResult> {
    return this.task.evaluate(samples, opts, cache, signal)
  }

  /** Opens what the run needs before step 1 (the frozen prefix's ORT session); lines for the run's log. */
  async prepare(): Promise<string[]> {
    return this.frozenPrefix ? this.frozenPrefix.open() : []
  }

  dispose(): void {
    this.optimizer.dispose()
    this.task.dispose()
    this.model.dispose()
    void this.frozenPrefix?.release()
  }
}

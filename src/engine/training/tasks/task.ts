// What a training task is to the Trainer: its head, the loss of a step, its evaluation, and what its
// batch carries. One module per task (classification.ts, segmentation.ts, pretrain.ts) implements
// TrainingTask; the Trainer (../trainer.ts) owns the model, the optimiser and the step loop and
// never asks which task it runs.
import type { Scalar, Tensor } from '@tensorflow/tfjs-core'
import type { Tf } from '../../tf/backend'
import type { PrithviConfig } from '../../model/config'
import type { PrithviMAE } from '../../model/prithvi'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import type { HeadParams } from '../heads'
import type { Batch, ImageCache, LoaderOptions, Sample } from '../data'
import type { EvalResult } from '../evaluate'
import type { FrozenPrefix } from '../frozen-prefix'

/** One optimiser step of a task, once its whole-batch randomness is drawn. */
export interface StepPlan {
  /** Asynchronous work before the losses (partial fine-tuning: the frozen blocks in ONNX Runtime). */
  prepare?(): Promise<void>
  /**
   * The loss of `part`, the images [start, start + part.n) of the step's batch. Runs inside the
   * Trainer's `variableGrads` and `tidy`, once per micro-batch, in order.
   */
  loss(part: Batch, start: number): Scalar
  /** After the optimiser's update (batch-norm running statistics). */
  afterUpdate(): void
  /** Frees what the plan kept across micro-batches; called whether the step succeeded or not. */
  dispose(): void
}

export interface TrainingTask {
  /** Parameters trained beside the backbone; none where the task uses the model's own decoder. */
  readonly head: HeadParams | undefined
  /**
   * Draws the step's whole-batch randomness from `rng` (before chunking, so a micro-batched step
   * draws the same values as a whole one) and returns the step's loss per micro-batch.
   */
  planStep(batch: Batch, rng: () => number): StepPlan
  /** Images [start, start + n) of a batch, with this task's targets. */
  slice(batch: Batch, start: number, n: number): Batch
  /**
   * Before a fresh run's first step: fits the head from the training images where the run asks
   * for it (classification's 'linear-probe' head) and returns a log line; undefined when nothing ran.
   */
  startHead?(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<string | undefined>
  /** The validation pass and its `val/*` metrics. */
  evaluate(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal): Promise<EvalResult>
  dispose(): void
}

/** What every task is built from: the run, the backbone the Trainer built for it, and the classes. */
export interface TaskContext {
  tf: Tf
  config: RunConfig
  model: PrithviMAE
  numClasses: number
  /** Classification: resolved loss weight per class (see RunConfig.classWeights). */
  classWeights?: number[]
  /** Binary classification: the class whose precision / recall / AUC are reported. */
  positiveIndex?: number
  /** Partial fine-tuning: the first K encoder blocks, run in ONNX Runtime (classification only). */
  frozenPrefix?: FrozenPrefix
}

/** A task's two stages: the backbone it needs, then the task over that backbone. */
export interface TrainingTaskKind {
  /** The backbone architecture for this task (num_frames 1) and whether it keeps the MAE decoder. */
  backbone(config: RunConfig, arch: PrithviConfig): { arch: PrithviConfig; decoder: boolean }
  create(ctx: TaskContext): TrainingTask
}

// ------------------------------------------------------------------ batches, shared by the tasks

/** Model input [n, C, 1, S, S] of a batch (C: Prithvi's six bands, or the MAE layout's in_chans). */
export function modelInput(tf: Tf, batch: Batch, imgSize: number): Tensor {
  return tf.tensor(batch.x, [batch.n, batch.x.length / (batch.n * imgSize * imgSize), 1, imgSize, imgSize], 'float32')
}

/** One-hot targets [...shape, k] of class ids. */
export function oneHot(tf: Tf, labels: ArrayLike<number>, k: number, shape: number[]): Tensor {
  const data = new Float32Array(labels.length * k)
  for (let i = 0; i < labels.length; i++) data[i * k + labels[i]!] = 1
  return tf.tensor(data, [...shape, k], 'float32')
}

/** The pixels of images [start, start + n) of a batch; each task adds its targets. */
export function sliceImages(batch: Batch, start: number, n: number, imgSize: number): Batch {
  const plane = batch.x.length / batch.n // C * S * S
  return { step: batch.step, n, x: batch.x.subarray(start * plane, (start + n) * plane) }
}

/**
 * Images per forward at evaluation: the training micro-batch. A forward keeps every intermediate
 * until its tidy ends, so a whole evaluation batch (2x the training batch, unmasked) in one
 * forward needed more wasm heap than a training step.
 */
export function evalChunk(config: RunConfig): number {
  return config.microBatch ?? config.batchSize
}

/** A plan with nothing to do after the update and nothing kept. */
export function lossOnlyPlan(loss: StepPlan['loss']): StepPlan {
  return { loss, afterUpdate: () => {}, dispose: () => {} }
}

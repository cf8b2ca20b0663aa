// Segmentation: encoder -> HLS neck (tokens upsampled x16) -> FCN decode head (+ optional auxiliary
// head) -> CE / Dice / both, per pixel. A batch carries class ids [N, S, S]; evaluation slides
// windows over the resized validation images. The head's batch norms keep running statistics.
import type { Scalar, Tensor3D } from '@tensorflow/tfjs-core'
import type { Tf } from '../../tf/backend'
import type { PrithviMAE } from '../../model/prithvi'
import { withTransientWeights } from '../../model/ops'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import { HeadParams, segmentationForward, segmentationSpecs, updateRunningStats, type SegHeadOptions } from '../heads'
import { segmentationLoss } from '../losses'
import { dropoutMask, streamRandom } from '../rng'
import type { BatchStats } from '../convs'
import type { Batch, ImageCache, LoaderOptions, Sample } from '../data'
import { evaluateSegmentation, type EvalResult } from '../evaluate'
import { evalChunk, modelInput, oneHot, sliceImages, type StepPlan, type TaskContext, type TrainingTask, type TrainingTaskKind } from './task'

export class SegmentationTask implements TrainingTask {
  readonly head: HeadParams
  readonly options: SegHeadOptions
  private readonly tf: Tf
  private readonly seg: NonNullable<RunConfig['segmentation']>
  private readonly cfg: RunConfig
  private readonly model: PrithviMAE
  /** Tokens per side. */
  private readonly grid: number

  constructor(ctx: TaskContext) {
    const mc = ctx.model.cfg
    if (mc.patch_size !== 16) throw new Error(`the segmentation neck upsamples tokens x16, so it needs patch_size 16 (this model has ${mc.patch_size})`)
    this.tf = ctx.tf
    this.cfg = ctx.config
    this.seg = ctx.config.segmentation!
    this.model = ctx.model
    this.grid = mc.img_size / mc.patch_size
    const seg = this.seg
    this.options = { embedDim: mc.embed_dim, neckDim: seg.neckDim ?? mc.embed_dim, headChannels: seg.headChannels, numClasses: seg.numClasses, auxHead: seg.auxHead }
    this.head = new HeadParams(ctx.tf, segmentationSpecs(this.options), streamRandom(ctx.config.seed, 'head-init'))
  }

  get imgSize(): number {
    return this.model.cfg.img_size
  }

  /** Head dropout is drawn per micro-batch, in order, from the step's stream; batch statistics are kept for the update. */
  planStep(_batch: Batch, rng: () => number): StepPlan {
    const tf = this.tf
    const stats: Map<string, BatchStats>[] = []
    return {
      loss: (part) => this.loss(part, rng, stats),
      afterUpdate: () => {
        for (const s of stats) updateRunningStats(tf, this.head, s)
      },
      dispose: () => {
        for (const s of stats) for (const v of s.values()) tf.dispose([v.mean, v.variance])
      }
    }
  }

  /** Decode head loss + weighted auxiliary head loss of a training batch; its batch statistics go to `stats` (kept past the tidy). */
  private loss(batch: Batch, rng: () => number, stats: Map<string, BatchStats>[]): Scalar {
    const tf = this.tf
    const seg = this.seg
    const o = this.options
    const { latent } = this.model.forwardEncoder(modelInput(tf, batch, this.imgSize), 0)
    const p = seg.headDropout
    const drop = (channels: number) => (p > 0 ? tf.tensor2d(dropoutMask(rng, batch.n * channels, p), [batch.n, channels]) : undefined)
    const dDecode = drop(o.headChannels)
    const dAux = o.auxHead ? drop(o.headChannels) : undefined
    const out = segmentationForward(tf, this.head, latent, this.grid, o, true, { ...(dDecode ? { decode: dDecode } : {}), ...(dAux ? { aux: dAux } : {}) })
    for (const s of out.bnStats.values()) {
      tf.keep(s.mean)
      tf.keep(s.variance)
    }
    stats.push(out.bnStats)
    const s = this.imgSize
    const onehot = oneHot(tf, batch.masks!, o.numClasses, [batch.n, s, s])
    let loss = segmentationLoss(tf, seg.loss, out.logits, onehot, seg.classWeights)
    if (out.aux) loss = tf.add(loss, tf.mul(segmentationLoss(tf, seg.loss, out.aux, onehot, seg.classWeights), seg.auxWeight)) as Scalar
    return loss
  }

  slice(batch: Batch, start: number, n: number): Batch {
    const s = this.imgSize
    return { ...sliceImages(batch, start, n, s), masks: batch.masks!.subarray(start * s * s, (start + n) * s * s) }
  }

  /** Segmentation logits [n, S, S, K] of model inputs [n, C, 1, S, S] at evaluation, per evaluation chunk. */
  async segmentLogits(x: Float32Array, n: number): Promise<Float32Array> {
    const tf = this.tf
    const s = this.imgSize
    const k = this.options.numClasses
    const chunk = Math.min(evalChunk(this.cfg), n)
    const out = new Float32Array(n * s * s * k)
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start)
      const C = x.length / (n * s * s) // Prithvi's six bands or the MAE layout's in_chans
      const part = x.subarray(start * C * s * s, (start + m) * C * s * s)
      const logits = withTransientWeights(() =>
        tf.tidy(() => {
          const { latent } = this.model.forwardEncoder(tf.tensor(part, [m, C, 1, s, s]), 0)
          return segmentationForward(tf, this.head, latent as Tensor3D, this.grid, this.options, false).logits
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

  evaluate(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal): Promise<EvalResult> {
    const seg = this.seg
    return evaluateSegmentation(
      this,
      samples,
      opts,
      cache,
      { numClasses: seg.numClasses, previewTiles: seg.previewTiles, ...(seg.stride ? { stride: seg.stride } : {}), ...(seg.classWeights ? { classWeights: seg.classWeights } : {}) },
      signal
    )
  }

  dispose(): void {
    this.head.dispose()
  }
}

export const segmentation: TrainingTaskKind = {
  backbone: (_config, arch) => ({ arch: { ...arch, num_frames: 1 }, decoder: false }),
  create: (ctx) => new SegmentationTask(ctx)
}

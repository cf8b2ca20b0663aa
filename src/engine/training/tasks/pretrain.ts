// MAE pre-training: the model's own masked-autoencoder loss (encoder on the kept patches, decoder,
// MSE on the masked patches), no head. A batch carries only pixels; validation masks with noise
// drawn from (seed, 'eval-mask', batch index), so every evaluation masks the same patches.
import type { Tensor } from '@tensorflow/tfjs-core'
import type { Tf } from '../../tf/backend'
import type { PrithviMAE } from '../../model/prithvi'
import { withTransientWeights } from '../../model/ops'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import { uniformArray } from '../rng'
import type { Batch, ImageCache, LoaderOptions, Sample } from '../data'
import { evaluatePretrain, type EvalResult } from '../evaluate'
import { evalChunk, lossOnlyPlan, modelInput, sliceImages, type StepPlan, type TaskContext, type TrainingTask, type TrainingTaskKind } from './task'

export class PretrainTask implements TrainingTask {
  readonly head = undefined
  private readonly tf: Tf
  private readonly cfg: RunConfig
  private readonly model: PrithviMAE

  constructor(ctx: TaskContext) {
    this.tf = ctx.tf
    this.cfg = ctx.config
    this.model = ctx.model
  }

  get numPatches(): number {
    return this.model.numPatches
  }

  private get imgSize(): number {
    return this.model.cfg.img_size
  }

  planStep(batch: Batch, rng: () => number): StepPlan {
    const L = this.model.numPatches
    const noise = uniformArray(rng, batch.n * L)
    return lossOnlyPlan((part, start) => this.model.forwardMae(modelInput(this.tf, part, this.imgSize), this.cfg.maskRatio, noise.subarray(start * L, (start + part.n) * L)).loss)
  }

  slice(batch: Batch, start: number, n: number): Batch {
    return sliceImages(batch, start, n, this.imgSize)
  }

  /**
   * MAE loss of a batch with fixed noise. Encoder and decoder run per evaluation chunk; the loss is
   * taken over the whole batch's predictions, as forwardMae does.
   */
  async maeLoss(batch: Batch, noise: Float32Array): Promise<number> {
    const tf = this.tf
    const L = this.model.numPatches
    const chunk = Math.min(evalChunk(this.cfg), batch.n)
    const preds: Tensor[] = []
    const masks: Tensor[] = []
    try {
      for (let start = 0; start < batch.n; start += chunk) {
        const n = Math.min(chunk, batch.n - start)
        const part = this.slice(batch, start, n)
        withTransientWeights(() =>
          tf.tidy(() => {
            const enc = this.model.forwardEncoder(modelInput(tf, part, this.imgSize), this.cfg.maskRatio, noise.subarray(start * L, (start + n) * L))
            preds.push(tf.keep(this.model.forwardDecoder(enc.latent, enc.idsRestore)))
            masks.push(tf.keep(enc.mask))
          })
        )
      }
      const loss = tf.tidy(() => {
        const cat = (ts: Tensor[]) => (ts.length === 1 ? ts[0]! : tf.concat(ts, 0))
        return this.model.forwardLoss(modelInput(tf, batch, this.imgSize), cat(preds), cat(masks))
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

  evaluate(samples: Sample[], opts: LoaderOptions, cache: ImageCache, signal: AbortSignal): Promise<EvalResult> {
    return evaluatePretrain(this, samples, opts, cache, this.cfg.seed, signal)
  }

  dispose(): void {}
}

export const pretrain: TrainingTaskKind = {
  // The decoder is trained too; normPixLoss, where the run sets it, overrides the checkpoint's.
  backbone: (config, arch) => ({ arch: { ...arch, num_frames: 1, ...(config.normPixLoss !== undefined ? { norm_pix_loss: config.normPixLoss } : {}) }, decoder: true }),
  create: (ctx) => new PretrainTask(ctx)
}

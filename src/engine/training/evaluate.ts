// Validation passes: classification (loss, accuracy, balanced accuracy, AUC, precision, recall, F1, confusion matrix),
// segmentation by sliding-window inference over the resized validation images (logits of
// overlapping windows averaged, as MMSegmentation's 'slide' mode) with per-class IoU, mIoU and
// pixel accuracy, and the masked-autoencoder loss for pre-training. Each task (tasks/) calls its
// pass with itself as the model that scores a batch.
import { inputChannels, validationBatches, writeModelInput, type Batch, type ImageCache, type LoaderOptions, type Sample } from './data'
import { ConfusionMatrix, rocAuc } from './metrics'
import { streamRandom, uniformArray } from './rng'

export interface EvalResult {
  metrics: Record<string, number>
  /** Binary classification: the positive class's probability and the true label (1 = positive) of each validation image, for thresholds. */
  validation?: { probabilities: number[]; positive: number[] }
  confusion?: number[][]
  previews?: { size: number; image: string; truth: string; pred: string }[]
}

/**
 * `positiveIndex`: binary tasks, the class whose precision / recall / F1 / AUC are reported. The
 * head's one logit scores class 1; a positive class at index 0 gets the negated logit.
 */
export async function evaluateClassification(
  classifier: { classifyBatch(batch: Batch): Promise<{ preds: Int32Array; scores: Float32Array | null; lossSum: number }> },
  samples: Sample[],
  opts: LoaderOptions,
  cache: ImageCache,
  numClasses: number,
  signal: AbortSignal,
  positiveIndex?: number
): Promise<EvalResult> {
  const cm = new ConfusionMatrix(numClasses)
  let lossSum = 0
  let count = 0
  const scores: number[] = []
  const labels: number[] = []
  for await (const batch of validationBatches(samples, opts, cache, Math.max(8, opts.batchSize * 2))) {
    if (signal.aborted) throw signal.reason
    const { preds, scores: s, lossSum: l } = await classifier.classifyBatch(batch)
    cm.addAll(batch.labels!, preds)
    if (s) {
      scores.push(...s)
      labels.push(...batch.labels!)
    }
    lossSum += l
    count += batch.n
  }
  const s = cm.summary(numClasses === 2 ? positiveIndex : undefined)
  const positiveScores = positiveIndex === 0 ? scores.map((v) => -v) : scores
  const auc = scores.length && positiveIndex !== undefined ? rocAuc(positiveScores, labels, positiveIndex) : NaN
  const validation = scores.length && positiveIndex !== undefined ? { probabilities: positiveScores.map((v) => 1 / (1 + Math.exp(-v))), positive: labels.map((l) => (l === positiveIndex ? 1 : 0)) } : undefined
  return {
    metrics: { 'val/loss': lossSum / Math.max(1, count), 'val/accuracy': s.accuracy, 'val/balanced_accuracy': cm.balancedAccuracy(), 'val/precision': s.precision, 'val/recall': s.recall, 'val/f1': s.f1, ...(Number.isFinite(auc) ? { 'val/auc': auc } : {}) },
    confusion: cm.counts.map((r) => r.slice()),
    ...(validation ? { validation } : {})
  }
}

/** Window origins along one axis: 0, stride, ..., with the last window flush with the edge. */
export function windowStarts(size: number, window: number, stride: number): number[] {
  if (window >= size) return [0]
  const out: number[] = []
  for (let p = 0; p + window < size; p += stride) out.push(p)
  out.push(size - window)
  return [...new Set(out)]
}

export function segClassNames(k: number): string[] {
  return k === 2 ? ['background', 'crater'] : Array.from({ length: k }, (_, i) => `class${i}`)
}

/** Downsampled preview bytes (nearest), base64. */
function previewOf(src: Uint8Array, size: number, channels: number, out: number): string {
  const step = size / out
  const buf = Buffer.alloc(out * out * channels)
  for (let y = 0; y < out; y++)
    for (let x = 0; x < out; x++)
      for (let c = 0; c < channels; c++) buf[(y * out + x) * channels + c] = src[(Math.floor(y * step) * size + Math.floor(x * step)) * channels + c]!
  return buf.toString('base64')
}

export async function evaluateSegmentation(
  segmenter: { imgSize: number; segmentLogits(x: Float32Array, n: number): Promise<Float32Array> },
  samples: Sample[],
  opts: LoaderOptions,
  cache: ImageCache,
  seg: { numClasses: number; stride?: number; classWeights?: number[]; previewTiles: number },
  signal: AbortSignal
): Promise<EvalResult> {
  const k = seg.numClasses
  const s = segmenter.imgSize
  const stride = seg.stride ?? Math.max(1, Math.floor(s / 2))
  const cm = new ConfusionMatrix(k)
  const previews: NonNullable<EvalResult['previews']> = []
  let lossSum = 0
  let weightSum = 0
  const plane = inputChannels(opts.pre) * s * s
  const maxWindows = Math.max(1, opts.batchSize * 2)
  let next = samples.length ? cache.get(samples[0]!) : undefined
  for (let i = 0; i < samples.length; i++) {
    if (signal.aborted) throw signal.reason
    const d = await next!
    next = i + 1 < samples.length ? cache.get(samples[i + 1]!) : undefined
    next?.catch(() => {})
    const size = d.size
    const ys = windowStarts(size, s, stride)
    const windows = ys.flatMap((y) => ys.map((x) => [y, x] as const))
    const acc = new Float32Array(size * size * k)
    const hits = new Uint16Array(size * size)
    for (let w0 = 0; w0 < windows.length; w0 += maxWindows) {
      const part = windows.slice(w0, w0 + maxWindows)
      const x = new Float32Array(part.length * plane)
      part.forEach(([y, xx], j) => {
        const crop = new Uint8Array(s * s * 3)
        for (let r = 0; r < s; r++) crop.set(d.rgb.subarray(((y + r) * size + xx) * 3, ((y + r) * size + xx + s) * 3), r * s * 3)
        writeModelInput(crop, s, opts.pre, x, j * plane)
      })
      const logits = await segmenter.segmentLogits(x, part.length)
      part.forEach(([y, xx], j) => {
        for (let r = 0; r < s; r++)
          for (let c = 0; c < s; c++) {
            const dst = (y + r) * size + xx + c
            hits[dst]! += 1
            const src = ((j * s + r) * s + c) * k
            for (let q = 0; q < k; q++) acc[dst * k + q]! += logits[src + q]!
          }
      })
    }
    const pred = new Uint8Array(size * size)
    const truth = d.mask!
    for (let p = 0; p < size * size; p++) {
      let best = 0
      let max = -Infinity
      let sumExp = 0
      for (let q = 0; q < k; q++) {
        const v = acc[p * k + q]! / hits[p]!
        acc[p * k + q] = v
        if (v > max) {
          max = v
          best = q
        }
      }
      for (let q = 0; q < k; q++) sumExp += Math.exp(acc[p * k + q]! - max)
      const t = truth[p]!
      const w = seg.classWeights?.[t] ?? 1
      lossSum += w * -(acc[p * k + t]! - max - Math.log(sumExp))
      weightSum += w
      pred[p] = best
    }
    cm.addAll(truth, pred)
    if (previews.length < seg.previewTiles) {
      const out = Math.min(size, 128)
      previews.push({ size: out, image: previewOf(d.rgb, size, 3, out), truth: previewOf(truth, size, 1, out), pred: previewOf(pred, size, 1, out) })
    }
  }
  const iou = cm.iou()
  const names = segClassNames(k)
  const metrics: Record<string, number> = { 'val/loss': lossSum / Math.max(1, weightSum), 'val/miou': cm.meanIou(), 'val/pixel_accuracy': cm.accuracy() }
  iou.forEach((v, q) => {
    if (!Number.isNaN(v)) metrics[`val/iou/${names[q]}`] = v
  })
  return { metrics, confusion: cm.counts.map((r) => r.slice()), previews }
}

export async function evaluatePretrain(
  mae: { numPatches: number; maeLoss(batch: Batch, noise: Float32Array): Promise<number> },
  samples: Sample[], opts: LoaderOptions, cache: ImageCache, seed: number, signal: AbortSignal): Promise<EvalResult> {
  let sum = 0
  let count = 0
  let index = 0
  for await (const batch of validationBatches(samples, opts, cache, Math.max(8, opts.batchSize * 2))) {
    if (signal.aborted) throw signal.reason
    const noise = uniformArray(streamRandom(seed, 'eval-mask', index++), batch.n * mae.numPatches)
    sum += (await mae.maeLoss(batch, noise)) * batch.n
    count += batch.n
  }
  return { metrics: { 'val/loss': sum / Math.max(1, count) } }
}

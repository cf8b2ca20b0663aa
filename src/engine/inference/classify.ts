// Classifier inference with a training checkpoint: load backbone + head + meta, list the images,
// preprocess them exactly as the run was trained, run the classifier in batches (ONNX Runtime or
// TensorFlow.js) with progress and cancel, and return per-image probabilities, the predicted and
// (where the source has labels) the true class, plus the summary at threshold 0.5 / argmax.
import type { EngineJobInput } from '@shared/engine/jobs'
import { type InferenceOutcome, type Prediction } from '@shared/ipc/schemas/inference'
import { metricsAt, predictAt } from '@shared/inference/threshold'
import { MAE_NATIVE_METHOD } from '@shared/models/mae-input'
import { classIndex, listFiles, listFolder, modelInputs, modelRgb, thumbnail, type InferenceItem } from './images'
import { probabilitiesFromLogits } from './runners'
import { classifierBackend, openClassifierRunner, readClassifierCheckpoint, type InferenceJobEnv } from './classifier'
import { checkAborted } from '../jobs/abort'

/** The job's params, parsed (the engine parses them once, at the job boundary). */
export type ClassifyJobParams = EngineJobInput<'inference-classify'>

interface Decoded {
  item: InferenceItem
  rgb: Uint8Array | null
  error?: string
  thumbnail?: string
}

export async function runClassification(p: ClassifyJobParams, env: InferenceJobEnv = {}): Promise<InferenceOutcome> {
  const progress = env.progress ?? (() => {})
  const t0 = performance.now()
  progress(0, 1, 'loading the checkpoint')
  const checkpoint = await readClassifierCheckpoint(p.checkpoint, env.signal)
  const { meta, classes, pool, size: s, pre, sha256 } = checkpoint

  // Images first, so a wrong folder fails before any graph is built.
  const listed = p.items ?? (p.files ? listFiles(p.files) : p.folder ? listFolder(p.folder, classes) : [])
  if (!listed.length) throw new Error('no images given')
  const items = listed.slice(0, p.maxImages)

  const runner = await openClassifierRunner(checkpoint, p, env.tf)
  for (const note of runner.notes) env.log?.(note)
  const loadSeconds = (performance.now() - t0) / 1000

  try {
    const t1 = performance.now()
    const predictions: Prediction[] = []
    const skipped: { path: string; reason: string }[] = []
    const decode = (start: number): Promise<Decoded[]> =>
      Promise.all(
        items.slice(start, start + p.batchSize).map(async (item, j): Promise<Decoded> => {
          try {
            const rgb = await modelRgb(item, s)
            const thumb = start + j < p.thumbnails ? await thumbnail(item) : undefined
            return { item, rgb, ...(thumb ? { thumbnail: thumb } : {}) }
          } catch (err) {
            return { item, rgb: null, error: (err as Error).message }
          }
        })
      )
    let next: Promise<Decoded[]> | null = decode(0)
    for (let start = 0; next; start += p.batchSize) {
      checkAborted(env.signal)
      const batch: Decoded[] = await next
      // Decode the next batch (libvips threads) while this one runs.
      next = start + p.batchSize < items.length ? decode(start + p.batchSize) : null
      const ok = batch.filter((d): d is Decoded & { rgb: Uint8Array } => d.rgb !== null)
      for (const d of batch) if (!d.rgb) skipped.push({ path: d.item.path, reason: d.error ?? 'unreadable' })
      if (ok.length) {
        const logits = await runner.run(modelInputs(ok.map((d) => d.rgb), s, pre), ok.length)
        const probs = probabilitiesFromLogits(logits, ok.length, classes.length)
        ok.forEach((d, j) => {
          const label = d.item.label === null ? -1 : classIndex(classes, d.item.label)
          predictions.push({
            path: d.item.path,
            name: d.item.name,
            ...(d.item.region ? { region: d.item.region } : {}),
            probabilities: probs[j]!,
            predicted: predictAt(probs[j]!, 0.5),
            label: label >= 0 ? label : null,
            ...(d.thumbnail ? { thumbnail: d.thumbnail } : {})
          })
        })
      }
      const done = Math.min(items.length, start + p.batchSize)
      progress(done, items.length, `${done} of ${items.length} images`)
    }
    if (!predictions.length) throw new Error(`none of the ${items.length} image(s) could be read${skipped[0] ? ` (${skipped[0].path}: ${skipped[0].reason})` : ''}`)
    const seconds = (performance.now() - t1) / 1000
    return {
      classes,
      positiveIndex: classes.length === 2 ? 1 : null,
      ...(meta.validation && classes.length === 2
        ? { validationThreshold: { ...meta.validation.threshold, step: meta.validation.step, images: meta.validation.positive.length, positiveClass: meta.validation.positiveClass } }
        : {}),
      pool,
      backend: classifierBackend(runner),
      checkpoint: { path: p.checkpoint, sha256, step: meta.step, imgSize: s },
      preprocessing: { recipe: pre.native ? MAE_NATIVE_METHOD : pre.recipe, truncate: pre.native ? false : pre.truncate, tileNorm: pre.tileNorm ?? 'none', tta: checkpoint.tta, resize: `bilinear to ${s}×${s} (as in training)` },
      predictions,
      metrics: metricsAt(predictions, classes.length, 0.5),
      skipped,
      timing: { loadSeconds, seconds, imagesPerSecond: predictions.length / Math.max(seconds, 1e-9) }
    }
  } finally {
    await runner.dispose()
  }
}

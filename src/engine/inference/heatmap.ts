// A sliding-window probability heat map over one large image (a 2000² CTX tile, a 512×7589 HiRISE
// strip) with a classification run's checkpoint: the image's size is read from its header and an
// absurd one refused before decoding; it is decoded once, with its channels as stored (a grey CTX
// tile stays one byte a pixel); each window is cut, resized to the run's input size and
// preprocessed exactly as the run was trained, scored in batches with progress and cancel, and the
// chosen class's probability is returned per window with a small preview to draw the map over.
import { basename } from 'node:path'
import sharp from 'sharp'
import type { EngineJobInput } from '@shared/engine/jobs'
import type { HeatmapOutcome } from '@shared/ipc/schemas/inference'
import { assertHeatmapImageSize, fitSize, HEATMAP_MAX_PIXELS, windowGrid, type WindowScore } from '@shared/inference/heatmap'
import { resizeBilinear, toRgbImage, type HwcImage } from '@shared/imputation/preprocess'
import { cropRegion, unreadableReason } from '../reconstruction/images'
import { MAE_NATIVE_METHOD } from '@shared/models/mae-input'
import { classIndex, modelInputs } from './images'
import { probabilitiesFromLogits } from './runners'
import { classifierBackend, openClassifierRunner, readClassifierCheckpoint, type InferenceJobEnv } from './classifier'
import { checkAborted } from '../jobs/abort'

export type HeatmapJobParams = EngineJobInput<'inference-heatmap'>

/** Width, height and channels from the file's header (nothing decoded); an unreadable file is named. */
async function imageHeader(path: string): Promise<{ width: number; height: number; channels: number }> {
  try {
    const m = await sharp(path, { limitInputPixels: false }).metadata()
    if (!m.width || !m.height) throw new Error('no image size in its header')
    return { width: m.width, height: m.height, channels: m.channels ?? 3 }
  } catch (err) {
    throw new Error(`${path}: ${unreadableReason(path, err)}`)
  }
}

/** The whole image, 8 bits per channel, channels as stored (grey stays one channel). */
async function decodeWhole(path: string): Promise<HwcImage> {
  const { data, info } = await sharp(path, { limitInputPixels: HEATMAP_MAX_PIXELS }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width, channels: info.channels }
}

async function previewOf(path: string, width: number, height: number, maxSide: number): Promise<HeatmapOutcome['preview']> {
  const size = fitSize(width, height, maxSide)
  const jpg = await sharp(path, { limitInputPixels: HEATMAP_MAX_PIXELS }).resize(size.width, size.height, { fit: 'fill' }).removeAlpha().jpeg({ quality: 85 }).toBuffer()
  return { dataUrl: `data:image/jpeg;base64,${jpg.toString('base64')}`, ...size }
}

export async function runHeatmap(p: HeatmapJobParams, env: InferenceJobEnv = {}): Promise<HeatmapOutcome> {
  const progress = env.progress ?? (() => {})
  const t0 = performance.now()
  // The request is checked against the image before the checkpoint is read.
  const header = await imageHeader(p.image)
  assertHeatmapImageSize(header.width, header.height, basename(p.image))
  progress(0, 1, 'loading the checkpoint')
  const checkpoint = await readClassifierCheckpoint(p.checkpoint, env.signal)
  const { classes, size: s, pre, meta, sha256 } = checkpoint
  let target: number
  if (p.className !== undefined) {
    target = classIndex(classes, p.className)
    if (target < 0) throw new Error(`the run has no class "${p.className}" (classes: ${classes.join(', ')})`)
  } else if (classes.length === 2) target = 1 // binary runs keep their positive class at index 1
  else throw new Error(`this run has ${classes.length} classes (${classes.join(', ')}): name the one to map`)
  const window = p.window ?? s
  const stride = p.stride ?? Math.max(1, Math.floor(window / 2))
  const positions = windowGrid(header.width, header.height, window, stride)
  const columns = new Set(positions.map((q) => q.x)).size
  const rows = positions.length / columns

  const runner = await openClassifierRunner(checkpoint, { ...p, precision: 'fp32' }, env.tf)
  for (const note of runner.notes) env.log?.(note)
  try {
    checkAborted(env.signal)
    progress(0, positions.length, `decoding ${basename(p.image)} (${header.width}×${header.height})`)
    let image: HwcImage | null = await decodeWhole(p.image)
    const loadSeconds = (performance.now() - t0) / 1000
    const t1 = performance.now()
    const windows: WindowScore[] = []
    for (let start = 0; start < positions.length; start += p.batchSize) {
      checkAborted(env.signal)
      const batch = positions.slice(start, start + p.batchSize)
      const rgbs = batch.map(({ x, y }) => {
        const rgb = toRgbImage(cropRegion(image!, x, y, window, window))
        return window === s ? new Uint8Array(rgb.data) : (resizeBilinear(rgb, s, s).data as Uint8Array)
      })
      const logits = await runner.run(modelInputs(rgbs, s, pre), batch.length)
      const probs = probabilitiesFromLogits(logits, batch.length, classes.length)
      batch.forEach(({ x, y }, j) => windows.push({ x, y, width: window, height: window, probability: probs[j]![target]! }))
      const done = start + batch.length
      progress(done, positions.length, `${done} of ${positions.length} windows`)
    }
    image = null // the pixels can go before the preview is made
    const seconds = (performance.now() - t1) / 1000
    return {
      image: { path: p.image, name: basename(p.image), width: header.width, height: header.height, channels: header.channels },
      className: classes[target]!,
      classes,
      window,
      stride,
      columns,
      rows,
      windows,
      preview: await previewOf(p.image, header.width, header.height, p.previewSide),
      checkpoint: { path: p.checkpoint, sha256, step: meta.step, imgSize: s },
      backend: classifierBackend(runner),
      // The MAE layout's own input is what ran, not the run's (unused) recipe, as classify records it.
      preprocessing: { recipe: pre.native ? MAE_NATIVE_METHOD : pre.recipe, truncate: pre.native ? false : pre.truncate, tileNorm: pre.tileNorm ?? 'none', tta: checkpoint.tta, resize: window === s ? `none (window = input size ${s})` : `bilinear ${window}→${s} (as in training)` },
      timing: { loadSeconds, seconds, windowsPerSecond: windows.length / Math.max(seconds, 1e-9) }
    }
  } finally {
    await runner.dispose()
  }
}

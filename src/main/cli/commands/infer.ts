// `marsfm infer`: a fine-tuned classification run's checkpoint applied to a folder or files, from a
// shell. Runs the same engine job as the Inference view, records it in the ledger like the view,
// prints per-image probabilities and the summary (or writes JSON / CSV). `--heatmap` scores one
// large image window by window (the view's heat map) and writes the map as PNG and CSV.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { AppContext } from '../../app/types'
import type { CliIo, Command } from '../command'
import { UsageError } from '../command'
import { HeatmapOutcome, HeatmapRequest, type InferenceSource } from '@shared/ipc/schemas/inference'
import { windowScoresCsv } from '@shared/inference/heatmap'
import { writeHeatmapPng } from '../../inference/heatmap-png'
import { metricsAt, predictAt } from '@shared/inference/threshold'
import { predictionsCsv } from '@shared/inference/csv'
import { startHeatmap, startInference } from '../../services/inference'
import { getInferenceJob } from '../../inference/repository'
import { followJob } from '../run-job'
import { parseDevice } from '../device'
import { printable } from '../text'

const USAGE = `marsfm infer --run ID [--checkpoint best|last|<checkpoint id>] --images <folder or files>... [options]
marsfm infer --run ID --heatmap <large image> [--window PX] [--stride PX] [--batch N] [--out DIR] [--opacity 0.5] [--class NAME]
  --images                a folder (class folders named as the run's classes give true labels) or image files
  --threshold 0.5         binary runs: positive class when its probability is ≥ this
  --backend auto|ort|tfjs ONNX Runtime for CLS-pooled heads (auto), or TensorFlow.js
  --device auto|cpu|webgpu|cuda   where ONNX Runtime runs (default auto: CUDA if installed, else WebGPU
                          on a hardware GPU, else CPU; webgpu/cuda fail with the reason if unusable)
  --precision fp32|fp16   fp16: float16 weights and arithmetic (needs WebGPU with shader-f16; default fp32)
  --batch N               images per batch (default 16)
  --max-images N          at most N images (default 10000)
  --rows N                rows printed (default 20; all go to --json / --csv)
  --json out.json         per-image probabilities and the summary ('-' for stdout)
  --csv out.csv           the table: name, path, one probability per class, predicted, true, correct
Heat map (sliding window over one large image, e.g. a 2000² CTX tile or a HiRISE strip):
  --heatmap IMAGE         score every window of IMAGE; writes DIR/<image>-heatmap.png (the map over the
                          image) and DIR/<image>-windows.csv (x, y, width, height, probability per window)
  --window PX             window side in image pixels (default: the run's input size; each window is
                          resized to it as in training)
  --stride PX             step between windows (default: half the window); the last window of a row or
                          column sits flush with the image's edge, so every pixel is scored
  --out DIR               where the PNG and CSV go (default: the current folder)
  --opacity 0.5           the map's opacity over the image in the PNG
  --class NAME            the class to map (default: a binary run's positive class)
  --json out.json         the windows and the settings as JSON ('-' for stdout)`

const pct = (v: number) => `${(100 * v).toFixed(1)} %`

export const inferCommand: Command = {
  name: 'infer',
  summary: 'classify images with a fine-tuned classification run (per-image probabilities, accuracy, confusion matrix)',
  usage: USAGE,
  needsEngine: true,
  async run(args, ctx, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        run: { type: 'string' },
        checkpoint: { type: 'string', default: 'best' },
        images: { type: 'string', multiple: true },
        threshold: { type: 'string', default: '0.5' },
        backend: { type: 'string', default: 'auto' },
        device: { type: 'string' },
        precision: { type: 'string', default: 'fp32' },
        batch: { type: 'string', default: '16' },
        'max-images': { type: 'string', default: '10000' },
        rows: { type: 'string', default: '20' },
        json: { type: 'string' },
        csv: { type: 'string' },
        heatmap: { type: 'string' },
        window: { type: 'string' },
        stride: { type: 'string' },
        out: { type: 'string' },
        opacity: { type: 'string', default: '0.5' },
        class: { type: 'string' }
      }
    })
    const runId = Number(values.run)
    if (!values.run || !Number.isInteger(runId) || runId < 1) throw new UsageError('--run ID is required (a classification run; `marsfm train` prints its id)')
    const ck = values.checkpoint
    const checkpoint = ck === 'best' || ck === 'last' ? ck : Number(ck)
    if (typeof checkpoint === 'number' && !(Number.isInteger(checkpoint) && checkpoint > 0)) throw new UsageError('--checkpoint must be best, last or a checkpoint id')
    if (values.heatmap !== undefined) {
      if (values.images?.length || positionals.length) throw new UsageError('--heatmap takes one image; give either --heatmap or --images')
      return heatmap(ctx, io, runId, checkpoint, values)
    }
    for (const o of ['window', 'stride', 'out', 'class'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} applies to --heatmap`)
    const inputs = [...(values.images ?? []), ...positionals].map((p) => resolve(p))
    if (!inputs.length) throw new UsageError('--images <folder or files> is required')
    let source: InferenceSource
    if (inputs.length === 1 && existsSync(inputs[0]!) && statSync(inputs[0]!).isDirectory()) source = { kind: 'folder', path: inputs[0]! }
    else {
      for (const f of inputs) if (!existsSync(f)) throw new Error(`image not found: ${f}`)
      source = { kind: 'files', paths: inputs }
    }
    const threshold = Number(values.threshold)
    if (!(threshold >= 0 && threshold <= 1)) throw new UsageError('--threshold must be between 0 and 1')
    const backend = values.backend
    if (backend !== 'auto' && backend !== 'ort' && backend !== 'tfjs') throw new UsageError('--backend must be auto, ort or tfjs')
    const device = parseDevice(values.device, backend === 'tfjs')
    const precision = values.precision
    if (precision !== 'fp32' && precision !== 'fp16') throw new UsageError(`--precision must be fp32 or fp16 (got "${precision}")`)
    if (precision === 'fp16' && (backend === 'tfjs' || device === 'cpu' || device === 'cuda')) {
      throw new UsageError('--precision fp16 runs the ONNX classifier graph on WebGPU: use it with --device webgpu or auto, not with --backend tfjs or --device cpu/cuda')
    }
    const int = (name: string, v: string, min: number): number => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`)
      return n
    }
    // Every option is checked before the engine and the job: a typo does not cost an inference.
    const batchSize = int('batch', values.batch, 1)
    const maxImages = int('max-images', values['max-images'], 1)
    const rows = int('rows', values.rows, 0)
    await ctx.engine.whenReady()
    const { jobId, inferenceId } = await startInference(ctx, { runId, checkpoint, source, backend, device, precision, batchSize, maxImages, thumbnails: 0 })
    try {
      await followJob(ctx, jobId, 'infer')
    } catch (err) {
      throw new Error(`inference #${inferenceId}: ${(err as Error).message}`)
    }
    const detail = getInferenceJob(ctx.ledger.db, inferenceId)
    const outcome = detail?.outcome
    if (!outcome) throw new Error(`inference #${inferenceId} finished without a recorded outcome`)
    const { classes, predictions } = outcome
    if (outcome.backend.fallback) io.err(`--device ${outcome.backend.requested ?? 'auto'} ran on the ${outcome.backend.device}: ${outcome.backend.fallback}`)
    const metrics = metricsAt(predictions, classes.length, threshold)
    if (values.csv) {
      writeFileSync(resolve(values.csv), predictionsCsv(predictions, classes, threshold))
      io.err(`wrote ${resolve(values.csv)}`)
    }
    if (values.json) {
      const json = {
        inference: inferenceId,
        run: detail.input.run,
        checkpoint: { ...detail.input.checkpoint, sha256: outcome.checkpoint.sha256 },
        classes,
        threshold,
        backend: outcome.backend,
        preprocessing: outcome.preprocessing,
        images: predictions.map((p) => ({
          path: p.path,
          name: p.name,
          probabilities: Object.fromEntries(classes.map((c, i) => [c, p.probabilities[i]])),
          predicted: classes[predictAt(p.probabilities, threshold)],
          true: p.label === null ? null : classes[p.label]
        })),
        metrics,
        skipped: outcome.skipped,
        timing: outcome.timing
      }
      const text = JSON.stringify(json, null, 2)
      if (values.json === '-') {
        io.out(text)
        return 0
      }
      writeFileSync(resolve(values.json), `${text}\n`)
      io.err(`wrote ${resolve(values.json)}`)
    }
    const scoreClass = outcome.positiveIndex ?? 0
    io.out(`inference #${inferenceId}: run #${detail.input.run.id} "${printable(detail.input.run.name)}", ${detail.input.checkpoint.kind} checkpoint at step ${outcome.checkpoint.step}; ` +
      `${predictions.length} image(s), ${outcome.backend.name} on ${outcome.backend.device}${outcome.preprocessing.tta === 'dihedral' ? ', 8 orientations averaged (the run\'s test-time augmentation)' : ''}, ${outcome.timing.imagesPerSecond.toFixed(1)} images/s`)
    const width = Math.min(48, Math.max(5, ...predictions.slice(0, rows).map((p) => p.name.length)))
    if (rows > 0) {
      io.out('')
      io.out(`${'image'.padEnd(width)}  ${`p(${classes[scoreClass]})`.padEnd(12)} ${'predicted'.padEnd(14)} true`)
      for (const p of predictions.slice(0, rows)) {
        const shown = printable(p.name)
        const name = shown.length > width ? `…${shown.slice(-(width - 1))}` : shown
        io.out(`${name.padEnd(width)}  ${p.probabilities[scoreClass]!.toFixed(4).padEnd(12)} ${classes[predictAt(p.probabilities, threshold)]!.padEnd(14)} ${p.label === null ? '–' : classes[p.label]}`)
      }
      if (predictions.length > rows) io.out(`… ${predictions.length - rows} more (--csv / --json for all)`)
    }
    if (metrics) {
      io.out('')
      // Binary: balanced accuracy and AUC first; precision / recall / F1 are the positive class's and say so.
      const pos = outcome.positiveIndex !== null ? ` (${classes[outcome.positiveIndex]})` : ' (macro)'
      io.out(
        `${metrics.labelled} labelled image(s)${outcome.positiveIndex !== null ? ` at threshold ${threshold} on p(${classes[outcome.positiveIndex]})` : ''}: ` +
          `${metrics.balancedAccuracy !== undefined ? `balanced accuracy ${pct(metrics.balancedAccuracy)}, ` : ''}${metrics.auc !== undefined ? `AUC${pos} ${metrics.auc.toFixed(3)}, ` : ''}` +
          `accuracy ${pct(metrics.accuracy)}, precision${pos} ${pct(metrics.precision)}, recall${pos} ${pct(metrics.recall)}, F1${pos} ${pct(metrics.f1)}`
      )
      io.out(`confusion (rows: true, columns: predicted ${classes.join(' | ')}):`)
      metrics.confusion.forEach((row, t) => io.out(`  ${classes[t]!.padEnd(14)} ${row.map((v) => String(v).padStart(6)).join(' ')}`))
    }
    const v = outcome.validationThreshold
    if (v) io.out(`the run's validation set (${v.images} images, step ${v.step}) has its best balanced accuracy ${v.balancedAccuracy.toFixed(3)} at threshold ${v.value.toFixed(3)} on p(${v.positiveClass}) (--threshold ${v.value.toFixed(3)})`)
    for (const s of outcome.skipped) io.err(`skipped ${s.path}: ${s.reason}`)
    return 0
  }
}

interface HeatmapValues {
  heatmap?: string | undefined
  window?: string | undefined
  stride?: string | undefined
  batch: string
  backend: string
  device?: string | undefined
  out?: string | undefined
  opacity: string
  class?: string | undefined
  json?: string | undefined
}

/** `--heatmap`: one large image scored window by window; the map as PNG, the windows as CSV (and JSON). */
async function heatmap(ctx: AppContext, io: CliIo, runId: number, checkpoint: 'best' | 'last' | number, values: HeatmapValues): Promise<number> {
  const image = resolve(values.heatmap!)
  if (!existsSync(image)) throw new Error(`image not found: ${image}`)
  if (statSync(image).isDirectory()) throw new Error(`--heatmap takes one image file, not a folder: ${image}`)
  const int = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`)
    return n
  }
  const window = int('window', values.window, 8, 8192)
  const stride = int('stride', values.stride, 1, 8192)
  if (window !== undefined && stride !== undefined && stride > window) throw new UsageError(`--stride ${stride} is larger than --window ${window}: pixels between windows would be skipped`)
  const batchSize = int('batch', values.batch, 1, 256)!
  const opacity = Number(values.opacity)
  if (!(opacity >= 0 && opacity <= 1)) throw new UsageError('--opacity must be between 0 and 1')
  const backend = values.backend
  if (backend !== 'auto' && backend !== 'ort' && backend !== 'tfjs') throw new UsageError('--backend must be auto, ort or tfjs')
  const device = parseDevice(values.device, backend === 'tfjs')
  const outDir = resolve(values.out ?? '.')
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out must be a folder: ${outDir} is a file`)
  const request = HeatmapRequest.parse({ runId, checkpoint, image, window, stride, batchSize, backend, device, ...(values.class ? { className: values.class } : {}) })
  await ctx.engine.whenReady()
  const { jobId } = await startHeatmap(ctx, request)
  const outcome = HeatmapOutcome.parse(await followJob(ctx, jobId, 'heat map'))
  mkdirSync(outDir, { recursive: true })
  const stem = basename(image).replace(/\.[^.]+$/, '')
  const png = join(outDir, `${stem}-heatmap.png`)
  const csv = join(outDir, `${stem}-windows.csv`)
  writeFileSync(csv, windowScoresCsv(outcome.windows))
  const size = await writeHeatmapPng(outcome, png, { opacity })
  io.err(`wrote ${printable(csv)}`)
  io.err(`wrote ${printable(png)} (${size.width}×${size.height})`)
  if (outcome.backend.fallback) io.err(`--device ${outcome.backend.requested ?? 'auto'} ran on the ${outcome.backend.device}: ${outcome.backend.fallback}`)
  if (values.json) {
    const { preview: _preview, ...rest } = outcome
    const text = JSON.stringify(rest, null, 2)
    if (values.json === '-') {
      io.out(text)
      return 0
    }
    writeFileSync(resolve(values.json), `${text}\n`)
    io.err(`wrote ${resolve(values.json)}`)
  }
  const ps = outcome.windows.map((w) => w.probability)
  const mean = ps.reduce((a, b) => a + b, 0) / Math.max(1, ps.length)
  io.out(
    `heat map of p(${outcome.className}) over ${printable(outcome.image.name)} (${outcome.image.width}×${outcome.image.height}): ` +
      `${outcome.windows.length} windows (${outcome.columns} × ${outcome.rows}), window ${outcome.window} px, stride ${outcome.stride} px; ` +
      `${outcome.backend.name} on ${outcome.backend.device}${outcome.preprocessing.tta === 'dihedral' ? ', 8 orientations averaged per window' : ''}, ${outcome.timing.windowsPerSecond.toFixed(1)} windows/s`
  )
  io.out(`mean p(${outcome.className}) ${mean.toFixed(3)}; windows with p ≥ 0.5: ${ps.filter((p) => p >= 0.5).length}`)
  const top = [...outcome.windows].sort((a, b) => b.probability - a.probability).slice(0, 5)
  io.out('highest windows (x, y, size, p):')
  for (const w of top) io.out(`  ${String(w.x).padStart(6)} ${String(w.y).padStart(6)}  ${w.width}×${w.height}  ${w.probability.toFixed(4)}`)
  return 0
}

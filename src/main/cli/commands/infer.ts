// `marsfm infer`: a fine-tuned classification run's checkpoint applied to a folder or files, from a
// shell. Runs the same engine job as the Inference view, records it in the ledger like the view,
// prints per-image probabilities and the summary (or writes JSON / CSV).
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Command } from '../command'
import { UsageError } from '../command'
import type { InferenceSource } from '@shared/ipc/schemas/inference'
import { metricsAt, predictAt } from '@shared/inference/threshold'
import { predictionsCsv } from '@shared/inference/csv'
import { startInference } from '../../services/inference'
import { getInferenceJob } from '../../inference/repository'
import { followJob } from '../run-job'
import { parseDevice } from '../device'
import { printable } from '../text'

const USAGE = `marsfm infer --run ID [--checkpoint best|last|<checkpoint id>] --images <folder or files>... [options]
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
  --csv out.csv           the table: name, path, one probability per class, predicted, true, correct`

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
        csv: { type: 'string' }
      }
    })
    const runId = Number(values.run)
    if (!values.run || !Number.isInteger(runId) || runId < 1) throw new UsageError('--run ID is required (a classification run; `marsfm train` prints its id)')
    const ck = values.checkpoint
    const checkpoint = ck === 'best' || ck === 'last' ? ck : Number(ck)
    if (typeof checkpoint === 'number' && !(Number.isInteger(checkpoint) && checkpoint > 0)) throw new UsageError('--checkpoint must be best, last or a checkpoint id')
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
      `${predictions.length} image(s), ${outcome.backend.name} on ${outcome.backend.device}, ${outcome.timing.imagesPerSecond.toFixed(1)} images/s`)
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

// A training run from start (or a checkpoint) to its end, a pause, a cancel or a non-finite loss:
// list the data, build the model and head, then step, stream metrics, evaluate and checkpoint.
// Independent of the engine's job plumbing so tests and the benchmark call it directly.
import { mkdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { bestMetricOf, type RunConfig } from '@shared/ipc/schemas/runs'
import type { EngineJobEventName, EngineJobEventPayload, TrainJobParams, TrainOutcome } from '@shared/engine/jobs'
import { CancelledError } from '@shared/ipc/errors'
import type { Tf } from '../tf/backend'
import type { PrithviConfig } from '../model/config'
import { randomWeights, withFreshDecoder } from '../model/params'
import type { WeightMap } from '../model/weights'
import { assertUsable, loadCheckpoint } from '../checkpoint'
import { datasetHash, familyPreprocessing, listDataset, screenSamples, TrainLoader, type LoaderOptions, type Sample } from './data'
import { segClassNames, type EvalResult } from './evaluate'
import { encodeValidation, loadTrainingCheckpoint, metaPath, saveCheckpoint, type CheckpointMeta } from './state'
import { imbalanceWarning } from '@shared/training/positive-class'
import { Trainer } from './trainer'
import { throwIfFaulted } from '../faults'
import { checkTrainingMemory, MemoryLimitError, memoryRunOf, type MemoryLimit } from '@shared/training/memory'

export interface RunHooks {
  signal: AbortSignal
  /** Polled after every step: true stops the run with a checkpoint (status 'paused'). */
  shouldPause(): boolean
  emit<E extends EngineJobEventName<'train'>>(event: E, payload: EngineJobEventPayload<'train', E>): void
  progress(done: number, total: number, message: string): void
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void
  backend: string
  device: string
  /** Refuse a run whose memory estimate exceeds this before step 1 (null: do not check). */
  memoryLimit?: MemoryLimit | null
}

/** Class weights of a classification run: as given, or 'balanced' n / (k * count_c) from the training labels. */
export function resolveClassWeights(spec: RunConfig['classWeights'], train: readonly Sample[], numClasses: number): number[] | undefined {
  if (!spec) return undefined
  if (spec !== 'balanced') {
    if (spec.length !== numClasses) throw new Error(`classWeights has ${spec.length} entries; the dataset has ${numClasses} classes`)
    return spec.slice()
  }
  const counts = new Array<number>(numClasses).fill(0)
  for (const s of train) counts[s.label!]! += 1
  const empty = counts.findIndex((c) => c === 0)
  if (empty >= 0) throw new Error(`classWeights 'balanced': class ${empty} has no training images`)
  return counts.map((c) => train.length / (numClasses * c))
}

export async function runTraining(tf: Tf, p: TrainJobParams, hooks: RunHooks): Promise<TrainOutcome> {
  // A resumed binary run keeps the positive class its checkpoint was trained with (runs from before
  // the positive class was recorded had the second folder at index 1).
  const resumedMeta = p.resumeFrom ? (JSON.parse(readFileSync(metaPath(p.resumeFrom), 'utf8')) as CheckpointMeta) : undefined
  const positiveRequest = p.config.positiveClass ?? (resumedMeta?.task === 'classification' && resumedMeta.classes.length === 2 ? resumedMeta.classes[1] : undefined)
  // Unreadable files are skipped and named (as inference does); a split with nothing readable fails.
  const { listing, skipped } = await screenSamples(listDataset(p.config.data, positiveRequest ? { positiveClass: positiveRequest } : {}))
  for (const s of skipped) hooks.log('warn', `skipped ${s.path}: ${s.reason}`)
  // Recorded with the run: checkpoints carry the resolved positive class in their config.
  const cfg: RunConfig = listing.positive ? { ...p.config, positiveClass: listing.positive.positiveClass } : p.config
  const positiveIndex = listing.positive ? listing.classes.indexOf(listing.positive.positiveClass) : undefined
  const numClasses = cfg.task === 'classification' ? listing.classes.length : cfg.task === 'segmentation' ? cfg.segmentation!.numClasses : 0
  const classNames = cfg.task === 'classification' ? listing.classes : cfg.task === 'segmentation' ? segClassNames(numClasses) : []
  // Fail fast, before any weight is loaded: a step that outgrows wasm's heap aborts the module.
  if (hooks.memoryLimit) {
    const arch = { ...p.model.config, ...(cfg.imgSize ? { img_size: cfg.imgSize } : {}) }
    const verdict = checkTrainingMemory(arch, memoryRunOf(cfg, numClasses || undefined), hooks.memoryLimit)
    if (!verdict.fits) throw new MemoryLimitError(verdict.message)
    hooks.log('info', `memory: ${verdict.message}`)
  }
  const hash = datasetHash(listing)
  const warning = cfg.task === 'classification' && listing.trainCounts ? imbalanceWarning(classNames, listing.trainCounts, `run ${p.runId} training set`) : null
  hooks.emit('started', {
    datasetHash: hash,
    backend: hooks.backend,
    device: hooks.device,
    classes: classNames,
    trainImages: listing.train.length,
    validImages: listing.valid.length,
    ...(listing.trainCounts ? { trainCounts: listing.trainCounts } : {}),
    ...(listing.positive ? { positiveClass: listing.positive.positiveClass, positiveReason: listing.positive.reason } : {}),
    ...(warning ? { warnings: [warning] } : {})
  })
  hooks.log('info', `${cfg.task} run ${p.runId}: ${listing.train.length} training / ${listing.valid.length} validation images, ${classNames.length ? classNames.join(', ') : 'no classes'}${listing.positive ? `; positive class "${listing.positive.positiveClass}" (${listing.positive.reason})` : ''}`)
  if (warning) hooks.log('warn', warning)

  // Backbone weights: a training checkpoint (resume), an imported checkpoint, or random.
  let weights: WeightMap
  let modelConfig: PrithviConfig = { ...p.model.config, num_frames: 1, ...(cfg.imgSize ? { img_size: cfg.imgSize } : {}) }
  let resumed: Awaited<ReturnType<typeof loadTrainingCheckpoint>> | undefined
  if (p.resumeFrom) {
    resumed = await loadTrainingCheckpoint(p.resumeFrom, (n) => n.startsWith('head.') || n.startsWith('neck.') || n.startsWith('decode_head.') || n.startsWith('auxiliary_head.'))
    weights = resumed.backbone
    modelConfig = resumed.meta.model
  } else if (p.model.path) {
    // Pre-training reads a decoder when the file has one; an encoder-only file (a fine-tuned
    // backbone, MOMO's momo.pth) gets a fresh decoder, so it can learn to reconstruct.
    const loaded = await loadCheckpoint(p.model.path, { config: modelConfig, ...(cfg.task === 'pretrain' ? {} : { decoder: false }) })
    assertUsable(loaded, basename(p.model.path))
    weights = loaded.weights
    if (cfg.task === 'pretrain' && !loaded.hasDecoder) {
      weights = withFreshDecoder(loaded.weights, modelConfig, cfg.seed)
      hooks.log('info', `${basename(p.model.path)} has no decoder: pre-training starts a random one (seed ${cfg.seed})`)
    }
  } else {
    weights = randomWeights(modelConfig, cfg.seed, { decoder: true })
  }

  const classWeights = cfg.task === 'classification' ? resolveClassWeights(cfg.classWeights, listing.train, numClasses) : undefined
  if (cfg.task === 'classification' && cfg.tta === 'dihedral') hooks.log('info', 'test-time augmentation: each evaluation scores every image in its 8 orientations and averages the logits (inference of this run does the same)')
  if (classWeights) hooks.log('info', `class weights ${classWeights.map((w, c) => `${classNames[c]} ${w.toFixed(3)}`).join(', ')}`)
  if (cfg.task === 'pretrain' && cfg.freezeBackbone) hooks.log('info', 'encoder frozen: only the decoder (and its mask token) trains')
  const trainer = new Trainer({ tf, config: cfg, modelConfig, weights, numClasses, ...(p.cacheDir ? { frozenCacheDir: p.cacheDir } : {}), ...(classWeights ? { classWeights } : {}), ...(positiveIndex !== undefined ? { positiveIndex } : {}) })
  try {
    if (trainer.frozenPrefix) {
      const k = trainer.frozenPrefix.blocks
      hooks.log('info', `partial fine-tuning: ${k} of ${trainer.modelConfig.depth} encoder blocks frozen (${k === trainer.modelConfig.depth ? 'head only' : `blocks ${k}..${trainer.modelConfig.depth - 1}, the final norm and the head train`})`)
    }
    for (const line of await trainer.prepare()) hooks.log('info', line)
    let startStep = 0
    let best: TrainOutcome['best'] = null
    if (resumed) {
      if (trainer.head) trainer.head.load(resumed.head)
      trainer.optimizer.loadState(resumed.optimizer, resumed.meta.step)
      startStep = resumed.meta.step
      best = resumed.meta.best
      hooks.log('info', `resumed from ${p.resumeFrom} at step ${startStep}`)
    }
    const seg = cfg.segmentation
    const loaderOpts: LoaderOptions = {
      task: cfg.task,
      imgSize: trainer.imgSize,
      resize: cfg.task === 'segmentation' ? seg!.resize : trainer.imgSize,
      flip: seg?.flip ?? false,
      augment: cfg.augment,
      numClasses: Math.max(numClasses, 2),
      // The backbone's family decides: Prithvi's recipe, or the MAE layout's own input (native).
      pre: familyPreprocessing(modelConfig, { stats: p.model.stats, recipe: cfg.preprocessing.recipe, truncate: cfg.preprocessing.truncate, tileNorm: cfg.preprocessing.tileNorm ?? 'none' }),
      seed: cfg.seed,
      batchSize: cfg.batchSize,
      prefetch: 2,
      cacheBytes: 1024 * 2 ** 20
    }
    const native = loaderOpts.pre.native
    hooks.log('info', native
      ? `preprocessing: the MAE family's own input (0-1 scale, ${native.in_chans === 1 ? 'RGB to grey' : 'grey replicated to RGB'}, mean ${native.mean.join('/')}, std ${native.std.join('/')}${loaderOpts.pre.tileNorm === 'standardize' ? ', per-tile standardised' : ''})`
      : `preprocessing: recipe ${loaderOpts.pre.recipe}${loaderOpts.pre.truncate ? ', truncated reflectance' : ''}${loaderOpts.pre.tileNorm === 'standardize' ? ', per-tile standardised' : ''}`)
    if (cfg.task === 'segmentation' && loaderOpts.resize < trainer.imgSize) throw new Error(`segmentation.resize ${loaderOpts.resize} is smaller than the model's img_size ${trainer.imgSize}`)
    const loader = new TrainLoader(listing.train, loaderOpts)
    const validSamples = cfg.eval.maxImages > 0 ? listing.valid.slice(0, cfg.eval.maxImages) : listing.valid
    const ckptDir = join(p.runDir, 'checkpoints')
    mkdirSync(ckptDir, { recursive: true })
    let lastCheckpoint: string | null = null

    // The validation probabilities of the evaluation at this step, kept with the checkpoint of those weights.
    let lastValidation: { step: number; v: NonNullable<EvalResult['validation']> } | null = null
    const checkpoint = async (step: number, kind: 'last' | 'best' | 'periodic', metric?: { name: string; value: number }) => {
      const path = join(ckptDir, kind === 'periodic' ? `step-${String(step).padStart(7, '0')}.safetensors` : `${kind}.safetensors`)
      const validation = lastValidation?.step === step && cfg.positiveClass ? encodeValidation(step, cfg.positiveClass, lastValidation.v) : null
      await saveCheckpoint(path, trainer, { task: cfg.task, step, config: cfg, model: trainer.modelConfig, stats: p.model.stats, classes: classNames, best, backend: hooks.backend, ...(validation ? { validation } : {}) })
      if (kind !== 'best') lastCheckpoint = path
      hooks.emit('checkpoint', { step, kind, path, metricName: metric?.name ?? null, metricValue: metric?.value ?? null })
    }

    const evaluate = (): Promise<EvalResult> => trainer.evaluate(validSamples, loaderOpts, loader.cache, hooks.signal)
    if (!resumed) {
      const line = await trainer.task.startHead?.(listing.train, loaderOpts, loader.cache, hooks.signal, (done, total) => hooks.progress(0, cfg.steps, `fitting the linear-probe head: ${done}/${total} training images`))
      if (line) hooks.log('info', line)
    }

    const bestBy = bestMetricOf(cfg)
    let emaSecondsPerStep = 0
    for (let step = startStep; step < cfg.steps; step++) {
      // A prefetched batch resolves as a microtask: give the event loop a turn so pause / cancel
      // messages from main are read between steps.
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (hooks.signal.aborted) throw hooks.signal.reason ?? new CancelledError()
      const t0 = performance.now()
      const batch = await loader.get(step)
      const r = await trainer.trainStep(batch, step)
      throwIfFaulted() // a lost GPU device or a failed allocation may not throw in the step itself
      const dt = (performance.now() - t0) / 1000
      emaSecondsPerStep = emaSecondsPerStep === 0 ? dt : 0.9 * emaSecondsPerStep + 0.1 * dt
      const done = step + 1
      const remaining = cfg.steps - done
      hooks.emit('metrics', {
        step: done,
        totalSteps: cfg.steps,
        metrics: { 'train/loss': r.loss, lr: r.lr, 'train/grad_norm': r.gradNorm },
        imagesPerSecond: cfg.batchSize / emaSecondsPerStep,
        etaSeconds: remaining * emaSecondsPerStep
      })
      hooks.progress(done, cfg.steps, `step ${done}/${cfg.steps} · loss ${r.loss.toFixed(4)}`)

      const evalNow = done % cfg.eval.everySteps === 0 || done === cfg.steps
      if (evalNow) {
        hooks.progress(done, cfg.steps, `step ${done}/${cfg.steps} · evaluating on ${validSamples.length} validation images…`)
        const ev = await evaluate()
        lastValidation = ev.validation ? { step: done, v: ev.validation } : null
        hooks.emit('metrics', { step: done, totalSteps: cfg.steps, metrics: ev.metrics, ...(ev.confusion ? { confusion: ev.confusion, classNames } : {}), ...(ev.previews ? { previews: ev.previews } : {}) })
        const value = ev.metrics[bestBy.bestMetric]
        if (value !== undefined && Number.isFinite(value)) {
          const better = !best || (bestBy.mode === 'max' ? value > best.value : value < best.value)
          if (better) {
            best = { metric: bestBy.bestMetric, value, step: done }
            await checkpoint(done, 'best', { name: bestBy.bestMetric, value })
          }
        }
      }
      if (cfg.checkpoint.everySteps > 0 && done % cfg.checkpoint.everySteps === 0) await checkpoint(done, 'periodic')
      else if (evalNow && done < cfg.steps) await checkpoint(done, 'last')
      if (done < cfg.steps && hooks.shouldPause()) {
        await checkpoint(done, 'last')
        return { status: 'paused', step: done, best, lastCheckpoint }
      }
    }
    await checkpoint(cfg.steps, 'last')
    return { status: 'done', step: cfg.steps, best, lastCheckpoint }
  } finally {
    trainer.dispose()
  }
}

// A classification run's checkpoint ready to score images: its classes, pooling, input size and
// preprocessing as trained, and the runner that computes logits (ONNX Runtime for CLS-pooled heads
// where asked or by default, TensorFlow.js otherwise). Shared by per-image inference and heat maps.
import type { BandStats } from '@shared/bands'
import type { RunConfig } from '@shared/ipc/schemas/runs'
import type { ComputeDevice, OrtPrecision } from '@shared/ipc/schemas/device'
import { sha256File } from '../checkpoint'
import type { TfHandle } from '../tf/handle'
import { loadTrainingCheckpoint } from '../training/state'
import { familyPreprocessing, type Preprocessing } from '../training/data'
import { classifierWeights, createOrtClassifier, createTfjsClassifier, withTestTimeAugmentation, type ClassifierRunner } from './runners'

export type ClassifierCheckpoint = Awaited<ReturnType<typeof readClassifierCheckpoint>>

/** What an inference job gets from the engine: tfjs (for tfjs runners), cancel, progress and log. */
export interface InferenceJobEnv {
  tf?: TfHandle
  signal?: AbortSignal
  progress?: (done: number, total: number, message: string) => void
  log?: (message: string) => void
}

/** The checkpoint's backbone, head and meta, checked to be a classifier, with its preprocessing. */
export async function readClassifierCheckpoint(path: string, signal?: AbortSignal) {
  const ck = await loadTrainingCheckpoint(path, (n) => n.startsWith('head.'))
  const meta = ck.meta
  if (meta.task !== 'classification') throw new Error(`${path} is a ${meta.task} checkpoint; inference here needs a classification run`)
  const classes = meta.classes
  if (classes.length < 2) throw new Error(`the checkpoint names ${classes.length} class(es)`)
  const config: RunConfig = meta.config
  const pool = config.pool ?? 'cls'
  const cfg = { ...meta.model, num_frames: 1 }
  const stats: BandStats = meta.stats
  // As in training: the backbone's family decides (Prithvi's recipe, or the MAE layout's own input).
  const pre: Preprocessing = familyPreprocessing(cfg, { stats, recipe: config.preprocessing?.recipe ?? 'postnorm-dup', truncate: config.preprocessing?.truncate ?? true, tileNorm: config.preprocessing?.tileNorm ?? 'none' })
  const sha256 = await sha256File(path, signal)
  const tta = config.tta ?? 'none'
  return { path, ck, meta, classes, pool, cfg, size: cfg.img_size, pre, tta, sha256 }
}

export interface ClassifierChoice {
  backend: 'auto' | 'ort' | 'tfjs'
  device: ComputeDevice
  precision?: OrtPrecision
  cacheDir: string
  threads?: number | undefined
}

/**
 * The runner for a checkpoint: ONNX Runtime or TensorFlow.js as asked (auto: ORT for CLS pooling),
 * with the run's test-time augmentation around it.
 */
export async function openClassifierRunner(c: ClassifierCheckpoint, p: ClassifierChoice, tf?: TfHandle): Promise<ClassifierRunner> {
  return withTestTimeAugmentation(await openPlainRunner(c, p, tf), c.size, c.tta)
}

async function openPlainRunner(c: ClassifierCheckpoint, p: ClassifierChoice, tf?: TfHandle): Promise<ClassifierRunner> {
  const { ck, classes, pool, cfg, meta, sha256 } = c
  const precision = p.precision ?? 'fp32'
  const useOrt = p.backend === 'ort' || (p.backend === 'auto' && pool === 'cls')
  if (precision === 'fp16' && !useOrt) throw new Error(`--precision fp16 runs the ONNX classifier graph; this ${pool === 'mean' ? "run's mean-pooled head runs on TensorFlow.js" : 'job uses TensorFlow.js'}`)
  if (useOrt && pool !== 'cls') throw new Error("this run's classifier pools the mean of the patch tokens; the ONNX classifier graph reads the CLS token: use the tfjs backend")
  const tfjs = (): ClassifierRunner => {
    if (!tf) throw new Error("the tfjs backend needs the engine's TensorFlow.js")
    return createTfjsClassifier(tf.tf, tf.backend, { cfg, backbone: ck.backbone, head: ck.head, numClasses: classes.length, pool })
  }
  if (!useOrt) return tfjs()
  try {
    return await createOrtClassifier({ cacheDir: p.cacheDir, sha256, step: meta.step, cfg, weights: () => classifierWeights(ck.backbone, ck.head), device: p.device, precision, ...(p.threads ? { intraOpThreads: p.threads } : {}) })
  } catch (err) {
    // An explicit GPU that cannot be used is the user's answer, not a reason to switch engines.
    if (p.backend === 'ort' || p.device === 'webgpu' || p.device === 'cuda' || precision === 'fp16' || !tf) throw err
    const runner = tfjs()
    runner.notes.push(`ONNX Runtime could not run this classifier (${(err as Error).message}); used TensorFlow.js`)
    return runner
  }
}

/** Where the classifier ran, for an outcome. */
export function classifierBackend(runner: ClassifierRunner) {
  return { name: runner.name, device: runner.device, notes: runner.notes, ...(runner.requested ? { requested: runner.requested } : {}), ...(runner.fallback ? { fallback: runner.fallback } : {}), ...(runner.precision ? { precision: runner.precision } : {}) }
}

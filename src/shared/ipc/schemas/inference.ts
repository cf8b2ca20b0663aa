// Schemas for classifier inference: a fine-tuned classification run's checkpoint applied to a folder,
// files or a frozen dataset version; per-image probabilities, the job's ledger record and summary.
import { z } from 'zod'
import { displayName } from './text'
import { AbsolutePath } from './models'
import { BackendUsedFields, ComputeDevice, OrtPrecision } from './device'

/** Images to classify. A folder laid out as `<class>/*` (class names of the run) carries true labels. */
export const InferenceSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('folder'), path: AbsolutePath }),
  z.object({ kind: z.literal('files'), paths: z.array(AbsolutePath).min(1).max(100_000) }),
  z.object({ kind: z.literal('dataset-version'), versionId: z.number().int().positive(), split: z.enum(['train', 'valid', 'test']).optional() })
])
export type InferenceSource = z.infer<typeof InferenceSource>

/** auto: ONNX Runtime when the head is CLS pooling + linear, else TensorFlow.js. */
export const InferenceBackend = z.enum(['auto', 'ort', 'tfjs'])
export type InferenceBackend = z.infer<typeof InferenceBackend>

export const InferenceSettings = z.object({
  backend: InferenceBackend.default('auto'),
  /** ONNX Runtime's device (when the classifier runs on ORT). */
  device: ComputeDevice.default('auto'),
  /** fp16: the classifier graph with float16 weights and arithmetic, on WebGPU with shader-f16. */
  precision: OrtPrecision.default('fp32'),
  batchSize: z.number().int().min(1).max(256).default(16),
  maxImages: z.number().int().min(1).max(100_000).default(10_000),
  /** Rows (in listing order) that get a small JPEG thumbnail. */
  thumbnails: z.number().int().min(0).max(1000).default(100)
})
export type InferenceSettings = z.infer<typeof InferenceSettings>

export const InferenceStartRequest = InferenceSettings.extend({
  name: displayName(200).optional(),
  runId: z.number().int().positive(),
  /** 'best' / 'last': the run's newest checkpoint of that kind; a number: a checkpoints row id. */
  checkpoint: z.union([z.enum(['best', 'last']), z.number().int().positive()]).default('best'),
  source: InferenceSource
}).strict()
export type InferenceStartRequest = z.input<typeof InferenceStartRequest>

export const InferenceStarted = z.object({ jobId: z.string(), inferenceId: z.number().int() })

/** One classified image. */
export const Prediction = z.object({
  /** Image file (for a dataset tile: the stored copy it was cut from). */
  path: z.string(),
  /** Display name: the file name, or the tile's export name. */
  name: z.string(),
  /** A dataset tile's rectangle in `path`. */
  region: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int(), height: z.number().int() }).optional(),
  /** One probability per class of the run (binary: [1 − p, p]). */
  probabilities: z.array(z.number()),
  /** argmax (binary: p ≥ 0.5). */
  predicted: z.number().int(),
  /** True class index where the source has labels; null otherwise. */
  label: z.number().int().nullable(),
  /** Small JPEG data URL (the first rows only). */
  thumbnail: z.string().optional()
})
export type Prediction = z.infer<typeof Prediction>

export const ClassScores = z.object({ precision: z.number(), recall: z.number(), f1: z.number(), support: z.number().int() })
export type ClassScores = z.infer<typeof ClassScores>

export const InferenceMetrics = z.object({
  labelled: z.number().int(),
  accuracy: z.number(),
  /** Mean recall over the classes present (optional: jobs recorded before it was stored). */
  balancedAccuracy: z.number().optional(),
  /** Binary: ROC AUC of the positive class's probability (threshold-free). */
  auc: z.number().optional(),
  /** Rows: true class, columns: predicted class. */
  confusion: z.array(z.array(z.number().int())),
  perClass: z.array(ClassScores),
  /** Binary: scores of the positive class; more classes: macro averages. */
  precision: z.number(),
  recall: z.number(),
  f1: z.number()
})
export type InferenceMetrics = z.infer<typeof InferenceMetrics>

/** What the engine's `inference-classify` job returns (and the ledger keeps as output_json). */
export const InferenceOutcome = z.object({
  classes: z.array(z.string()),
  /** Binary runs: index of the positive class (1: training puts it there); null for more classes. */
  positiveIndex: z.number().int().nullable(),
  /**
   * Binary runs: the threshold that maximises balanced accuracy on the run's validation set (the
   * evaluation of the checkpoint's weights); absent for checkpoints saved without it.
   */
  validationThreshold: z.object({ value: z.number(), balancedAccuracy: z.number(), step: z.number().int(), images: z.number().int(), positiveClass: z.string() }).optional(),
  pool: z.enum(['cls', 'mean']),
  backend: z.object({ name: z.enum(['ort', 'tfjs']), ...BackendUsedFields }),
  checkpoint: z.object({ path: z.string(), sha256: z.string(), step: z.number().int(), imgSize: z.number().int() }),
  preprocessing: z.object({ recipe: z.string(), truncate: z.boolean(), tileNorm: z.enum(['none', 'standardize']).default('none'), resize: z.string(), tta: z.enum(['none', 'dihedral']).default('none') }),
  predictions: z.array(Prediction),
  /** At threshold 0.5 (binary) / argmax; null when no image has a label. */
  metrics: InferenceMetrics.nullable(),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  timing: z.object({ loadSeconds: z.number(), seconds: z.number(), imagesPerSecond: z.number() })
})
export type InferenceOutcome = z.infer<typeof InferenceOutcome>

export const InferenceStatus = z.enum(['running', 'done', 'failed', 'cancelled'])
export type InferenceStatus = z.infer<typeof InferenceStatus>

/** What the ledger keeps as input_json: the request and what it resolved to. */
export const InferenceInput = InferenceSettings.extend({
  name: z.string(),
  source: InferenceSource,
  run: z.object({ id: z.number().int(), name: z.string() }),
  checkpoint: z.object({ id: z.number().int(), kind: z.string(), step: z.number().int(), path: z.string(), metricName: z.string().nullable(), metricValue: z.number().nullable() })
})
export type InferenceInput = z.infer<typeof InferenceInput>

export const InferenceListItem = z.object({
  id: z.number().int(),
  name: z.string(),
  status: InferenceStatus,
  statusReason: z.string().nullable(),
  runId: z.number().int(),
  runName: z.string(),
  checkpointKind: z.string(),
  checkpointStep: z.number().int(),
  images: z.number().int().nullable(),
  accuracy: z.number().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable()
})
export type InferenceListItem = z.infer<typeof InferenceListItem>

export const InferenceDetail = InferenceListItem.extend({
  input: InferenceInput,
  outcome: InferenceOutcome.nullable()
})
export type InferenceDetail = z.infer<typeof InferenceDetail>

/** A classification run with the checkpoints inference can use. */
export const InferenceCandidate = z.object({
  runId: z.number().int(),
  name: z.string(),
  status: z.string(),
  classes: z.array(z.string()),
  checkpoints: z.array(
    z.object({ id: z.number().int(), kind: z.enum(['best', 'last', 'periodic']), step: z.number().int(), metricName: z.string().nullable(), metricValue: z.number().nullable() })
  )
})
export type InferenceCandidate = z.infer<typeof InferenceCandidate>

export const InferenceIdRequest = z.object({ id: z.number().int().positive() }).strict()
export const InferenceImageRequest = z.object({ id: z.number().int().positive(), index: z.number().int().min(0), maxSide: z.number().int().min(32).max(1024).default(384) }).strict()
export const InferenceImage = z.object({ index: z.number().int(), name: z.string(), dataUrl: z.string() })

/** A sliding-window heat map's settings: window and stride in image pixels, windows per batch. */
export const HeatmapSettings = z.object({
  /** Window side in image pixels (each window is resized to the run's input size, as in training); default: the run's input size. */
  window: z.number().int().min(8).max(8192).optional(),
  /** Step between windows; default: half the window (each pixel seen by up to four windows). */
  stride: z.number().int().min(1).max(8192).optional(),
  batchSize: z.number().int().min(1).max(256).default(16),
  backend: InferenceBackend.default('auto'),
  device: ComputeDevice.default('auto'),
  /** The class mapped: binary runs default to the positive class; more classes must name one. */
  className: displayName(200).optional()
})
export type HeatmapSettings = z.infer<typeof HeatmapSettings>

/** `inference:heatmap`: one large image scored window by window with a run's checkpoint. */
export const HeatmapRequest = HeatmapSettings.extend({
  runId: z.number().int().positive(),
  checkpoint: z.union([z.enum(['best', 'last']), z.number().int().positive()]).default('best'),
  image: AbsolutePath
}).strict()
export type HeatmapRequest = z.input<typeof HeatmapRequest>

export const HeatmapWindow = z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int(), height: z.number().int(), probability: z.number() })

/** What the engine's `inference-heatmap` job returns (the renderer draws and exports it). */
export const HeatmapOutcome = z.object({
  image: z.object({ path: z.string(), name: z.string(), width: z.number().int(), height: z.number().int(), channels: z.number().int() }),
  className: z.string(),
  classes: z.array(z.string()),
  window: z.number().int(),
  stride: z.number().int(),
  /** Window grid: columns and rows (the last of each flush with the image's edge). */
  columns: z.number().int(),
  rows: z.number().int(),
  windows: z.array(HeatmapWindow),
  /** The image scaled to fit `preview.width`×`preview.height` (JPEG data URL), for drawing the map over it. */
  preview: z.object({ dataUrl: z.string(), width: z.number().int(), height: z.number().int() }),
  checkpoint: z.object({ path: z.string(), sha256: z.string(), step: z.number().int(), imgSize: z.number().int() }),
  backend: z.object({ name: z.enum(['ort', 'tfjs']), ...BackendUsedFields }),
  preprocessing: z.object({ recipe: z.string(), truncate: z.boolean(), tileNorm: z.enum(['none', 'standardize']).default('none'), resize: z.string(), tta: z.enum(['none', 'dihedral']).default('none') }),
  timing: z.object({ loadSeconds: z.number(), seconds: z.number(), windowsPerSecond: z.number() })
})
export type HeatmapOutcome = z.infer<typeof HeatmapOutcome>
export const HeatmapStarted = z.object({ jobId: z.string() })

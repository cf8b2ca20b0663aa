// Schemas for fine-tuning and pre-training runs: the run configuration (what `marsfm train
// --config run.json` reads and the Training view builds), ledger records, and the live events.
import { z } from 'zod'
import { displayName } from './text'
import { AbsolutePath, BandStatsSchema, ModelConfigSchema } from './models'

export const RunTask = z.enum(['classification', 'segmentation', 'pretrain'])
export type RunTask = z.infer<typeof RunTask>

export const RunStatus = z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled'])
export type RunStatus = z.infer<typeof RunStatus>

export const OptimizerConfig = z.object({
  name: z.enum(['adam', 'adamw']).default('adam'),
  lr: z.number().positive().max(10),
  beta1: z.number().min(0).max(0.99999).default(0.9),
  beta2: z.number().min(0).max(0.999999).default(0.999),
  eps: z.number().positive().default(1e-8),
  /** Adam: L2 added to the gradient (torch.optim.Adam); AdamW: decoupled decay. */
  weightDecay: z.number().min(0).default(0)
})
export type OptimizerConfig = z.infer<typeof OptimizerConfig>

export const ScheduleConfig = z.object({
  /**
   * linear: the study's LambdaLR, step/warmup, then max(0, (steps - step)/(steps - warmup));
   * cosine: warm-up then half a cosine to minLrRatio; poly: warm-up then (1 - progress)^power.
   */
  name: z.enum(['constant', 'linear', 'cosine', 'poly']).default('linear'),
  warmupSteps: z.number().int().min(0).default(0),
  power: z.number().positive().default(1),
  minLrRatio: z.number().min(0).max(1).default(0)
})
export type ScheduleConfig = z.infer<typeof ScheduleConfig>

/** Where the images come from. */
export const RunData = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('folder'),
    path: AbsolutePath,
    /** imagefolder: {train,valid}/<class>/*; mmseg: images/{train,valid}/* + annotations/{train,valid}/*_gtmask.png; images: any images below path (pre-training). */
    layout: z.enum(['imagefolder', 'mmseg', 'images'])
  }),
  z.object({ kind: z.literal('dataset-version'), id: z.number().int().positive() })
])
export type RunData = z.infer<typeof RunData>

/** Which weights the backbone starts from. */
export const RunModel = z.union([
  z.object({ id: z.number().int().positive() }).strict(),
  // true: the shipped MAE demo; 'crater': the shipped crater encoder (src/shared/models/demo-models.ts).
  z.object({ demo: z.union([z.literal(true), z.literal('crater')]) }).strict(),
  z.object({ path: AbsolutePath, configPath: AbsolutePath.optional() }).strict(),
  z.object({ random: ModelConfigSchema, stats: BandStatsSchema.optional() }).strict()
])
export type RunModel = z.infer<typeof RunModel>

export const SegmentationConfig = z.object({
  numClasses: z.number().int().min(2).max(64).default(2),
  /** Channels of the neck's transposed convolutions; default: the backbone's embed_dim. */
  neckDim: z.number().int().positive().optional(),
  headChannels: z.number().int().positive().default(256),
  headDropout: z.number().min(0).max(0.95).default(0.1),
  auxHead: z.boolean().default(false),
  auxWeight: z.number().min(0).default(0.4),
  loss: z.enum(['ce', 'dice', 'ce+dice']).default('ce'),
  classWeights: z.array(z.number().min(0)).optional(),
  /** Images (and masks) are resized to this square first; training crops `img_size` from it. */
  resize: z.number().int().positive().default(512),
  flip: z.boolean().default(true),
  /** Sliding-window inference stride at evaluation; default img_size / 2. */
  stride: z.number().int().positive().optional(),
  /** Validation tiles whose predicted and true masks are sent to the UI at each evaluation. */
  previewTiles: z.number().int().min(0).max(8).default(3)
})

export const RunConfig = z.object({
  name: displayName(200),
  task: RunTask,
  model: RunModel,
  data: RunData,
  preprocessing: z
    .object({
      recipe: z.enum(['means', 'prenorm-dup', 'postnorm-dup', 'luminance-dup', 'zero-reflectance']).default('postnorm-dup'),
      /** Truncate reflectance like the study's uint16 write-back. */
      truncate: z.boolean().default(true),
      /**
       * Per-tile contrast: 'none' keeps each tile's brightness and contrast as delivered (the study);
       * 'standardize' maps each tile's channels to the model's band mean and std first, so brightness
       * and stretch, which differ between HiRISE observations, cannot stand in for the landform.
       * Unset: what the backbone was pre-trained with (its JSON sidecar says), else 'none'; the
       * runs service records the resolved value.
       */
      tileNorm: z.enum(['none', 'standardize']).optional()
    })
    .default({ recipe: 'postnorm-dup', truncate: true }),
  /**
   * Binary classification: the class whose precision / recall / F1 / AUC / probabilities are
   * reported (training puts it at index 1). Default: the class whose name means "crater" (not
   * "NoCrater" / "no_crater"), else the minority class; the runs service records the resolved name.
   */
  positiveClass: z.string().min(1).max(200).optional(),
  /** Model input size (a multiple of the patch size); default: the model's img_size. Position embeddings are recomputed. */
  imgSize: z.number().int().min(16).max(4096).optional(),
  steps: z.number().int().min(1).max(10_000_000),
  batchSize: z.number().int().min(1).max(1024).default(4),
  /** Split each batch into chunks of this many images and accumulate their gradients (large models in wasm's 4 GB heap). */
  microBatch: z.number().int().min(1).max(1024).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  /** Token masking during training (classification: the study used 0.375; pre-training: 0.75). Never at evaluation. */
  maskRatio: z.number().min(0).max(0.99).default(0),
  dropout: z.number().min(0).max(0.95).default(0.5),
  /** Classifier input: the CLS token (the study) or the mean of the patch tokens (MAE's fine-tuning default). */
  pool: z.enum(['cls', 'mean']).default('cls'),
  /**
   * Classification: the linear head's starting weights. 'uniform': torch nn.Linear's default (weight
   * and bias uniform in ±1/sqrt(fan_in)). 'near-zero': MAE's fine-tuning (weight normal, std 2e-5;
   * bias 0): the first steps then do not push the pretrained encoder along a random direction.
   * 'linear-probe': LP-FT (Kumar et al., ICLR 2022): before the first step, a logistic regression
   * fitted on the frozen backbone's pooled features of the training images (at most 2,048, no
   * augmentation) becomes the head, so fine-tuning starts from a head that already separates the
   * classes instead of distorting the features to fit a random one. A fresh run only: a resumed
   * run keeps its checkpoint's head.
   */
  headInit: z.enum(['uniform', 'near-zero', 'linear-probe']).default('uniform'),
  /**
   * Classification: test-time augmentation at evaluation and inference. 'dihedral': the logits of the
   * 8 orientations of each image (quarter turns, with and without a flip) averaged, since orbital
   * tiles have no "up"; 8x the evaluation cost. 'none': the image as it is.
   */
  tta: z.enum(['none', 'dihedral']).default('none'),
  /**
   * Classification: loss weight of each class (torch CrossEntropyLoss `weight`; with two classes the
   * weights of the negative and positive BCE terms), or 'balanced': n / (classes * count) from the
   * training set's class counts (scikit-learn's convention). Default: unweighted.
   */
  classWeights: z.union([z.literal('balanced'), z.array(z.number().min(0)).min(2)]).optional(),
  /** Classification / pre-training: random horizontal and vertical flips and 90-degree rotations (orbital images have no "up"). */
  augment: z.boolean().default(false),
  /** Classification / segmentation: train the head only. Pre-training: train the decoder only (the encoder stays as it is). */
  freezeBackbone: z.boolean().default(false),
  /**
   * Classification, partial fine-tuning: the first K encoder blocks (with the patch embedding) stay
   * frozen and run in ONNX Runtime; blocks K..depth-1, the final norm and the head train. K = depth
   * trains the head alone (the final norm stays frozen too). 0 / unset: every block trains.
   */
  freezeBlocks: z.number().int().min(0).max(128).optional(),
  /** Clip the global gradient norm to this value (null: no clipping). */
  gradClip: z.number().positive().nullable().default(null),
  optimizer: OptimizerConfig,
  schedule: ScheduleConfig.default({ name: 'linear', warmupSteps: 0, power: 1, minLrRatio: 0 }),
  eval: z
    .object({
      everySteps: z.number().int().min(1).default(100),
      /** Evaluate on at most this many validation images (0: all). */
      maxImages: z.number().int().min(0).default(0)
    })
    .default({ everySteps: 100, maxImages: 0 }),
  checkpoint: z
    .object({
      everySteps: z.number().int().min(0).default(0),
      /**
       * Metric that picks the best checkpoint, e.g. val/balanced_accuracy, val/auc, val/f1 (the
       * positive class's), val/miou, val/loss. Unset: `defaultBestMetric(task)` (classification:
       * balanced accuracy, never plain accuracy, which favours the majority class on skewed data).
       */
      bestMetric: z.string().min(1).max(100).optional(),
      /** Unset: 'min' for losses, else 'max'. */
      mode: z.enum(['min', 'max']).optional()
    })
    .default({ everySteps: 0 }),
  segmentation: SegmentationConfig.optional(),
  /** Pre-training: loss on normalised pixels. */
  normPixLoss: z.boolean().optional()
})
export type RunConfig = z.infer<typeof RunConfig>
export type RunConfigInput = z.input<typeof RunConfig>

export const RunRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  task: RunTask,
  status: RunStatus,
  statusReason: z.string().nullable(),
  config: z.unknown(),
  datasetHash: z.string().nullable(),
  datasetVersionId: z.number().int().nullable(),
  /** "<dataset> v<version>" for a run on a frozen dataset version (null: a folder or none). */
  datasetName: z.string().nullable(),
  modelId: z.number().int().nullable(),
  /** The imported model's name (null: the demo model, a file or random weights; see the config). */
  modelName: z.string().nullable(),
  modelHash: z.string().nullable(),
  backend: z.string().nullable(),
  device: z.string().nullable(),
  seed: z.number().int(),
  appVersion: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Engine job currently driving the run (null when none). */
  jobId: z.string().nullable(),
  /** Last step with a recorded metric. */
  step: z.number().int(),
  /** Latest value of every metric. */
  latest: z.record(z.string(), z.number()),
  /** Step of the newest checkpoint (null: none, so no resume). */
  lastCheckpointStep: z.number().int().nullable(),
  /** The user's notes and tags (editable on the run page). */
  notes: z.string(),
  tags: z.array(z.string())
})
export type RunRecord = z.infer<typeof RunRecord>

export const MetricPoint = z.object({ step: z.number().int(), name: z.string(), value: z.number() })
export type MetricPoint = z.infer<typeof MetricPoint>

export const CheckpointRecord = z.object({
  id: z.number().int(),
  runId: z.number().int(),
  step: z.number().int(),
  kind: z.enum(['best', 'last', 'periodic']),
  path: z.string(),
  metricName: z.string().nullable(),
  metricValue: z.number().nullable(),
  createdAt: z.string()
})
export type CheckpointRecord = z.infer<typeof CheckpointRecord>

export const RunDetail = z.object({
  run: RunRecord,
  metrics: z.array(MetricPoint),
  checkpoints: z.array(CheckpointRecord)
})
export type RunDetail = z.infer<typeof RunDetail>

/** A segmentation preview: image and masks as base64 PNG-free raw bytes (RGB / class ids). */
export const SegPreview = z.object({
  size: z.number().int(),
  /** RGB bytes, base64, size*size*3. */
  image: z.string(),
  /** Class ids, base64, size*size. */
  truth: z.string(),
  pred: z.string()
})

/** Streamed every step (and at every evaluation) while a run trains. */
export const RunMetricsEvent = z.object({
  runId: z.number().int(),
  step: z.number().int(),
  totalSteps: z.number().int(),
  metrics: z.record(z.string(), z.number()),
  imagesPerSecond: z.number().optional(),
  etaSeconds: z.number().optional(),
  confusion: z.array(z.array(z.number())).optional(),
  classNames: z.array(z.string()).optional(),
  previews: z.array(SegPreview).optional()
})
export type RunMetricsEvent = z.infer<typeof RunMetricsEvent>

export const RunStatusEvent = z.object({ run: RunRecord })

/** What picks a task's best checkpoint when the config leaves it unset. */
export function defaultBestMetric(task: RunTask): { bestMetric: string; mode: 'min' | 'max' } {
  if (task === 'classification') return { bestMetric: 'val/balanced_accuracy', mode: 'max' }
  if (task === 'segmentation') return { bestMetric: 'val/miou', mode: 'max' }
  return { bestMetric: 'val/loss', mode: 'min' }
}

/** The best-checkpoint metric and direction of a config (defaults filled in). */
export function bestMetricOf(config: Pick<RunConfig, 'task' | 'checkpoint'>): { bestMetric: string; mode: 'min' | 'max' } {
  const d = defaultBestMetric(config.task)
  const bestMetric = config.checkpoint.bestMetric ?? d.bestMetric
  return { bestMetric, mode: config.checkpoint.mode ?? (/loss/.test(bestMetric) ? 'min' : 'max') }
}

// Strict at the top level of the config too: a misspelt key is an error, not silently dropped.
export const RunStartRequest = z.object({ config: RunConfig.strict() }).strict()
export const RunIdRequest = z.object({ id: z.number().int().positive() }).strict()
/** A tag: one short line, no control characters; tags group and filter runs. */
export const RunTag = displayName(40)
export const RunAnnotateRequest = z
  .object({
    id: z.number().int().positive(),
    notes: z.string().max(20_000),
    tags: z.array(RunTag).max(32)
  })
  .strict()
export type RunAnnotateRequest = z.infer<typeof RunAnnotateRequest>

/** Metric series of several runs for an overlay, in one call; long series come back downsampled. */
export const RunSeriesRequest = z
  .object({
    runIds: z.array(z.number().int().positive()).min(1).max(200),
    names: z.array(z.string().min(1).max(200)).min(1).max(32),
    /** Points per series at most (longer ones are downsampled, keeping their shape). */
    maxPoints: z.number().int().min(16).max(20_000).default(1000)
  })
  .strict()
export type RunSeriesRequest = z.input<typeof RunSeriesRequest>
export const RunSeries = z.object({
  runId: z.number().int(),
  name: z.string(),
  steps: z.array(z.number().int()),
  values: z.array(z.number()),
  /** Points recorded (steps.length when not downsampled). */
  recorded: z.number().int()
})
export type RunSeries = z.infer<typeof RunSeries>

export const RunStarted = z.object({
  runId: z.number().int(),
  jobId: z.string().nullable(),
  queued: z.boolean(),
  /** Things the user should know before trusting the run (e.g. a skewed class balance). */
  warnings: z.array(z.string()).default([])
})

/** A run's memory estimate on the engine's backend (src/shared/training/memory.ts). */
export const MemoryCheck = z.object({
  estimate: z.object({
    batchSize: z.number().int(),
    chunk: z.number().int(),
    parameters: z.number(),
    trainable: z.number(),
    bytes: z.object({ weights: z.number(), optimizer: z.number(), gradients: z.number(), activations: z.number(), overhead: z.number(), total: z.number() }),
    largestTensor: z.object({ bytes: z.number(), what: z.string() })
  }),
  limit: z.object({ backend: z.string(), totalBytes: z.number().nullable(), totalLabel: z.string(), tensorBytes: z.number().nullable(), tensorLabel: z.string() }),
  fits: z.boolean(),
  maxBatch: z.number().int().nullable(),
  message: z.string(),
  /** False when MARSFM_MEMORY_CHECK=off: a run that does not fit is started anyway. */
  enforced: z.boolean()
})
export type MemoryCheck = z.infer<typeof MemoryCheck>

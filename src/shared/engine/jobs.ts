// The engine's job catalogue: every job kind with the zod schemas of its params, of each event it
// streams (by event name) and of its result. Main types `startEngineJob` by it; the engine parses
// a job's params with it once, before the handler runs; main parses events and results with it.
import { z } from 'zod'
import { BandStatsSchema, ModelSummary, ModelConfigSchema } from '../ipc/schemas/models'
import { RunConfig, RunMetricsEvent } from '../ipc/schemas/runs'
import { BandRecipeSchema, StudyOutcome, StudySettings } from '../ipc/schemas/reconstruction'
import { HeatmapOutcome, InferenceBackend, InferenceOutcome, InferenceSettings } from '../ipc/schemas/inference'
import { ComputeDevice } from '../ipc/schemas/device'
import { DemoJobRequest } from '../ipc/schemas/jobs'
import { BackboneStudyOutcome, EmbedOutcomeSchema } from '../ipc/schemas/backbones'
import { BackboneStudyParams, EmbedJobParams } from './backbones'

/** One job kind: its params, its events (name → payload) and its result. */
export interface EngineJobSpec {
  params: z.ZodType
  events: Record<string, z.ZodType>
  result: z.ZodType
}

/** What the `train` job receives (also saved as <runDir>/params.json for resumes). */
export const TrainJobParams = z.object({
  runId: z.number().int(),
  runDir: z.string(),
  config: RunConfig,
  /** The backbone: a checkpoint to start from, or (no path) random weights of `config`. */
  model: z.object({ path: z.string().optional(), config: ModelConfigSchema, stats: BandStatsSchema }),
  /** Training checkpoint to resume from. */
  resumeFrom: z.string().optional(),
  /** Where exported ONNX graphs are kept (partial fine-tuning's frozen prefix); unset: in memory only. */
  cacheDir: z.string().optional()
})
export type TrainJobParams = z.output<typeof TrainJobParams>

/** Sent once the data is listed, before the first step. */
export const TrainStartedEvent = z.object({
  datasetHash: z.string(),
  backend: z.string(),
  device: z.string(),
  classes: z.array(z.string()),
  trainImages: z.number().int(),
  validImages: z.number().int(),
  trainCounts: z.array(z.number().int()).optional(),
  positiveClass: z.string().optional(),
  positiveReason: z.string().optional(),
  warnings: z.array(z.string()).optional()
})

export const TrainCheckpointEvent = z.object({
  step: z.number().int(),
  kind: z.enum(['best', 'last', 'periodic']),
  path: z.string(),
  metricName: z.string().nullable(),
  metricValue: z.number().nullable()
})

/** How a `train` job ended: trained all its steps, or paused (with a checkpoint) at `step`. */
export const TrainOutcome = z.object({
  status: z.enum(['done', 'paused']),
  step: z.number().int(),
  best: z.object({ metric: z.string(), value: z.number(), step: z.number().int() }).nullable(),
  lastCheckpoint: z.string().nullable()
})
export type TrainOutcome = z.output<typeof TrainOutcome>

export const TrainingExportParams = z.object({ checkpoint: z.string(), outPath: z.string().endsWith('.safetensors'), note: z.string().default('') })

export const TrainBenchParams = z.object({
  preset: z.enum(['prithvi-100m', 'prithvi-tiny']).default('prithvi-100m'),
  batchSize: z.number().int().positive().default(4),
  imgSize: z.number().int().positive().default(224),
  maskRatio: z.number().min(0).max(0.95).default(0.375),
  steps: z.number().int().positive().default(3),
  warmup: z.number().int().min(0).default(1),
  /** Gradient accumulation chunk; default: the whole batch (batch 4 of Prithvi-100M fits wasm's 4 GB heap). */
  microBatch: z.number().int().positive().optional(),
  /** Run on a software WebGPU adapter (llvmpipe, SwiftShader): correct but slow, so refused unless asked. */
  allowSoftware: z.boolean().default(false),
  /** Partial fine-tuning: the first K encoder blocks frozen and run in ONNX Runtime (classification). */
  freezeBlocks: z.number().int().min(0).max(128).optional(),
  /** Architecture overrides of the preset (memory calibration of src/shared/training/memory.ts). */
  model: z.record(z.string(), z.number()).optional(),
  task: z.enum(['classification', 'pretrain', 'segmentation']).default('classification'),
  /** Segmentation head (neck width, FCN channels), as in RunConfig.segmentation. */
  segmentation: z.object({ neckDim: z.number().int().positive().optional(), headChannels: z.number().int().positive().default(256), auxHead: z.boolean().default(false) }).optional()
})

/** Throughput and memory of a few training steps; a WebGPU run adds its kernel profile. */
export const TrainBenchResult = z.looseObject({
  backend: z.string(),
  device: z.string(),
  steps: z.number().int(),
  secondsPerStep: z.number(),
  microBatch: z.number().int().optional(),
  imagesPerSecond: z.number(),
  maxRssBytes: z.number(),
  wasmHeapBytes: z.number().optional(),
  numTensors: z.number().int()
})

export const StudyJobParams = StudySettings.extend({
  checkpoint: z.string().min(1),
  configPath: z.string().optional(),
  /** The architecture recorded at import (wins over a yaml). */
  config: ModelConfigSchema.optional(),
  stats: BandStatsSchema.nullable().optional(),
  sha256: z.string().optional(),
  images: z.array(z.string()).optional(),
  folder: z.string().optional(),
  /** Rectangles of images (a dataset version's tiles), used instead of images / folder. */
  regions: z.array(z.object({ path: z.string(), ref: z.string(), x: z.number().int(), y: z.number().int(), width: z.number().int(), height: z.number().int() })).optional(),
  /** Preset names, or full recipes (the user's own). */
  methods: z.array(z.union([z.string(), BandRecipeSchema])).min(1),
  /** One array of L values per image, in image order; replaces the seeded masks. */
  noise: z.array(z.array(z.number())).optional(),
  cacheDir: z.string(),
  galleryDir: z.string().optional(),
  bootstrapIterations: z.number().int().min(100).max(1_000_000).default(10_000),
  /** ONNX Runtime intra-op threads (default: ORT's choice). */
  threads: z.number().int().min(1).max(256).optional()
})

const Region = z.object({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().positive(), height: z.number().int().positive() })

export const ClassifyJobParams = InferenceSettings.extend({
  /** A training checkpoint (`*.safetensors` with its JSON beside it). */
  checkpoint: z.string().min(1),
  folder: z.string().optional(),
  files: z.array(z.string()).optional(),
  /** Resolved images (a dataset version's tiles), used instead of folder / files. */
  items: z.array(z.object({ path: z.string(), name: z.string(), label: z.string().nullable(), region: Region.optional() })).optional(),
  cacheDir: z.string(),
  threads: z.number().int().min(1).max(256).optional()
})

/** The `inference-heatmap` job: one large image, window by window (window and stride resolved by main). */
export const HeatmapJobParams = z.object({
  checkpoint: z.string().min(1),
  image: z.string().min(1),
  /** Window side and stride in image pixels; the window defaults to the run's input size. */
  window: z.number().int().min(8).max(8192).optional(),
  stride: z.number().int().min(1).max(8192).optional(),
  batchSize: z.number().int().min(1).max(256).default(16),
  backend: InferenceBackend.default('auto'),
  device: ComputeDevice.default('auto'),
  className: z.string().optional(),
  /** Longer side of the preview image returned with the map. */
  previewSide: z.number().int().min(64).max(4096).default(1600),
  cacheDir: z.string(),
  threads: z.number().int().min(1).max(256).optional()
})

export const ModelInspectParams = z.object({ path: z.string(), configPath: z.string().optional() })

export const ModelExportOnnxParams = z.object({
  path: z.string(),
  configPath: z.string().optional(),
  /** The architecture recorded at import (wins over the yaml and over inference). */
  config: ModelConfigSchema.optional(),
  graph: z.enum(['mae', 'encoder', 'classifier']),
  outPath: z.string(),
  maskRatio: z.number().min(0).max(0.99).default(0.5)
})

/** An ONNX graph input or output: name, element type, shape (numbers, or names of dynamic axes). */
const TensorSpec = z.object({ name: z.string(), type: z.literal('float32'), shape: z.array(z.union([z.number(), z.string()])) })

export const ModelExportOnnxResult = z.object({ outPath: z.string(), bytes: z.number(), inputs: z.array(TensorSpec), outputs: z.array(TensorSpec), opset: z.number().int() })

export const EngineJobs = {
  demo: {
    params: DemoJobRequest,
    events: { metric: z.object({ step: z.number().int(), name: z.string(), value: z.number() }) },
    result: z.object({ steps: z.number().int(), checksum: z.number(), backend: z.string() })
  },
  train: {
    params: TrainJobParams,
    events: { started: TrainStartedEvent, metrics: RunMetricsEvent.omit({ runId: true }), checkpoint: TrainCheckpointEvent },
    result: TrainOutcome
  },
  'training-export': {
    params: TrainingExportParams,
    events: {},
    result: z.object({ outPath: z.string(), parameterCount: z.number().int(), step: z.number().int() })
  },
  'train-bench': { params: TrainBenchParams, events: {}, result: TrainBenchResult },
  'reconstruction-study': { params: StudyJobParams, events: {}, result: StudyOutcome },
  'inference-classify': { params: ClassifyJobParams, events: {}, result: InferenceOutcome },
  'inference-heatmap': { params: HeatmapJobParams, events: {}, result: HeatmapOutcome },
  'model-inspect': { params: ModelInspectParams, events: {}, result: ModelSummary },
  'model-export-onnx': { params: ModelExportOnnxParams, events: {}, result: ModelExportOnnxResult },
  embed: { params: EmbedJobParams, events: {}, result: EmbedOutcomeSchema },
  'backbone-study': { params: BackboneStudyParams, events: {}, result: BackboneStudyOutcome }
} as const satisfies Record<string, EngineJobSpec>

type Jobs = typeof EngineJobs
export type EngineJobKind = keyof Jobs

/** What a caller passes (defaults may be left out). */
export type EngineJobParams<K extends EngineJobKind> = z.input<Jobs[K]['params']>
/** What the engine's handler receives: the params parsed, defaults filled in. */
export type EngineJobInput<K extends EngineJobKind> = z.output<Jobs[K]['params']>
export type EngineJobEventName<K extends EngineJobKind> = keyof Jobs[K]['events'] & string
/** One event of kind K as main receives it: a union discriminated by `event`. */
export type EngineJobEvent<K extends EngineJobKind> = {
  [E in EngineJobEventName<K>]: { event: E; payload: z.output<Jobs[K]['events'][E]> }
}[EngineJobEventName<K>]
/** The payload the engine sends for event E of kind K. */
export type EngineJobEventPayload<K extends EngineJobKind, E extends EngineJobEventName<K>> = z.input<Jobs[K]['events'][E]>
export type EngineJobResult<K extends EngineJobKind> = z.output<Jobs[K]['result']>
/** What the engine's handler returns. */
export type EngineJobReturn<K extends EngineJobKind> = z.input<Jobs[K]['result']>

export const ENGINE_JOB_KINDS = Object.keys(EngineJobs) as EngineJobKind[]

export function isEngineJobKind(kind: unknown): kind is EngineJobKind {
  return typeof kind === 'string' && Object.hasOwn(EngineJobs, kind)
}

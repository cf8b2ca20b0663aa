// Params of the backbone-comparison engine jobs (`embed`, `backbone-study`); their results are the
// schemas in ipc/schemas/backbones.ts, which the ledger keeps.
import { z } from 'zod'
import { ComputeDevice } from '../ipc/schemas/device'
import { BandStatsSchema, ModelConfigSchema } from '../ipc/schemas/models'
import { BandPreprocessing, ProbeMethod, Pooling } from '../ipc/schemas/backbones'

const Region = z.object({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().positive(), height: z.number().int().positive() })

export const EmbedBackbone = z.discriminatedUnion('kind', [
  /** A checkpoint file (its recorded architecture wins over inference). */
  z.object({ kind: z.literal('checkpoint'), path: z.string().min(1), config: ModelConfigSchema.optional() }),
  /** Untrained weights of an architecture: the floor any pre-training must beat. */
  z.object({ kind: z.literal('random'), config: ModelConfigSchema, seed: z.number().int().default(0) })
])

const DEFAULT_PREPROCESSING = { recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' } as const

export const EmbedJobParams = z.object({
  backbone: EmbedBackbone,
  /** The backbone's band statistics (default: the checkpoint's, else Prithvi's HLS ones). */
  stats: BandStatsSchema.optional(),
  preprocessing: BandPreprocessing.default(DEFAULT_PREPROCESSING),
  /** Image rectangles; `key` names one in the cache (image SHA-256 and rectangle). */
  items: z.array(z.object({ key: z.string().min(1), path: z.string().min(1), region: Region.optional() })).min(1),
  /** Folder of the embedding caches (one sub-folder per backbone and preprocessing). */
  storeRoot: z.string().min(1),
  /** Folder of exported ONNX graphs. */
  cacheDir: z.string().min(1),
  device: ComputeDevice.default('auto'),
  batch: z.number().int().min(1).max(256).default(16),
  threads: z.number().int().min(1).max(256).optional()
})

export const ProbeSettings = z.object({
  folds: z.number().int().min(2).max(20).default(5),
  /** Split seeds: each assigns observations to folds differently; results are reported per seed and averaged. */
  seeds: z.array(z.number().int()).min(1).max(20).default([0, 1, 2]),
  methods: z.array(ProbeMethod).min(1).default(['logistic', 'knn']),
  poolings: z.array(Pooling).min(1).default(['cls', 'mean']),
  /** Observation resamples for the intervals and paired tests. */
  bootstrap: z.number().int().min(10).max(20_000).default(1000),
  knnK: z.number().int().min(1).max(200).default(10),
  l2: z.number().min(0).max(100).default(1e-2)
})
export type ProbeSettings = z.output<typeof ProbeSettings>

export const BackboneStudyParams = z.object({
  backbones: z
    .array(z.object({ name: z.string().min(1), backbone: EmbedBackbone, stats: BandStatsSchema.optional(), preprocessing: BandPreprocessing.default(DEFAULT_PREPROCESSING) }))
    .min(1),
  /** Labelled tiles: class index and observation (the grouping of the folds). */
  tiles: z.array(z.object({ key: z.string().min(1), path: z.string().min(1), region: Region.optional(), label: z.number().int().min(0), observation: z.string().min(1) })).min(1),
  /** At least two when probing; an embed-only study may have one. */
  classes: z.array(z.string()).min(1),
  /** Binary: the index of the positive class (its AUC, precision, recall are the ones reported). */
  positiveIndex: z.number().int().min(0).default(1),
  storeRoot: z.string().min(1),
  cacheDir: z.string().min(1),
  device: ComputeDevice.default('auto'),
  batch: z.number().int().min(1).max(256).default(16),
  /** Null: embed only (fill the cache), no probes. */
  probe: ProbeSettings.nullable().default(ProbeSettings.parse({}))
})

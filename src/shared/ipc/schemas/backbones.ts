// Schemas for the backbone comparison (the Backbones view, `marsfm probe` / `marsfm embed`): which
// backbones to compare on which frozen dataset version, and what the study found — probe scores
// per backbone with intervals, paired tests, a 2-D map per backbone, and the tiles it scored.
import { z } from 'zod'
import { displayName } from './text'
import { ComputeDevice } from './device'
import { InferenceMetrics } from './inference'
import { BandStatsSchema, ModelConfigSchema } from './models'

export const Pooling = z.enum(['cls', 'mean'])
export const ProbeMethod = z.enum(['logistic', 'knn'])

export const BackboneChoice = z.discriminatedUnion('kind', [
  /** A model in the ledger (a pre-trained checkpoint). */
  z.object({ kind: z.literal('model'), modelId: z.number().int().positive(), name: displayName(100).optional() }).strict(),
  /** Untrained weights with a ledger model's architecture: the floor pre-training must beat. */
  z.object({ kind: z.literal('random'), likeModelId: z.number().int().positive(), seed: z.number().int().min(0).max(2 ** 31 - 1).default(0), name: displayName(100).optional() }).strict()
])
export type BackboneChoice = z.input<typeof BackboneChoice>

export const BandPreprocessing = z
  .object({
    recipe: z.enum(['means', 'prenorm-dup', 'postnorm-dup', 'luminance-dup', 'zero-reflectance']).default('postnorm-dup'),
    truncate: z.boolean().default(true),
    tileNorm: z.enum(['none', 'standardize']).default('none')
  })
  .strict()

export const BackboneStudyRequest = z
  .object({
    name: displayName(200).optional(),
    versionId: z.number().int().positive(),
    backbones: z.array(BackboneChoice).min(1).max(12),
    /** Binary versions: the class reported as positive (default: the crater-named class, else the minority). */
    positiveClass: displayName(100).optional(),
    preprocessing: BandPreprocessing.default({ recipe: 'postnorm-dup', truncate: true, tileNorm: 'none' }),
    folds: z.number().int().min(2).max(20).default(5),
    seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(20).default([0, 1, 2]),
    methods: z.array(ProbeMethod).min(1).max(2).default(['logistic', 'knn']),
    poolings: z.array(Pooling).min(1).max(2).default(['cls', 'mean']),
    bootstrap: z.number().int().min(10).max(20_000).default(1000),
    device: ComputeDevice.default('auto'),
    /** At most this many labelled tiles (in the version's order). */
    maxTiles: z.number().int().min(2).max(100_000).default(5000),
    /** Fill the embedding cache only (no probes). */
    embedOnly: z.boolean().default(false)
  })
  .strict()
export type BackboneStudyRequest = z.input<typeof BackboneStudyRequest>

export const BackboneStudyStarted = z.object({ jobId: z.string(), studyId: z.number().int() })

const Interval = z.object({ lower: z.number(), upper: z.number() })

export const ProbeScoresSchema = z.object({
  metrics: InferenceMetrics,
  intervals: z.object({ accuracy: Interval, balancedAccuracy: Interval, auc: Interval.optional() }),
  observations: z.number().int(),
  iterations: z.number().int()
})

const Headline = z.object({ accuracy: z.number(), balancedAccuracy: z.number(), auc: z.number().nullable() })

export const ProbeRowSchema = z.object({
  pooling: Pooling,
  method: ProbeMethod,
  perSeed: z.array(z.object({ seed: z.number().int(), scores: ProbeScoresSchema })),
  mean: Headline,
  sd: Headline
})
export type ProbeRowView = z.infer<typeof ProbeRowSchema>

const PairedDifference = z.object({ difference: z.number(), interval: Interval, p: z.number() })

export const EmbedOutcomeSchema = z.object({
  storeKey: z.string(),
  dim: z.number().int(),
  weights: z.string(),
  config: ModelConfigSchema,
  preprocessing: z.object({ recipe: z.string(), truncate: z.boolean(), tileNorm: z.string(), stats: BandStatsSchema }),
  computed: z.number().int(),
  reused: z.number().int(),
  failed: z.array(z.object({ key: z.string(), path: z.string(), error: z.string() })),
  device: z.string(),
  notes: z.array(z.string()),
  seconds: z.number()
})

export const BackboneStudyOutcome = z.object({
  classes: z.array(z.string()),
  positiveIndex: z.number().int(),
  tiles: z.array(z.object({ key: z.string(), label: z.number().int(), observation: z.string() })),
  skipped: z.array(z.object({ key: z.string(), path: z.string(), error: z.string() })),
  observations: z.number().int(),
  settings: z.unknown(),
  backbones: z.array(
    z.object({
      name: z.string(),
      embed: EmbedOutcomeSchema,
      rows: z.array(ProbeRowSchema),
      map: z.object({ pooling: Pooling, coords: z.array(z.number()), explained: z.tuple([z.number(), z.number()]) }).nullable()
    })
  ),
  comparisons: z.array(
    z.object({
      a: z.string(),
      b: z.string(),
      pooling: Pooling,
      method: ProbeMethod,
      seed: z.number().int(),
      result: z.object({
        balancedAccuracy: PairedDifference,
        auc: PairedDifference.optional(),
        mcnemar: z.object({ onlyA: z.number().int(), onlyB: z.number().int(), p: z.number() })
      })
    })
  ),
  seconds: z.number()
})
export type BackboneStudyOutcome = z.infer<typeof BackboneStudyOutcome>

/** What the ledger keeps as a study's input: the request and what it resolved to. */
export const BackboneStudyInput = z.object({
  name: z.string(),
  request: BackboneStudyRequest,
  version: z.object({ id: z.number().int(), datasetName: z.string(), version: z.number().int(), contentHash: z.string() }),
  classes: z.array(z.string()),
  positiveClass: z.string().nullable(),
  backbones: z.array(z.object({ name: z.string(), kind: z.enum(['model', 'random']), modelId: z.number().int(), modelName: z.string(), sha256: z.string(), seed: z.number().int().optional() })),
  /** Tile of each outcome row key: the dataset tile and the stored image rectangle it was cut from. */
  tiles: z.array(z.object({ key: z.string(), tileId: z.number().int(), name: z.string(), path: z.string(), region: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int(), height: z.number().int() }) }))
})
export type BackboneStudyInput = z.infer<typeof BackboneStudyInput>

export const BackboneStudyStatus = z.enum(['running', 'done', 'failed', 'cancelled'])

export const BackboneStudyListItem = z.object({
  id: z.number().int(),
  name: z.string(),
  versionId: z.number().int(),
  backbones: z.array(z.string()),
  status: BackboneStudyStatus,
  statusReason: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable()
})
export type BackboneStudyListItem = z.infer<typeof BackboneStudyListItem>

export const BackboneStudyDetail = BackboneStudyListItem.extend({ input: BackboneStudyInput, outcome: BackboneStudyOutcome.nullable() })
export type BackboneStudyDetail = z.infer<typeof BackboneStudyDetail>

export const BackboneStudyIdRequest = z.object({ id: z.number().int().positive() }).strict()

export const NeighboursRequest = z
  .object({
    id: z.number().int().positive(),
    backbone: displayName(100),
    /** Row of the outcome's tiles to search from. */
    index: z.number().int().min(0).max(100_000),
    k: z.number().int().min(1).max(100).default(12),
    pooling: Pooling.default('cls')
  })
  .strict()
export const Neighbours = z.array(z.object({ index: z.number().int(), similarity: z.number(), label: z.number().int(), observation: z.string() }))

export const BackboneTileImageRequest = z.object({ id: z.number().int().positive(), index: z.number().int().min(0).max(100_000), maxSide: z.number().int().min(32).max(1024).default(160) }).strict()
export const BackboneTileImage = z.object({ index: z.number().int(), name: z.string(), dataUrl: z.string() })

// Schemas for the imputation reconstruction workbench: band recipes (presets and the user's own),
// a study's request and stored configuration, its per-tile results, aggregates and gallery.
import { z } from 'zod'
import { validateRecipe, type BandRecipe } from '../../imputation/recipes'
import { AbsolutePath } from './models'
import { displayName } from './text'
import { BackendUsedFields, ComputeDevice } from './device'

export const BandRecipeEntrySchema = z.object({
  source: z.enum(['B', 'G', 'R', 'luminance', 'constant']),
  value: z.number().optional(),
  stage: z.enum(['prenorm', 'postnorm']),
  statsBand: z.number().int().optional()
})

/** What a saved recipe may be called (also what deleting one accepts). */
export const RecipeName = z.string().min(1).max(80).regex(/^[\w.+-]+$/, 'letters, digits and . _ + - only')

/** A six-band recipe; the shape is checked by zod, the meaning by validateRecipe. */
export const BandRecipeSchema = z
  .object({
    name: RecipeName,
    description: z.string().max(500).optional(),
    bands: z.array(BandRecipeEntrySchema)
  })
  .superRefine((r, ctx) => {
    for (const message of validateRecipe(r)) ctx.addIssue({ code: 'custom', message })
  }) as unknown as z.ZodType<BandRecipe>

export const RecipeList = z.object({
  presets: z.array(BandRecipeSchema),
  custom: z.array(BandRecipeSchema)
})
export type RecipeList = z.infer<typeof RecipeList>

/** How an image that is not the model's size becomes model-sized tiles. */
export const TileGeometry = z.enum(['centre-crop', 'tile', 'resize'])
export type TileGeometry = z.infer<typeof TileGeometry>

export const ReconstructionBackend = z.enum(['ort', 'tfjs'])
export type ReconstructionBackend = z.infer<typeof ReconstructionBackend>

/** A folder or files of RGB images, or the tiles of a frozen dataset version (optionally one split). */
export const StudySource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('folder'), path: AbsolutePath }),
  z.object({ kind: z.literal('files'), paths: z.array(AbsolutePath).min(1).max(100_000) }),
  z.object({ kind: z.literal('dataset-version'), versionId: z.number().int().positive(), split: z.enum(['train', 'valid', 'test']).optional() })
])
export type StudySource = z.infer<typeof StudySource>

/** The settings a study runs with; the same object reopens it. */
export const StudySettings = z.object({
  maskRatio: z.number().min(0.05).max(0.95).default(0.5),
  /** Seed of the first mask; mask k of a tile uses seed + k. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  /** Masks per tile (each used for every method). */
  maskSeeds: z.number().int().min(1).max(16).default(1),
  maxTiles: z.number().int().min(1).max(100_000).default(1024),
  /**
   * Images larger than the model: native-resolution tiles by default (every pixel the model sees
   * is a real one; edge strips narrower than a tile are left out), or the older centre crop / resize.
   */
  geometry: TileGeometry.default('tile'),
  /** Truncate the reflectance scaling to integers, as the study did. */
  truncate: z.boolean().default(true),
  backend: ReconstructionBackend.default('ort'),
  /** ONNX Runtime's device (the ort backend only). */
  device: ComputeDevice.default('auto'),
  batchSize: z.number().int().min(1).max(512).default(8),
  galleryTiles: z.number().int().min(0).max(64).default(24)
})
export type StudySettings = z.infer<typeof StudySettings>

export const ReconstructionStartRequest = StudySettings.extend({
  name: displayName(200).optional(),
  modelId: z.number().int().positive(),
  source: StudySource,
  /** Recipe names: presets or the user's saved recipes. */
  methods: z.array(z.string().min(1).max(80)).min(1).max(12)
})
export type ReconstructionStartRequest = z.input<typeof ReconstructionStartRequest>
/** A start request after parsing (defaults filled in): what the use case receives. */
export type ReconstructionStart = z.output<typeof ReconstructionStartRequest>

export const StudyStarted = z.object({ jobId: z.string(), studyId: z.number().int() })

/** What the ledger keeps as a study's configuration (config_json). */
export const StudyConfig = StudySettings.extend({
  source: StudySource,
  methods: z.array(z.string()),
  recipes: z.array(BandRecipeSchema),
  model: z.object({ id: z.number().int(), name: z.string(), sha256: z.string() }),
  /** The model's family and the preprocessing the study used (absent in studies recorded before families). */
  family: z.string().optional(),
  preprocessing: z.string().optional()
})
export type StudyConfig = z.infer<typeof StudyConfig>

export const METRICS = ['modelLoss', 'rgbLoss', 'displayMse', 'psnr', 'ssim'] as const
export const Metric = z.enum(METRICS)
export type Metric = z.infer<typeof Metric>

/** One tile × method × mask. */
export const ResultRow = z.object({
  tile: z.string(),
  method: z.string(),
  maskSeed: z.number().int(),
  modelLoss: z.number(),
  rgbLoss: z.number(),
  displayMse: z.number(),
  psnr: z.number(),
  ssim: z.number()
})
export type ResultRow = z.infer<typeof ResultRow>

export const Aggregate = z.object({ mean: z.number(), std: z.number(), lower: z.number(), upper: z.number(), n: z.number().int() })
export type Aggregate = z.infer<typeof Aggregate>

export const MethodSummary = z.object({
  method: z.string(),
  metrics: z.record(Metric, Aggregate)
})
export type MethodSummary = z.infer<typeof MethodSummary>

/** Paired per-tile comparison of two methods on one metric (a − b). */
export const PairSummary = z.object({
  a: z.string(),
  b: z.string(),
  metric: Metric,
  n: z.number().int(),
  meanDiff: z.number(),
  lower: z.number(),
  upper: z.number(),
  wilcoxonW: z.number(),
  z: z.number(),
  pValue: z.number(),
  test: z.string()
})
export type PairSummary = z.infer<typeof PairSummary>

export const StudySummary = z.object({
  tiles: z.number().int(),
  masksPerTile: z.number().int(),
  bootstrap: z.object({ iterations: z.number().int(), seed: z.number().int(), alpha: z.number() }),
  methods: z.array(MethodSummary),
  pairs: z.array(PairSummary)
})
export type StudySummary = z.infer<typeof StudySummary>

export const GalleryPanel = z.object({
  kind: z.enum(['original', 'masked', 'recon', 'error']),
  method: z.string().optional(),
  file: z.string().regex(/^[\w.-]+\.png$/)
})
/** One gallery row; every image panel of the row shares one percentile stretch, every heat map one scale. */
export const GalleryTile = z.object({
  index: z.number().int(),
  tile: z.string(),
  maskSeed: z.number().int(),
  stretch: z.object({ low: z.number(), high: z.number(), lowPct: z.number(), highPct: z.number() }),
  /** Per-patch RGB error (normalised space) that maps to the top of the heat-map colours. */
  errorMax: z.number(),
  panels: z.array(GalleryPanel)
})
export const GalleryManifest = z.object({
  size: z.number().int(),
  patch: z.number().int(),
  tiles: z.array(GalleryTile)
})
export type GalleryManifest = z.infer<typeof GalleryManifest>

export const StudyTile = z.object({ ref: z.string(), image: z.string(), x: z.number().int(), y: z.number().int(), width: z.number().int(), height: z.number().int() })

/** What the engine's study job returns. */
export const StudyOutcome = z.object({
  backend: z.object({ name: ReconstructionBackend, ...BackendUsedFields }),
  model: z.object({ sha256: z.string(), imgSize: z.number().int(), patchSize: z.number().int() }),
  tiles: z.array(StudyTile),
  rows: z.array(ResultRow),
  summary: StudySummary,
  gallery: GalleryManifest.nullable(),
  /** Set when the study was cancelled: the tiles it finished (all of the study's numbers) of those it had cut. */
  partial: z.object({ tilesDone: z.number().int(), tilesPlanned: z.number().int() }).optional(),
  /** Images left out because they could not be read, each with its reason. */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
  timing: z.object({ loadSeconds: z.number(), seconds: z.number(), tilesPerSecond: z.number() })
})
export type StudyOutcome = z.infer<typeof StudyOutcome>

export const StudyStatus = z.enum(['running', 'done', 'failed', 'cancelled'])

export const StudyListItem = z.object({
  id: z.number().int(),
  name: z.string(),
  modelId: z.number().int().nullable(),
  status: StudyStatus,
  statusReason: z.string().nullable(),
  methods: z.array(z.string()),
  tiles: z.number().int().nullable(),
  /** A cancelled study that kept its finished tiles: how many of how many. */
  partial: z.object({ tilesDone: z.number().int(), tilesPlanned: z.number().int() }).nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable()
})
export type StudyListItem = z.infer<typeof StudyListItem>

export const StudyDetail = StudyListItem.extend({
  config: StudyConfig,
  outcome: StudyOutcome.omit({ rows: true }).nullable(),
  rows: z.array(ResultRow)
})
export type StudyDetail = z.infer<typeof StudyDetail>

export const GalleryTileRequest = z.object({ studyId: z.number().int().positive(), index: z.number().int().min(0) }).strict()
export const GalleryTileImages = z.object({
  index: z.number().int(),
  tile: z.string(),
  errorMax: z.number(),
  panels: z.array(z.object({ kind: GalleryPanel.shape.kind, method: z.string().optional(), dataUrl: z.string() }))
})
export type GalleryTileImages = z.infer<typeof GalleryTileImages>

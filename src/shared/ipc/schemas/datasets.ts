// Schemas for dataset curation: HiRISE crops imported, tiled, labelled and annotated, split
// without leaks, frozen into versions and exported in the study's formats.
import { z } from 'zod'
import { displayName } from './text'

const Id = z.number().int().positive()
export const DatasetId = Id

/** An absolute path on the machine that runs main (POSIX, drive letter or UNC). */
export const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p), 'must be an absolute path')
  .refine((p) => !p.includes('\0'), 'must not contain NUL')

/** A dataset's name (the CLI addresses datasets by it and prints it). */
export const DatasetName = displayName(120)

export const ClassName = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case letters, digits and dashes').max(64)
export const AnnotatorName = z.string().trim().min(1).max(64)
export const SplitName = z.enum(['train', 'valid', 'test'])
export const Task = z.enum(['classification', 'segmentation'])
export const ColourClass = z.enum(['grey', 'grey-as-rgb', 'rgb', 'false-colour'])

/** What an import does with the source's classes (see src/shared/datasets/class-mapping.ts). */
export const ClassMapping = z
  .object({
    mode: z.enum(['keep', 'crater-vs-rest', 'custom']),
    /** custom: source class → target class (null drops it); classes not listed keep their name. */
    map: z.record(z.string().min(1).max(64), ClassName.nullable()).refine((m) => Object.keys(m).length <= 256, 'at most 256 classes').optional(),
    drop: z.array(z.string().min(1).max(64)).max(256).default([])
  })
  .strict()
export type ClassMapping = z.infer<typeof ClassMapping>

/** The record of what one import did with its classes (kept with the dataset and its versions). */
export const AppliedClassMapping = z.object({
  format: z.string(),
  source: z.string(),
  mode: z.enum(['keep', 'crater-vs-rest', 'custom']),
  drop: z.array(z.string()),
  map: z.record(z.string(), z.string().nullable()),
  counts: z.record(z.string(), z.number().int()),
  at: z.string()
})

/**
 * How a tile's label is decided when annotators differ: an annotator's correction of an imported
 * label wins (`correction-wins`), or the tile waits for an explicit decision (`adjudicate`).
 */
export const LabelPolicy = z.enum(['correction-wins', 'adjudicate'])
export type LabelPolicy = z.infer<typeof LabelPolicy>
export const LabelOrigin = z.enum(['import', 'manual', 'adjudication'])
export const LabelStatus = z.enum(['unlabelled', 'agreed', 'majority', 'corrected', 'adjudicated', 'conflict'])

export const DatasetSummary = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  task: Task,
  classes: z.array(z.string()),
  images: z.number().int(),
  tiles: z.number().int(),
  /** Tiles with a decided label (what the split and the exports count). */
  labelled: z.number().int(),
  /** Tiles whose labels conflict and wait for adjudication. */
  conflicts: z.number().int(),
  labelPolicy: LabelPolicy,
  classMappings: z.array(AppliedClassMapping),
  versions: z.number().int(),
  latestVersion: z.number().int().nullable(),
  /** Edited since the latest version (or never frozen). */
  draft: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string()
})
export type DatasetSummary = z.infer<typeof DatasetSummary>

export const DatasetCreate = z
  .object({
    name: DatasetName,
    description: z.string().max(2000).default(''),
    task: Task.default('classification'),
    classes: z.array(ClassName).min(1).max(64).default(['crater', 'no-crater'])
  })
  .strict()

export const DatasetUpdate = z
  .object({
    datasetId: Id,
    name: DatasetName.optional(),
    description: z.string().max(2000).optional(),
    task: Task.optional(),
    classes: z.array(ClassName).min(1).max(64).optional(),
    labelPolicy: LabelPolicy.optional()
  })
  .strict()

export const ByDataset = z.object({ datasetId: Id }).strict()

export const ImportRequest = z
  .object({
    datasetId: Id,
    /** Files and folders; folders are walked. */
    paths: z.array(AbsolutePath).min(1).max(10_000),
    recursive: z.boolean().default(true),
    /** Make each image up to `wholeTileMax` px a tile of its own (crops that are tiles already). */
    wholeTiles: z.boolean().default(true),
    wholeTileMax: z.number().int().min(16).max(4096).default(1024)
  })
  .strict()
export type ImportRequest = z.infer<typeof ImportRequest>

export const AnnotationFormat = z.enum(['coco', 'imagefolder', 'yolo', 'voc', 'landmarks'])
export type AnnotationFormat = z.infer<typeof AnnotationFormat>

export const ImportFormatRequest = z
  .object({
    datasetId: Id,
    format: AnnotationFormat,
    /** COCO: an export folder or one `_annotations.coco.json`; ImageFolder / YOLO: the root;
     *  VOC: an .xml file or a folder of them; landmarks: `labels-map-proj.txt`. */
    path: AbsolutePath,
    /** Where the images are, when not beside the labels (VOC, landmarks). */
    imagesDir: AbsolutePath.optional(),
    /** YOLO/VOC: also add the ellipse inscribed in each box, as a coarse crater mask. */
    boxesAsEllipses: z.boolean().default(false),
    /** Annotator name for formats that do not carry one. */
    annotator: AnnotatorName.optional(),
    /** What becomes of the source's classes; default: landmarks crater vs rest without edge, others keep. */
    classMapping: ClassMapping.optional()
  })
  .strict()
export type ImportFormatRequest = z.infer<typeof ImportFormatRequest>

/** The classes an annotation source holds, read before importing (the Import panel's mapping step). */
export const ImportClassesRequest = z.object({ format: AnnotationFormat, path: AbsolutePath, imagesDir: AbsolutePath.optional() }).strict()
export const ImportClassesResponse = z.object({
  classes: z.array(z.object({ name: z.string(), count: z.number().int() })),
  /** What counts are of: tile labels, or shapes (boxes, polygons). */
  unit: z.enum(['labels', 'shapes']),
  /** The mapping an import without a choice applies. */
  defaultMapping: ClassMapping
})

export const ImportFailure = z.object({ path: z.string(), reason: z.string() })
export const ImportSummary = z.object({
  scanned: z.number().int(),
  imported: z.number().int(),
  duplicates: z.array(z.object({ path: z.string(), sameAs: z.string() })),
  failed: z.array(ImportFailure),
  tilesCreated: z.number().int(),
  labelsSet: z.number().int(),
  annotationsAdded: z.number().int(),
  notes: z.array(z.string())
})
export type ImportSummary = z.infer<typeof ImportSummary>

export const ImageView = z.object({
  id: Id,
  datasetId: Id,
  fileName: z.string(),
  path: z.string(),
  sha256: z.string(),
  format: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  channels: z.number().int(),
  bitDepth: z.number().int(),
  observationId: z.string().nullable(),
  colour: ColourClass.nullable(),
  tiles: z.number().int(),
  thumbnail: z.string().nullable()
})
export type ImageView = z.infer<typeof ImageView>

export const ImagesListRequest = z
  .object({ datasetId: Id, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(200), withThumbnails: z.boolean().default(true) })
  .strict()
export const ImagesListResponse = z.object({ total: z.number().int(), images: z.array(ImageView) })

export const RegionRequest = z
  .object({
    imageId: Id,
    x: z.number().int().min(0),
    y: z.number().int().min(0),
    width: z.number().int().min(1),
    height: z.number().int().min(1),
    /** The longest side of the returned picture; the region is scaled down to fit. */
    maxSide: z.number().int().min(16).max(4096).default(1024)
  })
  .strict()
export const RegionResponse = z.object({
  dataUrl: z.string(),
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  outWidth: z.number().int(),
  outHeight: z.number().int()
})

export const TileView = z.object({
  id: Id,
  imageId: Id,
  fileName: z.string(),
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  origin: z.enum(['grid', 'point', 'whole']),
  observationId: z.string().nullable(),
  split: SplitName.nullable(),
  splitManual: z.boolean(),
  labels: z.array(z.object({ annotator: z.string(), className: z.string(), origin: LabelOrigin })),
  /** The decided label (see LabelPolicy); null when unlabelled or in conflict. */
  label: z.string().nullable(),
  labelStatus: LabelStatus,
  agree: z.boolean(),
  annotations: z.number().int(),
  colour: ColourClass.nullable()
})
export type TileView = z.infer<typeof TileView>

export const TilesListRequest = z
  .object({
    datasetId: Id,
    /** A class name, or `unlabelled`. */
    label: z.string().max(64).optional(),
    split: z.enum(['train', 'valid', 'test', 'none']).optional(),
    imageId: Id.optional(),
    /** Only tiles whose annotators disagree. */
    disagree: z.boolean().optional(),
    /** Only tiles whose labels conflict (waiting for adjudication). */
    conflict: z.boolean().optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(50_000).default(50_000)
  })
  .strict()
export const TilesListResponse = z.object({ total: z.number().int(), tiles: z.array(TileView) })

export const TileIds = z.array(Id).min(1).max(50_000)
export const ThumbnailsRequest = z.object({ tileIds: z.array(Id).min(1).max(500) }).strict()
export const ThumbnailsResponse = z.array(z.object({ tileId: Id, dataUrl: z.string() }))

export const TileImageRequest = z.object({ tileId: Id, maxSide: z.number().int().min(16).max(4096).default(1024) }).strict()
export const TileImageResponse = z.object({ dataUrl: z.string(), width: z.number().int(), height: z.number().int(), outWidth: z.number().int(), outHeight: z.number().int() })

export const GridTileRequest = z
  .object({
    datasetId: Id,
    /** Default: every image of the dataset. */
    imageIds: z.array(Id).max(100_000).optional(),
    size: z.number().int().min(16).max(4096),
    stride: z.number().int().min(1).max(4096).optional(),
    edge: z.enum(['drop', 'pad']).default('drop'),
    /** Carry annotations of whole-image tiles into the new tiles (clipped). */
    carryAnnotations: z.boolean().default(true)
  })
  .strict()
export type GridTileRequest = z.infer<typeof GridTileRequest>

export const CutTileRequest = z.object({ imageId: Id, cx: z.number(), cy: z.number(), size: z.number().int().min(16).max(4096) }).strict()

export const LabelsSetRequest = z.object({ tileIds: TileIds, className: ClassName.nullable(), annotator: AnnotatorName.optional() }).strict()
/** An adjudicator's decision on conflicting tiles: it overrides every annotator's label. */
export const AdjudicateRequest = z.object({ tileIds: TileIds, className: ClassName, annotator: AnnotatorName.optional() }).strict()

export const AgreementReport = z.object({
  annotators: z.array(z.string()),
  multiLabelled: z.number().int(),
  agreed: z.number().int(),
  disagreed: z.number().int(),
  pairs: z.array(z.object({ a: z.string(), b: z.string(), shared: z.number().int(), percent: z.number(), kappa: z.number().nullable() }))
})

const Pt = z.tuple([z.number().finite(), z.number().finite()])
export const Geometry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('polygon'), points: z.array(Pt).min(3).max(10_000) }),
  z.object({ kind: z.literal('box'), x: z.number().finite(), y: z.number().finite(), w: z.number().positive(), h: z.number().positive() }),
  z.object({ kind: z.literal('ellipse'), cx: z.number().finite(), cy: z.number().finite(), rx: z.number().positive(), ry: z.number().positive() })
])

export const AnnotationView = z.object({ id: Id, tileId: Id, className: z.string(), annotator: z.string(), geometry: Geometry })
export type AnnotationView = z.infer<typeof AnnotationView>

export const AnnotationsSaveRequest = z
  .object({
    tileId: Id,
    annotator: AnnotatorName.optional(),
    /** Replaces this annotator's shapes on the tile. */
    shapes: z.array(z.object({ className: ClassName.default('crater'), geometry: Geometry })).max(5000)
  })
  .strict()

export const SplitRatios = z.object({ train: z.number().min(0).max(1), valid: z.number().min(0).max(1), test: z.number().min(0).max(1) })
export const Leak = z.object({ group: z.string(), splits: z.array(SplitName), tiles: z.number().int() })
export const SplitRequest = z
  .object({
    datasetId: Id,
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
    ratios: SplitRatios.default({ train: 0.8, valid: 0.2, test: 0 }),
    /** Leave out tiles the colour check flagged (greyscale-as-RGB, false colour), as the study did. */
    excludeFlaggedColour: z.boolean().default(false),
    /** Leave out unlabelled tiles (classification). */
    labelledOnly: z.boolean().default(false)
  })
  .strict()
export const SplitReport = z.object({
  counts: z.object({ train: z.number().int(), valid: z.number().int(), test: z.number().int(), none: z.number().int() }),
  byClass: z.record(z.string(), z.record(z.string(), z.number().int())),
  groups: z.number().int(),
  leaks: z.array(Leak),
  /** E.g. a minority class under 30 % of a split's labelled tiles (plain accuracy then misleads). */
  warnings: z.array(z.string()).default([])
})
export type SplitReport = z.infer<typeof SplitReport>

export const SetSplitRequest = z.object({ tileIds: TileIds, split: SplitName.nullable() }).strict()

export const VersionView = z.object({
  id: Id,
  datasetId: Id,
  version: z.number().int(),
  contentHash: z.string(),
  note: z.string(),
  frozenAt: z.string(),
  tiles: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  /** The imports' class mappings, as the dataset had them when frozen. */
  classMappings: z.array(AppliedClassMapping),
  labelPolicy: LabelPolicy
})
export type VersionView = z.infer<typeof VersionView>

export const FreezeRequest = z.object({ datasetId: Id, note: z.string().max(2000).default('') }).strict()

export const ExportFormat = z.enum(['imagefolder', 'mmseg', 'coco'])
export const MaskRule = z.object({ mode: z.enum(['filled', 'outline']), width: z.number().int().min(1).max(64) })
export const ExportRequest = z
  .object({
    versionId: Id,
    format: ExportFormat,
    outDir: AbsolutePath,
    mask: MaskRule.default({ mode: 'filled', width: 5 })
  })
  .strict()
export type ExportRequest = z.infer<typeof ExportRequest>

export const QualityRequest = z.object({ datasetId: Id, maxDistance: z.number().int().min(0).max(32).default(4) }).strict()
export const QualityReport = z.object({
  tiles: z.number().int(),
  duplicates: z.array(z.object({ a: Id, b: Id, distance: z.number().int(), crossSplit: z.boolean() })),
  colour: z.record(z.string(), z.number().int()),
  flagged: z.array(z.object({ tileId: Id, colour: ColourClass }))
})
export type QualityReport = z.infer<typeof QualityReport>

export const DatasetStats = z.object({
  classes: z.array(z.string()),
  /** split (or `none`) → label (or `unlabelled`) → tiles */
  bySplit: z.record(z.string(), z.record(z.string(), z.number().int())),
  colour: z.record(z.string(), z.number().int())
})

export const DatasetSettings = z.object({ annotator: AnnotatorName })

export const PickPathsRequest = z.object({ kind: z.enum(['files', 'folder']) }).strict()
export const PickPathsResponse = z.object({ supported: z.boolean(), paths: z.array(z.string()) })

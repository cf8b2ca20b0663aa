// The one IPC contract: every request/response channel and every event channel the renderer,
// the web bridge and the CLI share. Payloads are parsed with these schemas where they enter main.
import { z } from 'zod'
import { EngineSettings, EngineStatus, LogLine, SystemInfo, TfBackendChoice } from './schemas/system'
import { DemoJobRequest, JobId, JobStarted, JobView } from './schemas/jobs'
import * as D from './schemas/datasets'
import { ModelExportOnnxRequest, ModelImportRequest, ModelRecord } from './schemas/models'
import {
  BandRecipeSchema,
  GalleryTileImages,
  GalleryTileRequest,
  RecipeName,
  ReconstructionStartRequest,
  RecipeList,
  StudyDetail,
  StudyListItem,
  StudyStarted
} from './schemas/reconstruction'
import * as I from './schemas/inference'
import * as B from './schemas/backbones'
import { SweepCreated, SweepCreateRequest, SweepIdRequest, SweepRecord, SweepStatusEvent } from './schemas/sweeps'
import { MemoryCheck, RunAnnotateRequest, RunDetail, RunIdRequest, RunSeries, RunSeriesRequest, RunMetricsEvent, RunRecord, RunStarted, RunStartRequest, RunStatusEvent } from './schemas/runs'

const Empty = z.object({}).strict()
const Ok = z.object({ ok: z.literal(true) })

/** Request/response calls: `domain:verb`. */
export const channels = {
  'system:info': { request: Empty, response: SystemInfo },
  'engine:restart': { request: Empty, response: Ok },
  'engine:settings': { request: Empty, response: EngineSettings },
  'engine:set-backend': { request: z.object({ tfBackend: TfBackendChoice }).strict(), response: EngineSettings },
  'jobs:list': { request: Empty, response: z.array(JobView) },
  'jobs:cancel': { request: z.object({ jobId: JobId }).strict(), response: z.object({ cancelled: z.boolean() }) },
  'jobs:start-demo': { request: DemoJobRequest, response: JobStarted },
  'models:list': { request: Empty, response: z.array(ModelRecord) },
  'models:import': { request: ModelImportRequest, response: JobStarted },
  'models:remove': { request: z.object({ id: z.number().int().positive() }).strict(), response: Ok },
  'models:export-onnx': { request: ModelExportOnnxRequest, response: JobStarted },
  // Imputation reconstruction workbench (schemas/reconstruction.ts).
  'reconstruction:recipes': { request: Empty, response: RecipeList },
  'reconstruction:save-recipe': { request: z.object({ recipe: BandRecipeSchema }).strict(), response: RecipeList },
  'reconstruction:delete-recipe': { request: z.object({ name: RecipeName }).strict(), response: RecipeList },
  'reconstruction:start': { request: ReconstructionStartRequest, response: StudyStarted },
  'reconstruction:list': { request: Empty, response: z.array(StudyListItem) },
  'reconstruction:get': { request: z.object({ id: z.number().int().positive() }).strict(), response: StudyDetail },
  'reconstruction:gallery-tile': { request: GalleryTileRequest, response: GalleryTileImages },
  'reconstruction:remove': { request: z.object({ id: z.number().int().positive() }).strict(), response: Ok },
  // Dataset curation (schemas/datasets.ts).
  'datasets:list': { request: Empty, response: z.array(D.DatasetSummary) },
  'datasets:create': { request: D.DatasetCreate, response: D.DatasetSummary },
  'datasets:update': { request: D.DatasetUpdate, response: D.DatasetSummary },
  'datasets:delete': { request: D.ByDataset, response: Ok },
  'datasets:pick-paths': { request: D.PickPathsRequest, response: D.PickPathsResponse },
  'datasets:import': { request: D.ImportRequest, response: JobStarted },
  'datasets:import-format': { request: D.ImportFormatRequest, response: JobStarted },
  'datasets:import-classes': { request: D.ImportClassesRequest, response: D.ImportClassesResponse },
  'datasets:split': { request: D.SplitRequest, response: D.SplitReport },
  'datasets:leaks': { request: D.ByDataset, response: z.array(D.Leak) },
  'datasets:freeze': { request: D.FreezeRequest, response: D.VersionView },
  'datasets:versions': { request: D.ByDataset, response: z.array(D.VersionView) },
  'datasets:export': { request: D.ExportRequest, response: JobStarted },
  'datasets:quality': { request: D.QualityRequest, response: JobStarted },
  'datasets:stats': { request: D.ByDataset, response: D.DatasetStats },
  'datasets:settings-get': { request: Empty, response: D.DatasetSettings },
  'datasets:settings-set': { request: D.DatasetSettings.strict(), response: D.DatasetSettings },
  'images:list': { request: D.ImagesListRequest, response: D.ImagesListResponse },
  'images:region': { request: D.RegionRequest, response: D.RegionResponse },
  'tiles:list': { request: D.TilesListRequest, response: D.TilesListResponse },
  'tiles:thumbnails': { request: D.ThumbnailsRequest, response: D.ThumbnailsResponse },
  'tiles:image': { request: D.TileImageRequest, response: D.TileImageResponse },
  'tiles:grid': { request: D.GridTileRequest, response: JobStarted },
  'tiles:cut': { request: D.CutTileRequest, response: D.TileView },
  'tiles:delete': { request: z.object({ tileIds: D.TileIds }).strict(), response: z.object({ deleted: z.number().int() }) },
  'tiles:set-split': { request: D.SetSplitRequest, response: z.object({ updated: z.number().int(), leaks: z.array(D.Leak) }) },
  'labels:set': { request: D.LabelsSetRequest, response: z.object({ updated: z.number().int() }) },
  'labels:agreement': { request: D.ByDataset, response: D.AgreementReport },
  'labels:keep-agreed': { request: D.ByDataset, response: z.object({ removed: z.number().int() }) },
  'labels:adjudicate': { request: D.AdjudicateRequest, response: z.object({ updated: z.number().int() }) },
  'annotations:list': { request: z.object({ tileId: D.DatasetId }).strict(), response: z.array(D.AnnotationView) },
  'annotations:save': { request: D.AnnotationsSaveRequest, response: z.array(D.AnnotationView) },
  // Fine-tuning and pre-training runs (schemas/runs.ts).
  'runs:start': { request: RunStartRequest, response: RunStarted },
  'runs:estimate': { request: RunStartRequest, response: MemoryCheck.nullable() },
  'runs:list': { request: Empty, response: z.array(RunRecord) },
  'runs:get': { request: RunIdRequest, response: RunDetail },
  'runs:annotate': { request: RunAnnotateRequest, response: RunRecord },
  'runs:series': { request: RunSeriesRequest, response: z.array(RunSeries) },
  'runs:pause': { request: RunIdRequest, response: Ok },
  'runs:cancel': { request: RunIdRequest, response: Ok },
  'runs:resume': { request: RunIdRequest, response: RunStarted },
  // Deletes a run that is not running or queued: its ledger rows and its folder (checkpoints).
  'runs:delete': { request: RunIdRequest, response: Ok },
  // Sweeps: grid / random search over run configs, trials run one at a time (schemas/sweeps.ts).
  'sweeps:create': { request: SweepCreateRequest, response: SweepCreated },
  'sweeps:list': { request: Empty, response: z.array(SweepRecord) },
  'sweeps:get': { request: SweepIdRequest, response: SweepRecord },
  'sweeps:cancel': { request: SweepIdRequest, response: SweepRecord },
  // Classifier inference with fine-tuned runs (schemas/inference.ts).
  'inference:candidates': { request: Empty, response: z.array(I.InferenceCandidate) },
  'inference:start': { request: I.InferenceStartRequest, response: I.InferenceStarted },
  'inference:list': { request: Empty, response: z.array(I.InferenceListItem) },
  'inference:get': { request: I.InferenceIdRequest, response: I.InferenceDetail },
  'inference:image': { request: I.InferenceImageRequest, response: I.InferenceImage },
  'inference:remove': { request: I.InferenceIdRequest, response: Ok },
  /** A sliding-window heat map over one large image; the outcome is the job's result. */
  'inference:heatmap': { request: I.HeatmapRequest, response: I.HeatmapStarted },
  'backbones:start': { request: B.BackboneStudyRequest, response: B.BackboneStudyStarted },
  'backbones:list': { request: Empty, response: z.array(B.BackboneStudyListItem) },
  'backbones:get': { request: B.BackboneStudyIdRequest, response: B.BackboneStudyDetail },
  'backbones:neighbours': { request: B.NeighboursRequest, response: B.Neighbours },
  'backbones:tile-image': { request: B.BackboneTileImageRequest, response: B.BackboneTileImage },
  'backbones:remove': { request: B.BackboneStudyIdRequest, response: Ok }
} as const

/** One-way events from main to every renderer. */
export const events = {
  'jobs:progress': JobView,
  'engine:status': EngineStatus,
  'logs:line': LogLine,
  'runs:metrics': RunMetricsEvent,
  'runs:status': RunStatusEvent,
  'runs:deleted': z.object({ id: z.number().int() }),
  'sweeps:status': SweepStatusEvent
} as const

export type Channel = keyof typeof channels
export type EventName = keyof typeof events
export type RequestOf<C extends Channel> = z.input<(typeof channels)[C]['request']>
export type ParsedRequestOf<C extends Channel> = z.output<(typeof channels)[C]['request']>
export type ResponseOf<C extends Channel> = z.output<(typeof channels)[C]['response']>
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name)
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name)
}

/** What travels back for every call: a value or an error, never a thrown exception. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: import('./errors').WireError }

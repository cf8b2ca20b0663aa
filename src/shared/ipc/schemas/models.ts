// Schemas for imported foundation-model checkpoints (Prithvi-100M and fine-tuned descendants).
import { z } from 'zod'
import { MaeConfigSchema } from '../../models/mae'
import { PrithviConfigSchema } from '../../models/prithvi-mae'
import { displayName } from './text'

// The architecture's schema is the family spec's (src/shared/models/prithvi-mae.ts, mae.ts).
export { PrithviConfigSchema }

/** Any family's architecture: the MAE layout (tagged `family: 'mae'`) or Prithvi (untagged). */
export const ModelConfigSchema = z.union([MaeConfigSchema, PrithviConfigSchema])

export const BandStatsSchema = z.object({ bands: z.array(z.string()), mean: z.array(z.number()), std: z.array(z.number()) })

export const KeyReportSchema = z.object({
  loaded: z.array(z.string()),
  missing: z.array(z.string()),
  unexpected: z.array(z.string()),
  wrongShape: z.array(z.object({ name: z.string(), expected: z.array(z.number()), got: z.array(z.number()) })),
  ignored: z.array(z.string())
})

/**
 * A model's card: its family, the published model it is (download source; weights are never fetched
 * at run time), where its architecture and statistics came from, and what import read off the file
 * (`inferred`) or took from elsewhere (`assumed`: head counts from known sizes, stats from a preset).
 */
export const ModelCard = z.object({
  family: z.string(),
  published: z
    .object({ id: z.string(), title: z.string(), hfId: z.string(), file: z.string(), preTraining: z.string(), pretrainFrames: z.number().int() })
    .nullable(),
  config: z.enum(['file', 'inferred', 'given']),
  stats: z.enum(['file', 'preset', 'default']),
  inferred: z.array(z.string()),
  assumed: z.array(z.string())
})
export type ModelCard = z.infer<typeof ModelCard>

/** What inspecting a checkpoint tells (no weights). */
export const ModelSummary = z.object({
  path: z.string(),
  fileBytes: z.number(),
  format: z.string(),
  sha256: z.string(),
  config: ModelConfigSchema,
  configSource: z.enum(['yaml', 'json', 'inferred', 'given']),
  stats: BandStatsSchema.nullable(),
  dtype: z.string(),
  parameterCount: z.number().int(),
  hasDecoder: z.boolean(),
  stateDictPath: z.array(z.string()),
  report: KeyReportSchema,
  notes: z.array(z.string()),
  /** NaN / infinite weights and the like: shown at inspect and import (the model is refused at run time). */
  warnings: z.array(z.string()).default([]),
  card: ModelCard.optional()
})
export type ModelSummary = z.infer<typeof ModelSummary>

export const ModelRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  path: z.string(),
  sha256: z.string(),
  format: z.string(),
  config: ModelConfigSchema,
  stats: BandStatsSchema.nullable(),
  parameterCount: z.number().int(),
  dtype: z.string(),
  report: KeyReportSchema,
  source: z.string(),
  createdAt: z.string(),
  /** Recorded at import (null for models imported before cards existed). */
  card: ModelCard.nullable().optional()
})
export type ModelRecord = z.infer<typeof ModelRecord>

const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path')
  .refine((p) => !p.includes('\0'), 'must not contain NUL')

/** What a model is listed as (the CLI prints it in tables). */
export const ModelName = displayName(200)

export const ModelImportRequest = z.object({
  path: AbsolutePath,
  configPath: AbsolutePath.optional(),
  name: ModelName.optional()
})
export type ModelImportRequest = z.infer<typeof ModelImportRequest>

export const OnnxGraph = z.enum(['mae', 'encoder', 'classifier'])

export const ModelExportOnnxRequest = z.object({
  id: z.number().int().positive(),
  graph: OnnxGraph.default('mae'),
  outPath: AbsolutePath.refine((p) => p.endsWith('.onnx'), 'must end in .onnx'),
  maskRatio: z.number().min(0).max(0.99).default(0.5)
})
export type ModelExportOnnxRequest = z.infer<typeof ModelExportOnnxRequest>

export { AbsolutePath }

// The embedded demo models (src/shared/models/demo-models.ts): a small Prithvi-shaped MAE pre-trained
// on Mars tiles and a crater encoder of the same shape, shipped in resources/models/ so that
// reconstruction, fine-tuning and inference work on a fresh machine without the 450 MB Prithvi-100M
// download. Registered in the ledger at start-up (sources 'demo' and 'demo-crater').
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AppContext } from '../app/types'
import type { ModelRecord, ModelSummary } from '@shared/ipc/schemas/models'
import { BandStatsSchema, PrithviConfigSchema } from '@shared/ipc/schemas/models'
import { DEMO_MODELS, type DemoModelId } from '@shared/models/demo-models'
import { findModelBySha, retireOldDemoModels, upsertModel } from './repository'

export const DEMO_MODEL_FILE = DEMO_MODELS.mae.file
export const DEMO_MODEL_NAME = DEMO_MODELS.mae.name

/** resources/models next to the app (source tree, built bundle, or a packaged app). */
export function demoModelDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url))
  const resourcesPath = (process as unknown as { resourcesPath?: string }).resourcesPath
  const candidates = [
    process.env.MARSFM_DEMO_MODEL_DIR,
    join(here, '..', '..', 'resources', 'models'),
    join(here, '..', '..', '..', 'resources', 'models'),
    resourcesPath ? join(resourcesPath, 'models') : undefined,
    join(process.cwd(), 'resources', 'models')
  ]
  for (const c of candidates) if (c && existsSync(join(c, DEMO_MODEL_FILE))) return c
  return null
}

/** Parameter names and element counts from a safetensors header. */
function safetensorsKeys(bytes: Buffer): { names: string[]; values: number } {
  const len = Number(bytes.readBigUInt64LE(0))
  const header = JSON.parse(bytes.subarray(8, 8 + len).toString('utf8')) as Record<string, { shape?: number[] }>
  const names = Object.keys(header).filter((k) => k !== '__metadata__')
  const values = names.reduce((n, k) => n + (header[k]!.shape ?? []).reduce((a, b) => a * b, 1), 0)
  return { names, values }
}

/** Registers every shipped model (at start-up). */
export function ensureDemoModels(ctx: Pick<AppContext, 'ledger' | 'log'>): void {
  for (const id of Object.keys(DEMO_MODELS) as DemoModelId[]) ensureDemoModel(ctx, id)
}

/** Registers one shipped model (once per file content); returns it, or null when not shipped. */
export function ensureDemoModel(ctx: Pick<AppContext, 'ledger' | 'log'>, which: DemoModelId = 'mae'): ModelRecord | null {
  const demo = DEMO_MODELS[which]
  const dir = demoModelDir()
  const path = dir ? join(dir, demo.file) : null
  if (!path || !existsSync(path)) {
    ctx.log.write('warn', 'models', `the demo model resources/models/${demo.file} is missing`)
    return null
  }
  try {
    const bytes = readFileSync(path)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    retireOldDemoModels(ctx.ledger.db, demo.source, sha256)
    const known = findModelBySha(ctx.ledger.db, sha256)
    if (known && known.path === path) return known
    const meta = JSON.parse(readFileSync(path.replace(/\.safetensors$/, '.json'), 'utf8')) as { config: unknown; stats: unknown }
    const config = PrithviConfigSchema.parse(meta.config)
    const stats = BandStatsSchema.parse(meta.stats)
    const { names, values } = safetensorsKeys(bytes)
    const summary: ModelSummary = {
      path,
      fileBytes: statSync(path).size,
      format: 'safetensors',
      sha256,
      config,
      configSource: 'given',
      stats,
      dtype: 'float32',
      parameterCount: values,
      hasDecoder: names.some((n) => n.startsWith('decoder')),
      stateDictPath: [],
      report: { loaded: names, missing: [], unexpected: [], wrongShape: [], ignored: ['pos_embed', 'decoder_pos_embed'] },
      notes: [`${demo.name}: see resources/models/README.md for how it was made`],
      warnings: []
    }
    return upsertModel(ctx.ledger.db, summary, { name: demo.name, source: demo.source })
  } catch (err) {
    ctx.log.write('error', 'models', `could not register the demo model ${demo.file}: ${(err as Error).message}`)
    return null
  }
}

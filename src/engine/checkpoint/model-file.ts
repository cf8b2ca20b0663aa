// Reads the JSON the app writes beside a model it exported (`marsfm-model/1`, see
// @shared/models/model-file): the architecture, the family and the input statistics, so a model the
// app saved re-imports with the statistics it was trained with instead of a preset's. Files from
// before the family was recorded still read: the family then comes from the config's own tag.
import { existsSync, readFileSync } from 'node:fs'
import { BandStatsSchema } from '@shared/ipc/schemas/models'
import { MaeConfigSchema, MAE_FAMILY_ID, type MaeConfig } from '@shared/models/mae'
import { isUnitScaleStats, MODEL_FILE_FORMAT } from '@shared/models/model-file'
import { PrithviConfigSchema } from '@shared/models/prithvi-mae'
import { modelFamily } from '@shared/models/registry'
import type { BandStats, PrithviConfig } from '../model/config'
import { badConfig as bad, isRecord, jsonObjectMatches, parseJsonConfig } from './config-json'
import { maeStatsList, validateMaeConfig } from './mae-config'
import { validatePrithviConfig } from './validate-config'

export interface ModelFileConfig {
  config: PrithviConfig
  /** Prithvi families only: the band statistics (the MAE family's are in its config). */
  stats?: BandStats
  notes: string[]
}

/** Whether a config file's text is a model file's JSON written by the app (`"format": "marsfm-model/1"`). */
export function isModelFileText(text: string): boolean {
  return jsonObjectMatches(text, (doc) => doc.format === MODEL_FILE_FORMAT)
}

function issues(e: { issues: { path: PropertyKey[]; message: string }[] }, at: string): string {
  return e.issues.map((i) => `${[at, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ')
}

/** Parses a `marsfm-model/1` JSON. `source` names the file in errors. */
export function parseModelFile(text: string, source = 'model file'): ModelFileConfig {
  const doc = parseJsonConfig(text, source)
  if (!isRecord(doc) || doc.format !== MODEL_FILE_FORMAT) throw bad(source, `expected a JSON object with "format": "${MODEL_FILE_FORMAT}"`)
  if (!isRecord(doc.config)) throw bad(source, 'config (the architecture) is missing')
  // Old files have no family: the config's own tag says (the MAE layout carries family: 'mae').
  const familyId = doc.family ?? (doc.config.family === MAE_FAMILY_ID ? MAE_FAMILY_ID : 'prithvi-mae')
  if (typeof familyId !== 'string') throw bad(source, 'family must be a string')
  try {
    modelFamily(familyId)
  } catch (e) {
    throw bad(source, (e as Error).message)
  }
  const file = `${MODEL_FILE_FORMAT} file written by MarsFM`
  if (familyId === MAE_FAMILY_ID) {
    if (doc.config.family !== MAE_FAMILY_ID) throw bad(source, `family is "${MAE_FAMILY_ID}" but config.family is ${JSON.stringify(doc.config.family)}`)
    const parsed = MaeConfigSchema.safeParse(doc.config)
    if (!parsed.success) throw bad(source, issues(parsed.error, 'config'))
    let config: MaeConfig = parsed.data
    const notes: string[] = []
    if (isUnitScaleStats(doc.stats)) {
      const s = doc.stats as { mean?: unknown; std?: unknown }
      config = { ...config, mean: maeStatsList(s.mean, 'stats.mean', config.in_chans, source), std: maeStatsList(s.std, 'stats.std', config.in_chans, source) }
      notes.push(`mean/std ${config.mean.join('/')} / ${config.std.join('/')} (0-1 scale) from the ${file}`)
    } else notes.push(`mean/std ${config.mean.join('/')} / ${config.std.join('/')} (0-1 scale) from the config of the ${file} (an older file without family statistics)`)
    return { config: validateMaeConfig(config, source), notes }
  }
  if (doc.config.family !== undefined) throw bad(source, `family is "${familyId}" but config.family is ${JSON.stringify(doc.config.family)}`)
  const parsed = PrithviConfigSchema.safeParse(doc.config)
  if (!parsed.success) throw bad(source, issues(parsed.error, 'config'))
  const config = validatePrithviConfig(parsed.data, source)
  if (doc.stats === undefined) return { config, notes: [] }
  const stats = BandStatsSchema.safeParse(doc.stats)
  if (!stats.success) throw bad(source, `stats must be { bands, mean, std } for a Prithvi model (${issues(stats.error, 'stats')})`)
  for (const f of ['bands', 'mean', 'std'] as const) {
    if (stats.data[f].length !== config.in_chans) throw bad(source, `stats.${f} has ${stats.data[f].length} entries but config.in_chans is ${config.in_chans}`)
  }
  if (stats.data.std.some((s) => !(s > 0))) throw bad(source, 'stats.std must be positive')
  return { config, stats: stats.data, notes: [`band statistics from the ${file}`] }
}

/**
 * The `marsfm-model/1` JSON beside a `.safetensors` model (same name, `.json`), when there is one:
 * a model the app wrote re-imports with its own family and statistics without naming the file.
 */
export function modelFileSidecar(path: string): string | undefined {
  if (!/\.safetensors$/i.test(path)) return undefined
  const sidecar = path.replace(/\.safetensors$/i, '.json')
  if (!existsSync(sidecar)) return undefined
  try {
    return isModelFileText(readFileSync(sidecar, 'utf8')) ? sidecar : undefined
  } catch {
    return undefined // unreadable: import goes on as for any safetensors file
  }
}

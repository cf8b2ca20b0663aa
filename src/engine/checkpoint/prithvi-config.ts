// Reads a Prithvi config file into a PrithviConfig and the band statistics, naming the exact field
// when the file is malformed: Prithvi_100M_config.yaml (`model_args` + `train_params`) or
// Prithvi-EO-2.0's Hugging Face config.json (`pretrained_cfg`, see eo2-config.ts).

import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { PRITHVI_SIZE_FIELDS, type PrithviConfig } from '@shared/models/prithvi-mae'
import type { BandStats } from '../model/config'
import { badConfig as bad, isRecord } from './config-json'
import { validatePrithviConfig } from './validate-config'
import { parseEo2Config } from './eo2-config'

export { inferConfig, type InferredConfig } from './infer-config'
export { validatePrithviConfig } from './validate-config'

export interface PrithviConfigFile {
  config: PrithviConfig
  stats?: BandStats
  /** What the file told beyond the sizes (pre-training grid, TL, its architecture name), for the user. */
  notes?: string[]
}

// Some configs write sizes as [h, w]; only square images and patches are supported.
function positiveInt(v: unknown, field: string, source: string): number {
  if (Array.isArray(v) && v.length === 2 && v[0] === v[1]) v = v[0]
  if (!Number.isInteger(v) || (v as number) <= 0) throw bad(source, `model_args.${field} must be a positive integer, got ${JSON.stringify(v)}`)
  return v as number
}

function numberList(v: unknown, field: string, source: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(source, `train_params.${field} must be a list of numbers`)
  return v as number[]
}

function readStats(train: unknown, inChans: number, source: string): BandStats | undefined {
  if (train === undefined || train === null) return undefined
  if (!isRecord(train)) throw bad(source, 'train_params must be a mapping')
  if (train.data_mean === undefined && train.data_std === undefined && train.bands === undefined) return undefined
  for (const f of ['bands', 'data_mean', 'data_std']) if (train[f] === undefined) throw bad(source, `train_params.${f} is missing`)
  const mean = numberList(train.data_mean, 'data_mean', source)
  const std = numberList(train.data_std, 'data_std', source)
  if (!Array.isArray(train.bands) || !train.bands.every((b) => typeof b === 'string')) throw bad(source, 'train_params.bands must be a list of band names')
  const bands = train.bands as string[]
  for (const [f, list] of [['bands', bands], ['data_mean', mean], ['data_std', std]] as const) {
    if (list.length !== inChans) throw bad(source, `train_params.${f} has ${list.length} entries but model_args.in_chans is ${inChans}`)
  }
  if (std.some((s) => s <= 0)) throw bad(source, 'train_params.data_std must be positive')
  return { bands, mean, std }
}

/** Parses the text of a Prithvi config file. `source` names the file in errors. */
export function parsePrithviConfig(text: string, source = 'Prithvi config'): PrithviConfigFile {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (e) {
    throw bad(source, `not valid YAML (${(e as Error).message.split('\n')[0]})`)
  }
  if (!isRecord(doc)) throw bad(source, 'expected a mapping with model_args (Prithvi-100M yaml) or pretrained_cfg (Prithvi-EO-2.0 config.json)')
  if (doc.pretrained_cfg !== undefined) return parseEo2Config(doc, source)
  const args = doc.model_args
  if (!isRecord(args)) throw bad(source, 'model_args is missing (a Prithvi-100M yaml has model_args, a Prithvi-EO-2.0 config.json has pretrained_cfg)')
  const ints = {} as Record<(typeof PRITHVI_SIZE_FIELDS)[number], number>
  for (const f of PRITHVI_SIZE_FIELDS) {
    if (args[f] === undefined || args[f] === null) throw bad(source, `model_args.${f} is missing`)
    ints[f] = positiveInt(args[f], f, source)
  }
  // Absent from the official file: the Prithvi MAE uses the timm defaults.
  const mlpRatio = args.mlp_ratio ?? 4
  if (typeof mlpRatio !== 'number') throw bad(source, 'model_args.mlp_ratio must be a number')
  const normPix = args.norm_pix_loss ?? false
  if (typeof normPix !== 'boolean') throw bad(source, 'model_args.norm_pix_loss must be true or false')
  const config = validatePrithviConfig({ ...ints, mlp_ratio: mlpRatio, norm_pix_loss: normPix }, source)
  const stats = readStats(doc.train_params, config.in_chans, source)
  return stats ? { config, stats } : { config }
}

export async function readPrithviConfig(path: string): Promise<PrithviConfigFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw bad(path, `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
  }
  return parsePrithviConfig(text, path)
}

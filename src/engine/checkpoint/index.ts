// Public API of the checkpoint readers: load a Prithvi checkpoint (torch zip or safetensors)
// into float32 weights under the official MAE names, with its config and a key report.

import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { isMaeConfig, maeGeneration } from '@shared/models/mae'
import type { BandStats, PrithviConfig } from '../model/config'
import type { WeightMap, WeightTensor } from '../model/weights'
import { isFloatDType, type DType } from './dtype'
import { CheckpointError, withFileName } from './errors'
import { inferConfig } from './infer-config'
import { inferMaeConfig, isMaeConfigText, parseMaeConfig, validateMaeConfig } from './mae-config'
import { isModelFileText, modelFileSidecar, parseModelFile } from './model-file'
import { isPrithviDecoderName } from '@shared/models/prithvi-mae'
import { matchPublished, prithviGeneration } from '@shared/models/prithvi-catalogue'
import type { ModelCard } from '@shared/ipc/schemas/models'
import { assertLoadable, buildKeyReport, expectedShapes, FIXED_BUFFERS, type KeyReport } from './key-report'
import { readPrithviConfig } from './prithvi-config'
import { sha256File } from './sha256'
import type { CheckpointFormat } from './sniff'
import { openTensorSource, type TensorSource } from './source'
import { mapStateDictNames } from './state-dict'
import { numelOf } from './strided'
import { validatePrithviConfig } from './validate-config'

export { CheckpointError, isCheckpointError, withFileName, type CheckpointErrorCode } from './errors'
export { type DType, toFloat32 } from './dtype'
export { assertLoadable, buildKeyReport, expectedShapes, FIXED_BUFFERS, type KeyReport, type WrongShape } from './key-report'
export { inferMaeConfig, isMaeConfigText, parseMaeConfig, readMaeConfig, validateMaeConfig } from './mae-config'
export { isModelFileText, modelFileSidecar, parseModelFile } from './model-file'
export { inferConfig, parsePrithviConfig, readPrithviConfig, validatePrithviConfig, type InferredConfig, type PrithviConfigFile } from './prithvi-config'
export { isPrithviName } from '@shared/models/prithvi-mae'
export { openSafetensors, writeSafetensors, type SafetensorsFile } from './safetensors'
export { sha256File } from './sha256'
export { sniffFormat, type CheckpointFormat } from './sniff'
export { openTensorSource, type TensorSource } from './source'
export { findStateDict, mapStateDictNames, PREFIX_RENAMES, toFamilyName, toPrithviName } from './state-dict'
export { openTorchCheckpoint, readCheckpointStorages, type TorchZipCheckpoint } from './torch-pt'

export interface LoadOptions {
  /** Use this architecture instead of a yaml or inference (a MaeConfig for the MAE layout). */
  config?: PrithviConfig
  /**
   * Prithvi_100M_config.yaml (model_args + train_params), an MAE-family JSON config, or the
   * `marsfm-model/1` JSON the app writes beside a model it exports (found on its own when it sits
   * beside a `.safetensors` and neither `config` nor `configPath` is given).
   */
  configPath?: string
  /** Frames the model will run with; defaults to 1 (the study) unless a config is given. */
  numFrames?: number
  /** Expect decoder weights; by default: whenever the checkpoint has any. */
  decoder?: boolean
  /**
   * Also read the tensors that are not model weights (heads, necks, counters) into `extra`.
   * Off by default: what the model does not use is never materialised.
   */
  extra?: boolean
}

/** A tensor holding NaN or infinite values. */
export interface NonFiniteTensor {
  name: string
  nan: number
  inf: number
}

export interface LoadedCheckpoint {
  format: CheckpointFormat
  sha256: string
  /** Model weights under the official Prithvi names, in model order; wrong-shape ones are left out. */
  weights: WeightMap
  /** Every other tensor (heads, necks, wrong-shape weights) keyed as in the file. */
  extra: WeightMap
  config: PrithviConfig
  configSource: 'yaml' | 'json' | 'inferred' | 'given'
  stats?: BandStats
  /** The element type most of the model's weights are stored in. */
  dtype: DType
  /** Number of values in `weights` (the fixed position tables excluded). */
  parameterCount: number
  report: KeyReport
  hasDecoder: boolean
  /** Where the state dict sat in the checkpoint, e.g. ['state_dict']. */
  stateDictPath: string[]
  /** Assumptions and skipped tensors, for the UI to show. */
  notes: string[]
  /** Problems the user must hear about (NaN / infinite weights), one line each. */
  warnings: string[]
  /** Model weights holding NaN or infinite values (a model with any cannot run: assertUsable). */
  nonFinite: NonFiniteTensor[]
  /** Family, published source, and what was inferred or assumed (the Models view's card). */
  card: ModelCard
}

interface ResolvedConfig {
  config: PrithviConfig
  configSource: LoadedCheckpoint['configSource']
  stats?: BandStats
  notes: string[]
  inferred: string[]
  assumed: string[]
  /** The stats came from the published model's card, not the file. */
  presetStats?: true
}

// TerraTorch's PrithviMAE keeps the encoder under `encoder.` (its checkpoints: Prithvi-EO-2.0).
const isTerraTorchLayout = (byOurName: Map<string, string>): boolean => /(^|\.)encoder\.pos_embed$/.test(byOurName.get('pos_embed') ?? '')

async function resolveConfig(source: TensorSource, byOurName: Map<string, string>, opts: LoadOptions): Promise<ResolvedConfig> {
  let resolved: ResolvedConfig
  if (opts.config) resolved = { config: { ...opts.config }, configSource: 'given', notes: [], inferred: [], assumed: [] }
  else if (opts.configPath) {
    const file = await readModelConfig(opts.configPath)
    // What a model file written by the app told is on the card: not inferred, not a preset.
    const told = file.modelFile ? [`family, architecture and statistics from ${basename(opts.configPath)} (written by MarsFM with the model)`] : []
    resolved = { config: file.config, configSource: file.source, ...(file.stats ? { stats: file.stats } : {}), notes: [...told, ...(file.notes ?? [])], inferred: told, assumed: [] }
  } else {
    const shapes = new Map([...byOurName].map(([ours, key]) => [ours, { shape: source.shapeOf(key) }]))
    // A Conv2d patch embedding (4-D kernel) is the facebookresearch MAE layout; Conv3d is Prithvi.
    if (shapes.get('patch_embed.proj.weight')?.shape.length === 4) {
      const { config, notes } = inferMaeConfig(shapes, source.trainingArgs)
      resolved = { config, configSource: 'inferred', notes, inferred: notes.filter((n) => !/assum/.test(n)), assumed: notes.filter((n) => /assum/.test(n)) }
    } else {
      const { config, notes, inferred, assumed } = inferConfig(shapes, { terratorch: isTerraTorchLayout(byOurName) })
      resolved = { config, configSource: 'inferred', notes, inferred, assumed }
    }
  }
  const configName = resolved.configSource === 'yaml' || resolved.configSource === 'json' ? opts.configPath : `${resolved.configSource} config`
  if (isMaeConfig(resolved.config)) {
    if ((opts.numFrames ?? 1) !== 1) throw new CheckpointError('bad-config', `the MAE layout takes single images; ${opts.numFrames} frames were asked for`)
    validateMaeConfig(resolved.config, configName)
    return resolved
  }
  // A file without statistics: those of the published model with this architecture, said so.
  const published = matchPublished(resolved.config)
  if (!resolved.stats && published && resolved.configSource !== 'given') {
    resolved.stats = published.stats
    resolved.presetStats = true
    const line = `band statistics taken from ${published.title} (the file has none)`
    resolved.assumed.push(line)
    resolved.notes.push(line)
  }
  // The study ran Prithvi on single frames; pos_embed is rebuilt for whatever is chosen here.
  const frames = opts.numFrames ?? (resolved.configSource === 'given' ? resolved.config.num_frames : 1)
  resolved.config.num_frames = frames
  validatePrithviConfig(resolved.config, configName)
  return resolved
}

/**
 * A config file of any family: the `marsfm-model/1` JSON the app writes beside a model, an
 * MAE-family JSON (`"family": "mae"`) or a Prithvi yaml (with its band statistics). Errors name
 * the file and the field.
 */
export async function readModelConfig(path: string): Promise<{ config: PrithviConfig; stats?: BandStats; notes?: string[]; source: 'yaml' | 'json'; modelFile?: true }> {
  const text = await readConfigText(path)
  if (text !== undefined && isModelFileText(text)) {
    const file = parseModelFile(text, path)
    return { config: file.config, ...(file.stats ? { stats: file.stats } : {}), notes: file.notes, source: 'json', modelFile: true }
  }
  if (text !== undefined && isMaeConfigText(text)) return { config: parseMaeConfig(text, path), source: 'json' }
  return { ...(await readPrithviConfig(path)), source: 'yaml' }
}

async function readConfigText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined // unreadable: the yaml reader names the reason
  }
}

function dominantDType(source: TensorSource, keys: Iterable<string>): DType {
  const count = new Map<DType, number>()
  for (const key of keys) {
    const { dtype } = source.dtypeOf(key)
    if (dtype) count.set(dtype, (count.get(dtype) ?? 0) + numelOf(source.shapeOf(key)))
  }
  let best: DType = 'float32'
  for (const [d, n] of count) if (n > (count.get(best) ?? -1)) best = d
  return best
}

function listed(items: string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

// Integer or boolean storage where the model computes in float is a broken export, not a weight.
function assertFloatWeights(source: TensorSource, keys: Iterable<string>): void {
  const bad = [...keys].filter((k) => !isFloatDType(source.dtypeOf(k).dtype ?? 'uint8')).map((k) => `${k} (${source.dtypeOf(k).name})`)
  if (bad.length) {
    throw new CheckpointError('unsupported-dtype', `${bad.length} model weight(s) are stored as integers or booleans where float weights are expected: ${listed(bad)}`)
  }
}

function countNonFinite(name: string, data: Float32Array): NonFiniteTensor | null {
  let nan = 0
  let inf = 0
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!
    // v - v is 0 for every finite value and NaN for NaN and ±Infinity: one cheap test per value.
    if (v - v !== 0) {
      if (v !== v) nan++
      else inf++
    }
  }
  return nan || inf ? { name, nan, inf } : null
}

function describeNonFinite(bad: NonFiniteTensor[]): string {
  const each = bad.map((t) => `${t.name} (${[t.nan ? `${t.nan} NaN` : '', t.inf ? `${t.inf} infinite` : ''].filter(Boolean).join(', ')})`)
  return `${bad.length} weight tensor(s) hold NaN or infinite values: ${listed(each)}`
}

/** Throws unless the checkpoint can build a model: every weight present, right-shaped and finite. */
export function assertUsable(loaded: Pick<LoadedCheckpoint, 'report' | 'nonFinite'>, file?: string): void {
  try {
    assertLoadable(loaded.report)
  } catch (e) {
    throw file ? withFileName(e, file) : e
  }
  if (loaded.nonFinite.length) {
    throw new CheckpointError('non-finite', `${file ? `${file}: ` : ''}refusing to run this model: ${describeNonFinite(loaded.nonFinite)}`)
  }
}

// The MAE family's mean / std live in its config: a file's, or MOMO's merged ones assumed by inference.
function maeStatsSource(source: ResolvedConfig['configSource']): ModelCard['stats'] {
  return source === 'yaml' || source === 'json' ? 'file' : source === 'inferred' ? 'preset' : 'default'
}

function cardOf(r: ResolvedConfig): ModelCard {
  const published = isMaeConfig(r.config) ? undefined : matchPublished(r.config)
  return {
    family: isMaeConfig(r.config) ? maeGeneration(r.config) : prithviGeneration(r.config),
    published: published
      ? { id: published.id, title: published.title, hfId: published.hfId, file: published.file, preTraining: published.preTraining, pretrainFrames: published.pretrainFrames }
      : null,
    config: r.configSource === 'yaml' || r.configSource === 'json' ? 'file' : r.configSource,
    stats: isMaeConfig(r.config) ? maeStatsSource(r.configSource) : r.stats ? (r.presetStats ? 'preset' : 'file') : 'default',
    inferred: r.inferred,
    assumed: r.assumed
  }
}

async function loadFrom(source: TensorSource, opts: LoadOptions): Promise<Omit<LoadedCheckpoint, 'sha256'>> {
  const mapping = mapStateDictNames(source.keys)
  const resolved = await resolveConfig(source, mapping.byOurName, opts)
  const { config, configSource, stats, notes } = resolved
  const hasDecoder = opts.decoder ?? [...mapping.byOurName.keys()].some((n) => isPrithviDecoderName(n) && !FIXED_BUFFERS.has(n))
  const report = buildKeyReport(source.keys, mapping, (k) => source.shapeOf(k), expectedShapes(config, { decoder: hasDecoder }))

  const loadedKeys = new Map(report.loaded.map((ours) => [mapping.byOurName.get(ours)!, ours]))
  assertFloatWeights(source, loadedKeys.keys())
  const extraKeys = (opts.extra ? [...report.unexpected, ...report.wrongShape.map((w) => mapping.byOurName.get(w.name)!)] : []).filter((key) => {
    // A head in a format we cannot convert must not stop the backbone from loading.
    const { dtype, name } = source.dtypeOf(key)
    if (!dtype) notes.push(`skipped extra tensor ${key}: element type ${name} is not supported`)
    return dtype !== null
  })
  // The MAE layout's stored position tables are used when they fit the grid (see positionTable).
  const expected = expectedShapes(config, { decoder: hasDecoder })
  const posKeys = new Map(
    (isMaeConfig(config) ? report.ignored : [])
      .filter((n) => {
        const got = source.shapeOf(mapping.byOurName.get(n)!)
        const want = expected.get(n)
        return want !== undefined && isFloatDType(source.dtypeOf(mapping.byOurName.get(n)!).dtype ?? 'uint8') && got.length === want.length && got.every((d, i) => d === want[i])
      })
      .map((n) => [mapping.byOurName.get(n)!, n])
  )
  const byOurs = new Map<string, WeightTensor>()
  const posTables = new Map<string, WeightTensor>()
  const extra: WeightMap = new Map()
  const nonFinite: NonFiniteTensor[] = []
  for await (const [key, tensor] of source.read([...loadedKeys.keys(), ...posKeys.keys(), ...extraKeys])) {
    const ours = loadedKeys.get(key)
    const pos = posKeys.get(key)
    if (pos) {
      if (!countNonFinite(key, tensor.data)) posTables.set(pos, tensor) // a broken table is recomputed instead
      continue
    }
    if (ours) byOurs.set(ours, tensor)
    else extra.set(key, tensor)
    const bad = countNonFinite(key, tensor.data)
    if (bad) nonFinite.push(bad)
  }
  const warnings = nonFinite.length ? [`${describeNonFinite(nonFinite)}; the model cannot run until they are fixed`] : []
  const weights: WeightMap = new Map(report.loaded.map((ours) => [ours, byOurs.get(ours)!]))
  for (const [ours, t] of posTables) weights.set(ours, t)
  if (posTables.size) notes.push(`using the checkpoint's own ${[...posTables.keys()].join(' and ')} (they fit the ${config.img_size / config.patch_size}² grid)`)
  const floatKeys = [...loadedKeys.keys()].filter((k) => isFloatDType(source.dtypeOf(k).dtype ?? 'uint8'))
  let parameterCount = 0
  for (const [name, w] of weights) if (!FIXED_BUFFERS.has(name)) parameterCount += w.data.length
  return {
    format: source.format,
    weights,
    extra,
    config,
    configSource,
    ...(stats ? { stats } : {}),
    dtype: dominantDType(source, floatKeys.length ? floatKeys : source.keys),
    parameterCount,
    report,
    hasDecoder,
    stateDictPath: [...source.stateDictPath],
    notes,
    warnings,
    nonFinite,
    card: cardOf(resolved)
  }
}

/**
 * Loads a Prithvi checkpoint. Reads the pickle / header first, maps and checks the keys, then
 * streams each storage once; the file's SHA-256 is computed alongside. Wrong-shape and missing
 * weights are reported, not thrown: call assertLoadable(result.report) before building a model.
 */
export async function loadCheckpoint(path: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  if (!opts.config && !opts.configPath) {
    const sidecar = modelFileSidecar(path)
    if (sidecar) opts = { ...opts, configPath: sidecar }
  }
  const abort = new AbortController()
  const hashing = sha256File(path, abort.signal)
  hashing.catch(() => {}) // awaited below; this only keeps an early failure from going unhandled
  try {
    return await loadAndHash(path, opts, hashing)
  } catch (e) {
    abort.abort()
    throw withFileName(e, basename(path))
  }
}

async function loadAndHash(path: string, opts: LoadOptions, hashing: Promise<string>): Promise<LoadedCheckpoint> {
  const source = await openTensorSource(path)
  let loaded: Omit<LoadedCheckpoint, 'sha256'>
  try {
    loaded = await loadFrom(source, opts)
  } finally {
    await source.close()
  }
  return { ...loaded, sha256: await hashing }
}

/** Every tensor of a checkpoint's state dict as float32, under the file's own names (no mapping). */
export async function readRawStateDict(path: string): Promise<WeightMap> {
  try {
    const source = await openTensorSource(path)
    try {
      const out: WeightMap = new Map()
      for await (const [key, tensor] of source.read(source.keys)) out.set(key, tensor)
      return new Map(source.keys.map((k) => [k, out.get(k)!]))
    } finally {
      await source.close()
    }
  } catch (e) {
    throw withFileName(e, basename(path))
  }
}

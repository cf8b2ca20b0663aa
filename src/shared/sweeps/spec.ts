// A sweep: grid or random search over run-config keys on top of one base run (a preset, its data
// and model, and any overrides). Pure: the spec's schema, the trial expansion and the check of
// every trial's config, shared by the CLI (`marsfm sweep`), the `sweeps:*` channels and the UI.
import { z } from 'zod'
import { displayName } from '../ipc/schemas/text'
import { RunConfig, RunModel, bestMetricOf, type RunConfigInput } from '../ipc/schemas/runs'
import { RUN_PRESETS } from '../training/presets'
import { seededRandom } from '../random'

/** More trials than this is a mistake (a grid one key too wide), not a study: split it. */
export const MAX_TRIALS = 256

/** Keys a sweep never varies: the trial's name is the sweep's, and the task and data are the base's. */
const FIXED_KEYS = new Set(['name', 'task', 'data'])

const Values = z.object({ values: z.array(z.unknown()).min(1, 'empty grid: give at least one value').max(MAX_TRIALS) }).strict()
const Range = z
  .object({
    min: z.number(),
    max: z.number(),
    /** Draw log-uniformly (learning rates, weight decay). */
    log: z.boolean().default(false),
    /** Round each draw to a whole number (batch size, warm-up steps). */
    integer: z.boolean().default(false)
  })
  .strict()
  .refine((r) => r.max >= r.min, { message: 'max must be ≥ min' })
  .refine((r) => !r.log || r.min > 0, { message: 'a log range needs min > 0' })
export const SweepParameter = z.union([Values, Range])
export type SweepParameter = z.infer<typeof SweepParameter>

/** Model shorthand: "demo" (the MAE), "demo-crater" (the crater encoder), an imported model's id, or any run-config model. */
const BaseModel = z.union([z.literal('demo'), z.literal('demo-crater'), z.number().int().positive(), RunModel])

export const SweepBase = z
  .object({
    /** A run preset's id (`marsfm train --preset`); its hyper-parameters are the starting point. */
    preset: z.string().min(1).max(100).optional(),
    /** An absolute folder or `version:N` (a frozen dataset version). */
    data: z.string().min(1).max(4096),
    /** Default: the preset's model, else the demo MAE. */
    model: BaseModel.optional(),
    /** Overrides merged onto the preset (objects key by key), e.g. `{"steps": 50, "eval": {"everySteps": 25}}`. */
    config: z.record(z.string(), z.unknown()).default({})
  })
  .strict()
export type SweepBase = z.infer<typeof SweepBase>

export const SweepSpec = z
  .object({
    name: displayName(200),
    method: z.enum(['grid', 'random']).default('grid'),
    base: SweepBase,
    /** Dotted run-config keys (`optimizer.lr`, `dropout`, `seed`, `model`, …) to values or ranges. */
    parameters: z.record(z.string().min(1).max(100), SweepParameter),
    /** Random search: how many trials to draw (required). Grid: the product of the value lists. */
    trials: z.number().int().min(1).max(MAX_TRIALS).optional(),
    /** Random search's generator seed: the same spec draws the same trials. */
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
    /** What ranks trials: default the base run's best-checkpoint metric (balanced accuracy for classification). */
    metric: z.string().min(1).max(100).optional(),
    goal: z.enum(['max', 'min']).optional()
  })
  .strict()
export type SweepSpec = z.infer<typeof SweepSpec>
export type SweepSpecInput = z.input<typeof SweepSpec>

/** One trial: its parameter values (by key) and the complete run config it runs. */
export interface SweepTrial {
  index: number
  params: Record<string, unknown>
  config: RunConfigInput
}

export interface ExpandedSweep {
  spec: SweepSpec
  trials: SweepTrial[]
  metric: string
  goal: 'max' | 'min'
}

/** A spec that cannot run: one line per problem, each naming the key or the trial. */
export class SweepSpecError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid sweep spec: ${problems.join('; ')}`)
    this.name = 'SweepSpecError'
  }
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `over` laid onto `target`: objects key by key, anything else replaced. */
export function mergeInto(target: Json, over: Json): Json {
  const out: Json = { ...target }
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? mergeInto(out[k] as Json, v) : v
  return out
}

/** The zod schema under `key` in the run config, or null when there is no such key. */
function schemaAt(key: string): z.ZodType | null {
  let schema: z.ZodType = RunConfig
  for (const part of key.split('.')) {
    // Look through optional / default / nullable wrappers to the object underneath.
    for (let i = 0; i < 4; i++) {
      const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType } }).def
      if (def.innerType && ['optional', 'default', 'nullable', 'prefault'].includes(def.type)) schema = def.innerType
      else break
    }
    if (!(schema instanceof z.ZodObject)) return null
    const next = (schema.shape as Record<string, z.ZodType>)[part]
    if (!next) return null
    schema = next
  }
  return schema
}

function setKey(config: Json, key: string, value: unknown): Json {
  const [head, ...rest] = key.split('.')
  if (!rest.length) return { ...config, [head!]: value }
  const inner = isObject(config[head!]) ? (config[head!] as Json) : {}
  return { ...config, [head!]: setKey(inner, rest.join('.'), value) }
}

/** The model shorthand as a run config's `model`. */
function modelOf(m: unknown): unknown {
  if (m === 'demo') return { demo: true }
  if (m === 'demo-crater') return { demo: 'crater' }
  if (typeof m === 'number') return { id: m }
  return m
}

/** The base run config: the preset's hyper-parameters, the data and model, then the overrides. */
export function baseConfigOf(base: SweepBase, name: string): Json {
  const preset = base.preset ? RUN_PRESETS.find((p) => p.id === base.preset) : undefined
  if (base.preset && !preset) throw new SweepSpecError([`base.preset: unknown preset "${base.preset}" (presets: ${RUN_PRESETS.map((p) => p.id).join(', ')})`])
  const fromPreset: Json = preset ? (structuredClone(preset.config) as Json) : {}
  const task = (base.config.task ?? fromPreset.task ?? 'classification') as string
  const version = /^version:(\d+)$/.exec(base.data)
  const data = version
    ? { kind: 'dataset-version', id: Number(version[1]) }
    : { kind: 'folder', path: base.data, layout: task === 'segmentation' ? 'mmseg' : task === 'pretrain' ? 'images' : 'imagefolder' }
  const model = base.model !== undefined ? modelOf(base.model) : (preset?.model ?? { demo: true })
  return mergeInto({ ...fromPreset, name, model, data }, base.config)
}

function describeValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s.length > 40 ? `${s.slice(0, 37)}…` : s
}

/** A short label of a trial's parameters: `optimizer.lr=0.001 dropout=0.2`. */
export function trialLabel(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${describeValue(v)}`)
    .join(' ')
}

function drawRange(r: z.infer<typeof Range>, rnd: () => number): number {
  const u = rnd()
  let v = r.log ? Math.exp(Math.log(r.min) + u * (Math.log(r.max) - Math.log(r.min))) : r.min + u * (r.max - r.min)
  if (r.integer) v = Math.min(Math.floor(r.max), Math.max(Math.ceil(r.min), Math.round(v)))
  // Six significant digits: readable in tables and in the run's config.
  return Number(v.toPrecision(6))
}

/** The grid's parameter sets, the first key varying slowest (the order of the spec). */
function gridOf(parameters: [string, unknown[]][]): Record<string, unknown>[] {
  let sets: Record<string, unknown>[] = [{}]
  for (const [key, values] of parameters) sets = sets.flatMap((s) => values.map((v) => ({ ...s, [key]: v })))
  return sets
}

/**
 * Checks a sweep spec and expands it into its trials, each with a complete run config checked by
 * the run-config schema. Throws SweepSpecError naming every problem: an unknown or fixed key, an
 * empty grid, a range in a grid, too many trials, a trial whose config the runs service would refuse.
 */
export function expandSweep(raw: unknown): ExpandedSweep {
  const parsed = SweepSpec.safeParse(raw)
  if (!parsed.success) {
    throw new SweepSpecError(parsed.error.issues.slice(0, 8).map((i) => `${i.path.map(String).join('.') || '(spec)'}: ${i.message}`))
  }
  const spec = parsed.data
  const problems: string[] = []
  const keys = Object.keys(spec.parameters)
  if (!keys.length) problems.push('parameters: give at least one key to vary (e.g. "optimizer.lr": {"values": [1e-4, 3e-4]})')
  for (const key of keys) {
    if (FIXED_KEYS.has(key.split('.')[0]!)) problems.push(`parameters.${key}: "${key}" is fixed by the base run and cannot be swept`)
    else if (!schemaAt(key)) problems.push(`parameters.${key}: unknown run-config key "${key}"`)
    const p = spec.parameters[key]!
    if (spec.method === 'grid' && !('values' in p)) problems.push(`parameters.${key}: a grid needs a list of values ({"values": […]}); ranges are for random search`)
  }
  if (spec.method === 'random' && spec.trials === undefined) problems.push('trials: random search needs the number of trials to draw')
  if (problems.length) throw new SweepSpecError(problems)

  let sets: Record<string, unknown>[]
  if (spec.method === 'grid') {
    const lists = keys.map((k) => [k, (spec.parameters[k] as z.infer<typeof Values>).values] as [string, unknown[]])
    const count = lists.reduce((n, [, v]) => n * v.length, 1)
    if (count > MAX_TRIALS) throw new SweepSpecError([`the grid makes ${count} trials (${lists.map(([k, v]) => `${v.length} ${k}`).join(' × ')}); at most ${MAX_TRIALS}: fewer values, or random search`])
    if (spec.trials !== undefined && spec.trials !== count) throw new SweepSpecError([`trials: the grid makes ${count} trials, not ${spec.trials} (leave "trials" out for a grid)`])
    sets = gridOf(lists)
  } else {
    const rnd = seededRandom(spec.seed)
    sets = Array.from({ length: spec.trials! }, () => {
      const set: Record<string, unknown> = {}
      for (const key of keys) {
        const p = spec.parameters[key]!
        set[key] = 'values' in p ? p.values[Math.floor(rnd() * p.values.length)] : drawRange(p, rnd)
      }
      return set
    })
  }

  const base = baseConfigOf(spec.base, spec.name)
  const trials: SweepTrial[] = []
  sets.forEach((params, index) => {
    let config: Json = { ...base, name: `${spec.name} #${index + 1}` }
    for (const [key, value] of Object.entries(params)) config = setKey(config, key, key === 'model' ? modelOf(value) : value)
    const checked = RunConfig.strict().safeParse(config)
    if (!checked.success) {
      const detail = checked.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(config)'}: ${i.message}`)
      problems.push(`trial ${index + 1} (${trialLabel(params) || 'base'}): ${detail.join(', ')}`)
      return
    }
    trials.push({ index, params, config: config as RunConfigInput })
  })
  if (problems.length) throw new SweepSpecError(problems.slice(0, 8))
  const first = RunConfig.parse(trials[0]!.config)
  const best = bestMetricOf(first)
  const metric = spec.metric ?? best.bestMetric
  const goal = spec.goal ?? (spec.metric ? (/loss/.test(metric) ? 'min' : 'max') : best.mode)
  return { spec, trials, metric, goal }
}

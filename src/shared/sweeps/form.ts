// The Sweeps view's small form as a sweep spec: one line per swept key,
//   optimizer.lr = 1e-4, 3e-4, 1e-3     (values: a grid, or picked from at random)
//   dropout = 0 .. 0.5                  (a range: random search)
//   optimizer.lr = 1e-5 .. 1e-2 log     (log-uniform)     batchSize = 2 .. 16 int   (whole numbers)
// Values are read as JSON where they parse (numbers, true, {"id": 3}), else as text ("demo").
import type { SweepParameter, SweepSpecInput } from './spec'

export interface SweepFormFields {
  name: string
  preset: string
  /** A frozen dataset version's id, or null with `folder` set. */
  versionId: number | null
  folder: string
  steps: number
  method: 'grid' | 'random'
  trials: number
  seed: number
  parameters: string
}

/** A line that cannot be read: its number and what is wrong. */
export class SweepFormError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SweepFormError'
  }
}

function valueOf(text: string): unknown {
  const t = text.trim()
  try {
    return JSON.parse(t)
  } catch {
    return t
  }
}

/** Splits on commas outside brackets and quotes, so `{"id": 3}, "demo"` is two values. */
function splitValues(text: string): string[] {
  const out: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted
    else if (!quoted && (c === '{' || c === '[')) depth++
    else if (!quoted && (c === '}' || c === ']')) depth--
    else if (!quoted && depth === 0 && c === ',') {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  out.push(text.slice(start))
  return out.map((s) => s.trim()).filter((s) => s.length)
}

const RANGE = /^(-?[\d.eE+-]+)\s*\.\.\s*(-?[\d.eE+-]+)((?:\s+(?:log|int))*)$/

export function parseParameterLines(text: string): Record<string, SweepParameter> {
  const out: Record<string, SweepParameter> = {}
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq <= 0) throw new SweepFormError(`line ${i + 1}: write key = values (e.g. optimizer.lr = 1e-4, 3e-4)`)
    const key = line.slice(0, eq).trim()
    const rest = line.slice(eq + 1).trim()
    if (key in out) throw new SweepFormError(`line ${i + 1}: "${key}" is given twice`)
    const range = RANGE.exec(rest)
    if (range) {
      const min = Number(range[1])
      const max = Number(range[2])
      if (!Number.isFinite(min) || !Number.isFinite(max)) throw new SweepFormError(`line ${i + 1}: a range is two numbers, min .. max`)
      const flags = range[3] ?? ''
      out[key] = { min, max, log: /\blog\b/.test(flags), integer: /\bint\b/.test(flags) }
      return
    }
    const values = splitValues(rest).map(valueOf)
    if (!values.length) throw new SweepFormError(`line ${i + 1}: "${key}" has no values`)
    out[key] = { values }
  })
  return out
}

/** The spec the form describes (checked by `expandSweep` in main, which names any bad key or value). */
export function specOfForm(f: SweepFormFields): SweepSpecInput {
  const data = f.versionId !== null ? `version:${f.versionId}` : f.folder.trim()
  if (!data) throw new SweepFormError('choose a dataset version or type a folder')
  return {
    name: f.name.trim() || 'sweep',
    method: f.method,
    base: { preset: f.preset, data, config: { steps: f.steps } },
    parameters: parseParameterLines(f.parameters),
    ...(f.method === 'random' ? { trials: f.trials, seed: f.seed } : {})
  }
}

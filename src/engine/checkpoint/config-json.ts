// What every config-file reader (Prithvi yaml, EO-2.0 config.json, the MAE family's JSON, the
// app's own model file) shares: the error that names the file and field, and the JSON probes.
import { CheckpointError } from './errors'

/** A config error naming the file (or what stands for it) and the field. */
export function badConfig(source: string, msg: string): CheckpointError {
  return new CheckpointError('bad-config', `${source}: ${msg}`)
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Whether a file's text is a JSON object that `test` accepts (false for anything unparsable). */
export function jsonObjectMatches(text: string, test: (doc: Record<string, unknown>) => boolean): boolean {
  try {
    const doc = JSON.parse(text) as unknown
    return isRecord(doc) && test(doc)
  } catch {
    return false
  }
}

/** The JSON document of a config file; invalid JSON is refused naming the file. */
export function parseJsonConfig(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw badConfig(source, `not valid JSON (${(e as Error).message})`)
  }
}

// Parsing at the job boundary: the engine parses params once, main parses events and results.
import type { z } from 'zod'
import { EngineJobs, isEngineJobKind, type EngineJobEvent, type EngineJobInput, type EngineJobKind, type EngineJobResult } from './jobs'
import { EngineJobOutputError, EngineJobParamsError, UnknownEngineJobError } from './errors'

/** The params of a start-job, parsed with its kind's schema; throws a typed error otherwise. */
export function parseEngineJobParams<K extends EngineJobKind>(kind: K, params: unknown): EngineJobInput<K>
export function parseEngineJobParams(kind: string, params: unknown): EngineJobInput<EngineJobKind>
export function parseEngineJobParams(kind: string, params: unknown): unknown {
  if (!isEngineJobKind(kind)) throw new UnknownEngineJobError(kind)
  const parsed = EngineJobs[kind].params.safeParse(params)
  if (!parsed.success) throw new EngineJobParamsError(kind, parsed.error.issues)
  return parsed.data
}

/** An event of kind K; throws EngineJobOutputError for an unknown name or a payload that does not fit. */
export function parseEngineJobEvent<K extends EngineJobKind>(kind: K, event: string, payload: unknown): EngineJobEvent<K> {
  const schemas: Record<string, z.ZodType> = EngineJobs[kind].events
  const schema = Object.hasOwn(schemas, event) ? schemas[event] : undefined
  if (!schema) throw new EngineJobOutputError(kind, `event "${event.slice(0, 80)}"`, [{ path: [], message: 'not an event of this job' }])
  const parsed = schema.safeParse(payload)
  if (!parsed.success) throw new EngineJobOutputError(kind, `event "${event}"`, parsed.error.issues)
  return { event, payload: parsed.data } as EngineJobEvent<K>
}

export function parseEngineJobResult<K extends EngineJobKind>(kind: K, result: unknown): EngineJobResult<K> {
  const parsed = EngineJobs[kind].result.safeParse(result)
  if (!parsed.success) throw new EngineJobOutputError(kind, 'result', parsed.error.issues)
  return parsed.data as EngineJobResult<K>
}

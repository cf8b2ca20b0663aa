// The one IPC contract: every request/response channel and every event channel the renderer,
// the web bridge and the CLI share. Payloads are parsed with these schemas where they enter main.
import { z } from 'zod'
import { EngineStatus, LogLine, SystemInfo } from './schemas/system'
import { DemoJobRequest, JobId, JobStarted, JobView } from './schemas/jobs'
import { ModelExportOnnxRequest, ModelImportRequest, ModelRecord } from './schemas/models'

const Empty = z.object({}).strict()
const Ok = z.object({ ok: z.literal(true) })

/** Request/response calls: `domain:verb`. */
export const channels = {
  'system:info': { request: Empty, response: SystemInfo },
  'engine:restart': { request: Empty, response: Ok },
  'jobs:list': { request: Empty, response: z.array(JobView) },
  'jobs:cancel': { request: z.object({ jobId: JobId }).strict(), response: z.object({ cancelled: z.boolean() }) },
  'jobs:start-demo': { request: DemoJobRequest, response: JobStarted },
  'models:list': { request: Empty, response: z.array(ModelRecord) },
  'models:import': { request: ModelImportRequest, response: JobStarted },
  'models:remove': { request: z.object({ id: z.number().int().positive() }).strict(), response: Ok },
  'models:export-onnx': { request: ModelExportOnnxRequest, response: JobStarted }
} as const

/** One-way events from main to every renderer. */
export const events = {
  'jobs:progress': JobView,
  'engine:status': EngineStatus,
  'logs:line': LogLine
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

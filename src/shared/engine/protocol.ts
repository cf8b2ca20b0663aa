// Messages between main (the supervisor) and the engine child process. Calls carry a sequence
// number; jobs carry the job id main assigned; errors travel as WireError and are rebuilt.
// A job's params, events and result are typed per kind by the catalogue (`jobs.ts`); on the wire
// they are plain data, which the receiving side parses (the engine parses params before a handler
// runs, main parses events and results).
import type { WireError } from '../ipc/errors'
import type { GpuAdapterInfo } from '../ipc/schemas/system'
import type { EngineJobKind, EngineJobParams } from './jobs'

export interface EngineInfo {
  pid: number
  backend: string
  device: string
  versions: Record<string, string>
  tried: { backend: string; error?: string; hint?: string }[]
  /** The WebGPU adapter: the engine's when it runs on webgpu, else the one found (if any). */
  gpu: GpuAdapterInfo | null
}

/** A start-job message as main sends it: the params match the kind. */
export type StartJobMessage = { [K in EngineJobKind]: { type: 'start-job'; jobId: string; kind: K; params: EngineJobParams<K> } }[EngineJobKind]

export type ToEngine =
  | { type: 'call'; seq: number; method: string; params: unknown }
  | StartJobMessage
  | { type: 'cancel-job'; jobId: string }
  /** Stop after the current step with a checkpoint (jobs that can pause: `train`). */
  | { type: 'pause-job'; jobId: string }
  /** Withdraws a pause the job has not acted on yet. */
  | { type: 'resume-job'; jobId: string }
  | { type: 'shutdown' }

export type FromEngine =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'boot-failed'; error: WireError }
  | { type: 'reply'; seq: number; ok: true; value: unknown }
  | { type: 'reply'; seq: number; ok: false; error: WireError }
  | { type: 'job-progress'; jobId: string; done: number; total: number; message: string }
  | { type: 'job-event'; jobId: string; event: string; payload: unknown }
  | { type: 'job-done'; jobId: string; result: unknown }
  | { type: 'job-failed'; jobId: string; error: WireError }
  /** `result`: what a job finished before it was cancelled (a partial study), when it keeps any. */
  | { type: 'job-cancelled'; jobId: string; result?: unknown }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  /** The backend is unusable (wasm out of memory / aborted, GPU device lost): the engine exits next. */
  | { type: 'fault'; reason: string }

// Entry point of the engine child process. Main supervises it: the engine loads TensorFlow.js
// on the best backend present, says "ready", then serves calls and runs jobs until told to stop
// (or killed). Heavy numerical work lives here so the UI never blocks.
import { toWireError, CancelledError } from '@shared/ipc/errors'
import type { FromEngine, ToEngine } from '@shared/engine/protocol'
import { parseEngineJobParams } from '@shared/engine/parse'
import { loadTf } from './tf/backend'
import { probeWebGpu } from './gpu/adapter'
import type { TfHandle } from './tf/handle'
import { jobHandler } from './jobs/registry'
import type { EngineJobKind } from '@shared/engine/jobs'
import { engineMethod, registerMethod } from './methods'
import { currentFault, EngineFaultError, faultOf, installFaultWatch, onFault, provokeFault, type Fault } from './faults'
import './jobs/demo'
import './checkpoint-jobs/jobs'
import './training/job'
import './reconstruction/job'
import './inference/job'
import './embeddings/job'

interface ParentPort {
  postMessage(message: unknown): void
  on(event: 'message', listener: (event: { data: unknown }) => void): void
}

// Electron's utilityProcess gives us `process.parentPort`; a Node child_process has `process.send`.
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort

function send(message: FromEngine): void {
  if (parentPort) parentPort.postMessage(message)
  else if (process.send) process.send(message)
}

function onMessage(listener: (message: ToEngine) => void): void {
  if (parentPort) parentPort.on('message', (event) => listener(event.data as ToEngine))
  else process.on('message', (message) => listener(message as ToEngine))
}

/** A running job: its cancel, and whether main asked it to pause. */
interface RunningJob {
  controller: AbortController
  pause: boolean
}

const running = new Map<string, RunningJob>()

let faultTimer: NodeJS.Timeout | null = null
let exiting = false
let announced = false

/** Tells main at once, before any job fails on it, so nothing new is started in this engine. */
function announceFault(fault: Fault): void {
  if (announced) return
  announced = true
  send({ type: 'fault', reason: fault.detail })
}

/**
 * A faulted backend cannot recover in this process: tell main why (the supervisor shows it and
 * restarts the engine) and exit. Running jobs get up to `graceMs` to fail with their own plain reason.
 */
function reportFault(fault: Fault, graceMs: number): void {
  if (exiting) return
  if (graceMs > 0 && running.size > 0) {
    faultTimer ??= setTimeout(() => reportFault(fault, 0), graceMs)
    return
  }
  exiting = true
  if (faultTimer) clearTimeout(faultTimer)
  announceFault(fault)
  // Let the IPC channel flush the last messages before the process goes.
  setTimeout(() => process.exit(70), 200)
}

/**
 * Starts a job from a start-job message, which is untrusted data until parsed: an unknown kind or
 * params that fail the kind's schema fail the job with a typed error (UnknownEngineJobError,
 * EngineJobParamsError) before any handler runs. Handlers get the parsed params.
 */
async function runJob(tf: TfHandle, jobId: string, kind: string, raw: unknown): Promise<void> {
  const broken = currentFault()
  if (broken) {
    // Sent before main learnt of the fault: this backend cannot run it.
    send({ type: 'job-failed', jobId, error: toWireError(new EngineFaultError(`${broken.detail}; the engine is restarting: start it again`, broken)) })
    return
  }
  let params: ReturnType<typeof parseEngineJobParams>
  try {
    params = parseEngineJobParams(kind, raw)
  } catch (err) {
    send({ type: 'job-failed', jobId, error: toWireError(err) })
    return
  }
  const handler = jobHandler(kind as EngineJobKind)
  if (!handler) {
    send({ type: 'job-failed', jobId, error: { name: 'Error', message: `the engine has no handler for job kind "${kind}"` } })
    return
  }
  const controller = new AbortController()
  const job: RunningJob = { controller, pause: false }
  running.set(jobId, job)
  try {
    const result = await handler(params, {
      jobId,
      signal: controller.signal,
      tf,
      pauseRequested: () => job.pause,
      progress: (done, total, message = '') => send({ type: 'job-progress', jobId, done, total, message }),
      emit: (event, payload) => send({ type: 'job-event', jobId, event, payload }),
      log: (level, message) => send({ type: 'log', level, message: `[${kind} ${jobId}] ${message}` })
    })
    // A job that returns after its cancel hands back what it finished (a partial study).
    if (controller.signal.aborted) send({ type: 'job-cancelled', jobId, ...(result !== undefined ? { result } : {}) })
    else send({ type: 'job-done', jobId, result })
  } catch (err) {
    const fault = faultOf(err)
    if (fault) {
      announceFault(fault)
      send({ type: 'job-failed', jobId, error: toWireError(err instanceof EngineFaultError ? err : new EngineFaultError(`${fault.detail}; the engine is restarting`, fault)) })
    } else if (controller.signal.aborted || err instanceof CancelledError) send({ type: 'job-cancelled', jobId })
    else send({ type: 'job-failed', jobId, error: toWireError(err) })
  } finally {
    running.delete(jobId)
  }
  const fault = currentFault()
  if (fault) reportFault(fault, 10_000)
}

async function main(): Promise<void> {
  let tf: TfHandle
  try {
    tf = await loadTf()
  } catch (err) {
    send({ type: 'boot-failed', error: toWireError(err) })
    process.exit(1)
  }
  installFaultWatch(tf)
  // A fault seen outside a job's own error path (a GPU device lost while idle, or while a job is
  // between checks): jobs get a few seconds to fail with their reason, then the engine exits.
  onFault((fault) => {
    announceFault(fault)
    reportFault(fault, 10_000)
  })
  registerMethod('test-fault', (handle, raw) => provokeFault(handle, (raw as { kind?: string }).kind ?? ''))
  onMessage((message) => {
    switch (message.type) {
      case 'call':
        Promise.resolve()
          .then(() => engineMethod(tf, message.method, message.params))
          .then(
            (value) => send({ type: 'reply', seq: message.seq, ok: true, value }),
            (err) => {
              send({ type: 'reply', seq: message.seq, ok: false, error: toWireError(err) })
              const fault = faultOf(err)
              if (fault) reportFault(fault, 10_000)
            }
          )
        break
      case 'start-job':
        if (typeof message.jobId !== 'string' || !message.jobId) send({ type: 'log', level: 'error', message: 'a start-job message without a job id was ignored' })
        else void runJob(tf, message.jobId, String(message.kind), message.params)
        break
      case 'cancel-job':
        running.get(message.jobId)?.controller.abort(new CancelledError())
        break
      case 'pause-job':
      case 'resume-job': {
        const job = running.get(message.jobId)
        if (job) job.pause = message.type === 'pause-job'
        break
      }
      case 'shutdown':
        for (const j of running.values()) j.controller.abort(new CancelledError('engine shutting down'))
        setTimeout(() => process.exit(0), 50)
        break
    }
  })
  // The adapter is reported even when another backend was chosen: the System view says why it was skipped.
  const probe = !tf.gpu && tf.tried.some((t) => t.backend === 'webgpu') ? await probeWebGpu() : undefined
  const gpu = tf.gpu ?? (probe?.available ? probe.adapter : null)
  send({ type: 'ready', info: { pid: process.pid, backend: tf.backend, device: tf.device, versions: tf.versions, tried: tf.tried, gpu } })
}

void main()

// Entry point of the engine child process. Main supervises it: the engine loads TensorFlow.js
// on the best backend present, says "ready", then serves calls and runs jobs until told to stop
// (or killed). Heavy numerical work lives here so the UI never blocks.
import { toWireError, CancelledError } from '@shared/ipc/errors'
import type { FromEngine, ToEngine } from './protocol'
import { loadTf } from './tf/backend'
import { probeWebGpu } from './gpu/adapter'
import type { TfHandle } from './tf/handle'
import { jobHandler } from './jobs/registry'
import { engineMethod } from './methods'
import './jobs/demo'
import './models/jobs'
import './training/job'
import './reconstruction/job'
import './inference/job'

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

const running = new Map<string, AbortController>()

async function runJob(tf: TfHandle, jobId: string, kind: string, params: unknown): Promise<void> {
  const handler = jobHandler(kind)
  if (!handler) {
    send({ type: 'job-failed', jobId, error: { name: 'Error', message: `the engine has no job kind "${kind}"` } })
    return
  }
  const controller = new AbortController()
  running.set(jobId, controller)
  try {
    const result = await handler(params, {
      jobId,
      signal: controller.signal,
      tf,
      progress: (done, total, message = '') => send({ type: 'job-progress', jobId, done, total, message }),
      emit: (event, payload) => send({ type: 'job-event', jobId, event, payload }),
      log: (level, message) => send({ type: 'log', level, message: `[${kind} ${jobId}] ${message}` })
    })
    if (controller.signal.aborted) send({ type: 'job-cancelled', jobId })
    else send({ type: 'job-done', jobId, result })
  } catch (err) {
    if (controller.signal.aborted || err instanceof CancelledError) send({ type: 'job-cancelled', jobId })
    else send({ type: 'job-failed', jobId, error: toWireError(err) })
  } finally {
    running.delete(jobId)
  }
}

async function main(): Promise<void> {
  let tf: TfHandle
  try {
    tf = await loadTf()
  } catch (err) {
    send({ type: 'boot-failed', error: toWireError(err) })
    process.exit(1)
  }
  onMessage((message) => {
    switch (message.type) {
      case 'call':
        engineMethod(tf, message.method, message.params).then(
          (value) => send({ type: 'reply', seq: message.seq, ok: true, value }),
          (err) => send({ type: 'reply', seq: message.seq, ok: false, error: toWireError(err) })
        )
        break
      case 'start-job':
        void runJob(tf, message.jobId, message.kind, message.params)
        break
      case 'cancel-job':
        running.get(message.jobId)?.abort(new CancelledError())
        break
      case 'shutdown':
        for (const c of running.values()) c.abort(new CancelledError('engine shutting down'))
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

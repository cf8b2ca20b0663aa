// Supervises the engine child: ready handshake with a start-up timeout, typed calls with
// sequence ids, job messages, piped logs, and crash handling (running jobs fail with the reason,
// the engine is restarted with back-off). Main stays responsive whatever the engine does.
import { EventEmitter } from 'node:events'
import { createInterface } from 'node:readline'
import type { EngineStatus } from '@shared/ipc/schemas/system'
import { RemoteError } from '@shared/ipc/errors'
import type { EngineInfo, FromEngine, StartJobMessage, ToEngine } from '@shared/engine/protocol'
import type { EngineJobKind, EngineJobParams } from '@shared/engine/jobs'
import type { EngineLauncher, EngineProcess } from './transport'

export interface SupervisorOptions {
  entry: string
  launcher: EngineLauncher
  env?: NodeJS.ProcessEnv
  startupTimeoutMs?: number
  callTimeoutMs?: number
  /** Restarts allowed within `restartWindowMs` before the supervisor gives up. */
  maxRestarts?: number
  restartWindowMs?: number
  /** Start on the first whenReady() instead of by start(). */
  startOnDemand?: boolean
}

export type JobMessage = Extract<FromEngine, { jobId: string }>

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export declare interface EngineSupervisor {
  on(event: 'status', listener: (status: EngineStatus) => void): this
  on(event: 'job', listener: (message: JobMessage) => void): this
  on(event: 'log', listener: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void): this
  /** The engine went away; `reason` says how. Jobs it was running are lost. */
  on(event: 'exit', listener: (reason: string) => void): this
}

export class EngineSupervisor extends EventEmitter {
  private proc: EngineProcess | null = null
  private info: EngineInfo | null = null
  private seq = 0
  private pending = new Map<number, Pending>()
  private readyWaiters: { resolve(): void; reject(err: Error): void }[] = []
  private restartTimes: number[] = []
  private stopping = false
  private intentionalExit: EngineProcess | null = null
  /** Why the current engine could not start (e.g. a forced backend that is not installed). */
  private bootError: string | null = null
  /** The current engine reported a fault and is going away (it exits itself; killed if it lingers). */
  private faulted: string | null = null
  private status: EngineStatus

  constructor(private opts: SupervisorOptions) {
    super()
    this.status = {
      state: 'stopped',
      pid: null,
      backend: null,
      device: null,
      versions: {},
      triedBackends: [],
      gpu: null,
      restarts: 0,
      lastExit: null,
      lastFault: null,
      since: new Date().toISOString()
    }
  }

  /** Changes the environment of the next engine start (e.g. the TensorFlow.js backend). */
  setEnv(env: NodeJS.ProcessEnv): void {
    this.opts.env = { ...this.opts.env, ...env }
  }

  /** A variable as the engine sees it (its own settings over main's environment; '' is unset). */
  envValue(name: string): string | undefined {
    const v = this.opts.env?.[name] ?? process.env[name]
    return v === '' ? undefined : v
  }

  getStatus(): EngineStatus {
    return this.status
  }

  start(): Promise<void> {
    this.stopping = false
    this.spawn()
    return this.whenReady()
  }

  whenReady(): Promise<void> {
    if (this.status.state === 'ready') return Promise.resolve()
    // Started on demand (the CLI): the first caller that needs the engine starts it, so a
    // command that fails on its arguments never pays for an engine start.
    if (this.opts.startOnDemand && !this.proc && !this.stopping && this.status.state === 'stopped') this.spawn()
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  /** Kills the engine at once (used by "restart engine" and by tests that simulate a crash). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.proc?.kill(signal)
  }

  async stop(): Promise<void> {
    this.stopping = true
    const proc = this.proc
    if (!proc) return
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => proc.kill('SIGKILL'), 2000)
      proc.onExit(() => {
        clearTimeout(force)
        resolve()
      })
      proc.post({ type: 'shutdown' })
    })
  }

  /** A restart the user asked for: a fresh engine at once, not counted as a crash. */
  async restart(): Promise<void> {
    this.restartTimes = []
    this.stopping = false
    const proc = this.proc
    if (proc) {
      this.intentionalExit = proc
      const exited = new Promise<void>((resolve) => proc.onExit(() => resolve()))
      proc.kill('SIGKILL')
      await exited
    }
    if (!this.proc) this.spawn()
    return this.whenReady()
  }

  async call<T = unknown>(method: string, params: unknown = {}, timeoutMs = this.opts.callTimeoutMs ?? 60_000): Promise<T> {
    await this.whenReady()
    const seq = ++this.seq
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq)
        reject(new Error(`the engine did not answer "${method}" within ${Math.round(timeoutMs / 1000)} s`))
      }, timeoutMs)
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.post({ type: 'call', seq, method, params })
    })
  }

  startJob<K extends EngineJobKind>(jobId: string, kind: K, params: EngineJobParams<K>): void {
    this.post({ type: 'start-job', jobId, kind, params } as StartJobMessage)
  }

  cancelJob(jobId: string): void {
    this.post({ type: 'cancel-job', jobId })
  }

  /** Asks a job to stop after its current step (a `train` job saves a checkpoint first). */
  pauseJob(jobId: string): void {
    this.post({ type: 'pause-job', jobId })
  }

  /** Withdraws a pause the job has not acted on yet. */
  resumeJob(jobId: string): void {
    this.post({ type: 'resume-job', jobId })
  }

  private post(message: ToEngine): void {
    if (!this.proc) throw new Error('the engine is not running')
    this.proc.post(message)
  }

  private setStatus(patch: Partial<EngineStatus>): void {
    this.status = { ...this.status, ...patch, since: new Date().toISOString() }
    this.emit('status', this.status)
  }

  private spawn(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.opts.env }
    // An empty value means "not set" (lets a setting clear an inherited override).
    for (const [k, v] of Object.entries(env)) if (v === '') delete env[k]
    const proc = this.opts.launcher(this.opts.entry, env)
    this.proc = proc
    this.info = null
    this.setStatus({ state: this.status.restarts > 0 ? 'restarting' : 'starting', pid: proc.pid ?? null })
    const pipe = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn') => {
      if (!stream) return
      createInterface({ input: stream }).on('line', (line) => this.emit('log', level, `[engine] ${line}`))
    }
    pipe(proc.stdout, 'info')
    pipe(proc.stderr, 'warn')

    const startupTimer = setTimeout(() => {
      if (this.proc === proc && !this.info) {
        this.emit('log', 'error', `[engine] no ready signal within ${this.opts.startupTimeoutMs ?? 60_000} ms; killing it`)
        proc.kill('SIGKILL')
      }
    }, this.opts.startupTimeoutMs ?? 60_000)

    proc.onMessage((message) => this.handle(proc, message))
    proc.onExit((code, signal) => {
      clearTimeout(startupTimer)
      if (this.proc !== proc) return
      this.proc = null
      const intentional = this.intentionalExit === proc
      const bootError = this.bootError
      this.bootError = null
      const fault = this.faulted
      this.faulted = null
      const reason = intentional
        ? 'the engine was restarted by the user'
        : fault
          ? `the engine was restarted after a fault (${fault})`
          : bootError
          ? `the engine could not start: ${bootError}`
          : signal
          ? `the engine process was killed (${signal})`
          : `the engine process exited with code ${code}`
      for (const [seq, p] of this.pending) {
        clearTimeout(p.timer)
        p.reject(new Error(`${reason} before answering`))
        this.pending.delete(seq)
      }
      this.emit('exit', reason)
      if (intentional) {
        this.intentionalExit = null
        this.setStatus({ state: 'restarting', pid: null, lastExit: reason })
        return
      }
      if (bootError) {
        // A start-up failure (a missing backend, a broken install) repeats on every retry:
        // stop here and say why, until the user changes something and restarts.
        this.setStatus({ state: 'crashed', pid: null, lastExit: reason })
        for (const w of this.readyWaiters.splice(0)) w.reject(new Error(reason))
        return
      }
      if (this.stopping) {
        this.setStatus({ state: 'stopped', pid: null, lastExit: reason })
        for (const w of this.readyWaiters.splice(0)) w.reject(new Error('the engine was stopped'))
        return
      }
      this.scheduleRestart(reason, fault !== null)
    })
  }

  private scheduleRestart(reason: string, afterFault = false): void {
    const now = Date.now()
    const window = this.opts.restartWindowMs ?? 60_000
    this.restartTimes = this.restartTimes.filter((t) => now - t < window)
    if (this.restartTimes.length >= (this.opts.maxRestarts ?? 5)) {
      this.setStatus({ state: 'crashed', pid: null, lastExit: `${reason}; gave up after ${this.restartTimes.length} restarts in ${window / 1000} s` })
      for (const w of this.readyWaiters.splice(0)) w.reject(new Error(`the engine keeps failing: ${reason}`))
      return
    }
    this.restartTimes.push(now)
    const delay = Math.min(250 * 2 ** (this.restartTimes.length - 1), 5000)
    this.setStatus({ state: afterFault ? 'restarting' : 'crashed', pid: null, lastExit: reason, restarts: this.status.restarts + 1 })
    setTimeout(() => {
      if (!this.stopping && !this.proc) this.spawn()
    }, delay)
  }

  private handle(proc: EngineProcess, message: FromEngine): void {
    if (this.proc !== proc) return
    switch (message.type) {
      case 'ready':
        this.info = message.info
        this.setStatus({
          state: 'ready',
          pid: message.info.pid,
          backend: message.info.backend,
          device: message.info.device,
          versions: message.info.versions,
          triedBackends: message.info.tried,
          gpu: message.info.gpu
        })
        for (const w of this.readyWaiters.splice(0)) w.resolve()
        break
      case 'boot-failed':
        this.bootError = message.error.message
        this.emit('log', 'error', `[engine] failed to start: ${message.error.message}`)
        break
      case 'reply': {
        const p = this.pending.get(message.seq)
        if (!p) return
        this.pending.delete(message.seq)
        clearTimeout(p.timer)
        if (message.ok) p.resolve(message.value)
        else p.reject(new RemoteError(message.error))
        break
      }
      case 'log':
        this.emit('log', message.level, `[engine] ${message.message}`)
        break
      case 'fault': {
        // The engine is unusable from here on: never 'ready' again. It exits by itself; a stuck
        // one is killed. Calls wait for the fresh engine (whenReady) instead of failing on this one.
        this.faulted = message.reason
        this.emit('log', 'error', `[engine] fault: ${message.reason}; restarting the engine`)
        this.setStatus({ state: 'restarting', lastFault: { reason: message.reason, at: new Date().toISOString() } })
        // The engine gives its running jobs up to 10 s to fail with their own reason, then exits.
        setTimeout(() => {
          if (this.proc === proc) proc.kill('SIGKILL')
        }, 15_000)
        break
      }
      default:
        this.emit('job', message)
    }
  }
}

// The one module that owns onnxruntime-node: what this build offers, sessions on a chosen device
// (CUDA, WebGPU or CPU, with the reason recorded when 'auto' falls back), and runs that take and
// return plain typed arrays. ORT is loaded on first use, so importing this module never touches the
// native binding.
//
// What stays on the GPU (WebGPU EP, onnxruntime-node 1.30): the weights are graph initializers,
// uploaded once when the session is created; a session is kept for a whole job, so every batch
// reuses them. Outputs can stay on the device (`preferredOutputLocation: 'gpu-buffer'`) and be fed
// to another run, but the Node binding cannot read such a tensor back (`getData()` aborts the
// process), and every output our graphs produce is read back, so `run()` always asks for CPU
// outputs: there is no intermediate output to keep on the GPU (each graph is one session).
// Between jobs, `keepWarm` parks a released GPU session for a while, so the next study or inference
// on the same graph file skips the weight upload and the shader compilation.

import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as Ort from 'onnxruntime-node'
import { adapterLabel, probeWebGpu } from '../gpu/adapter'

const require = createRequire(import.meta.url)
let ortModule: typeof Ort | undefined

function ort(): typeof Ort {
  ortModule ??= require('onnxruntime-node') as typeof Ort
  return ortModule
}

/** What a caller asks for; 'auto' = CUDA when installed, else WebGPU on a hardware adapter, else CPU. */
export type Device = 'cpu' | 'cuda' | 'webgpu' | 'auto'
/** What a session actually runs on. */
export type SessionDevice = 'cpu' | 'cuda' | 'webgpu'

export interface ExecutionProviders {
  /** `ort.listSupportedBackends()`: what this binding was built for (`bundled: false` = separate download). */
  backends: { name: string; bundled: boolean }[]
  cuda: {
    /** The binding was built with the CUDA execution provider. */
    supported: boolean
    /** Its provider library is installed next to the binding (it may still fail without a CUDA driver/cuDNN). */
    installed: boolean
    /** Where the provider library is looked for. */
    libraryPath?: string
  }
  /** The binding ships the WebGPU execution provider (its own Dawn; bundled on Linux x64 / Windows / macOS in 1.30). */
  webgpu: { supported: boolean }
}

function cudaLibraryPath(): string | undefined {
  const file =
    process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : process.platform === 'linux' ? 'libonnxruntime_providers_cuda.so' : undefined
  if (!file) return undefined
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'))
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch, file)
  } catch {
    return undefined
  }
}

export function listExecutionProviders(): ExecutionProviders {
  const backends = ort()
    .listSupportedBackends()
    .map((b) => ({ name: b.name, bundled: b.bundled }))
  const libraryPath = cudaLibraryPath()
  const supported = backends.some((b) => b.name === 'cuda')
  return {
    backends,
    cuda: { supported, installed: supported && !!libraryPath && existsSync(libraryPath), ...(libraryPath ? { libraryPath } : {}) },
    webgpu: { supported: backends.some((b) => b.name === 'webgpu' && b.bundled) }
  }
}

export function ortVersion(): string {
  const v = ort().env.versions
  return v.node ?? v.common ?? 'unknown'
}

export interface CreateSessionOptions {
  /** Default 'auto': CUDA when it can be initialised, else WebGPU on a hardware adapter, else CPU. */
  device?: Device
  intraOpThreads?: number
  /** CUDA device ordinal (default 0). */
  deviceId?: number
  /** Write ORT's JSON profile (each node with the provider that ran it) under this prefix; `handle.endProfiling()` closes it. */
  profileFilePrefix?: string
  /**
   * A model file on a GPU: `release()` parks the session (weights stay on the device) for
   * KEEP_WARM_MS, and a later `createSession` of the same unchanged file with the same options
   * takes it back (`reused: true`). CPU sessions are released as usual.
   */
  keepWarm?: boolean
}

/** How long a parked GPU session waits for the next job, and how many wait at most. */
export const KEEP_WARM_MS = 10 * 60_000
const KEEP_WARM_MAX = 2
const parked = new Map<string, { session: OnnxSession; timer: NodeJS.Timeout }>()

/** The file's identity (a re-exported graph is a different session) and the options that shape a session. */
function warmKey(path: string, opts: CreateSessionOptions): string | null {
  try {
    const st = statSync(path)
    return [path, st.size, st.mtimeMs, opts.device ?? 'auto', opts.intraOpThreads ?? '', opts.deviceId ?? 0].join('|')
  } catch {
    return null
  }
}

function unpark(key: string): OnnxSession | undefined {
  const p = parked.get(key)
  if (!p) return undefined
  clearTimeout(p.timer)
  parked.delete(key)
  return p.session
}

async function park(key: string, session: OnnxSession): Promise<void> {
  const old = unpark(key)
  if (old) await old.release()
  // The oldest parked session makes room (Map keeps insertion order).
  while (parked.size >= KEEP_WARM_MAX) {
    const [oldest] = parked.keys()
    await unpark(oldest!)!.release()
  }
  const timer = setTimeout(() => {
    if (parked.get(key)?.session === session) {
      parked.delete(key)
      void session.release()
    }
  }, KEEP_WARM_MS)
  timer.unref() // a parked session never keeps the engine alive
  parked.set(key, { session, timer })
}

/** Releases every parked session now; returns how many there were. */
export async function releaseParkedSessions(): Promise<number> {
  const keys = [...parked.keys()]
  for (const k of keys) await unpark(k)!.release()
  return keys.length
}

/** A GPU session whose release() parks it instead. */
function parkable(key: string, inner: OnnxSession, reused: boolean): OnnxSession {
  let released = false
  return {
    ...inner,
    reused,
    async release() {
      if (released) return
      released = true
      await park(key, inner)
    }
  }
}

export interface OnnxSession {
  /** The device the session actually runs on. */
  readonly device: SessionDevice
  readonly executionProviders: readonly string[]
  /** Why 'auto' did not get a GPU (absent when it did, or when CPU was asked for). */
  readonly fallbackReason?: string
  /** The WebGPU adapter the probe found, as one line (WebGPU sessions only). */
  readonly adapter?: string
  /** A parked GPU session taken back (`keepWarm`): its weights were already on the device. */
  readonly reused?: boolean
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  /** The underlying ORT session; prefer `run()` and `release()`. */
  readonly handle: Ort.InferenceSession
  release(): Promise<void>
}

function open(model: Uint8Array | string, options: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession> {
  const { InferenceSession } = ort()
  return typeof model === 'string' ? InferenceSession.create(model, options) : InferenceSession.create(model, options)
}

function wrap(handle: Ort.InferenceSession, device: SessionDevice, executionProviders: string[], fallbackReason?: string, adapter?: string): OnnxSession {
  let released = false
  return {
    device,
    executionProviders,
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
    ...(adapter !== undefined ? { adapter } : {}),
    inputNames: handle.inputNames,
    outputNames: handle.outputNames,
    handle,
    async release() {
      if (released) return
      released = true
      await handle.release()
    }
  }
}

type Attempt = { session: OnnxSession } | { reason: string }

async function tryCuda(model: Uint8Array | string, base: Ort.InferenceSession.SessionOptions, deviceId: number): Promise<Attempt> {
  const eps = listExecutionProviders()
  if (!eps.cuda.supported) return { reason: 'this onnxruntime-node build has no CUDA execution provider' }
  if (!eps.cuda.installed) return { reason: `the CUDA execution provider is not installed (${eps.cuda.libraryPath ?? 'no library path'})` }
  try {
    const handle = await open(model, { ...base, executionProviders: [{ name: 'cuda', deviceId }, 'cpu'] })
    return { session: wrap(handle, 'cuda', ['cuda', 'cpu']) }
  } catch (e) {
    return { reason: `CUDA session failed: ${e instanceof Error ? e.message : String(e)}` }
  }
}

/**
 * A WebGPU session. `hardwareOnly` ('auto') refuses a software adapter (lavapipe, SwiftShader, WARP:
 * slower than ORT's own CPU kernels); an explicit 'webgpu' takes it. The adapter is described by
 * our Dawn probe (src/engine/gpu); ORT brings its own Dawn, which asks the same driver.
 */
async function tryWebGpu(model: Uint8Array | string, base: Ort.InferenceSession.SessionOptions, hardwareOnly: boolean): Promise<Attempt> {
  if (!listExecutionProviders().webgpu.supported) return { reason: 'this onnxruntime-node build has no WebGPU execution provider' }
  const probe = await probeWebGpu()
  if (!probe.available) {
    const why = probe.reason.startsWith('no WebGPU adapter') ? probe.reason : `no WebGPU adapter (${probe.reason})`
    return { reason: `${why}; ${probe.hint}` }
  }
  const label = adapterLabel(probe.adapter)
  if (hardwareOnly && probe.adapter.software) {
    return { reason: `the only WebGPU adapter is a software rasteriser (${label}), slower than the CPU; --device webgpu uses it anyway` }
  }
  try {
    // Nodes the WebGPU EP has no kernel for run on the CPU EP listed after it.
    const handle = await open(model, { ...base, executionProviders: [{ name: 'webgpu' }, 'cpu'] })
    return { session: wrap(handle, 'webgpu', ['webgpu', 'cpu'], undefined, label) }
  } catch (e) {
    return { reason: `WebGPU session failed on ${label}: ${e instanceof Error ? e.message : String(e)}` }
  }
}

/**
 * Opens a model (bytes or a file path) on the requested device. An explicit 'cuda' or 'webgpu'
 * throws with the reason when that device cannot be used; 'auto' falls back to the CPU and records
 * why in `fallbackReason`.
 */
export async function createSession(model: Uint8Array | string, opts: CreateSessionOptions = {}): Promise<OnnxSession> {
  const device = opts.device ?? 'auto'
  if (!['cpu', 'cuda', 'webgpu', 'auto'].includes(device)) throw new Error(`unknown device "${String(device)}" (expected auto, cpu, cuda or webgpu)`)
  const key = opts.keepWarm && typeof model === 'string' && opts.profileFilePrefix === undefined ? warmKey(model, opts) : null
  if (key) {
    const warm = unpark(key)
    if (warm) return parkable(key, warm, true)
    const fresh = await openOn(model, device, opts)
    return fresh.device === 'cpu' ? fresh : parkable(key, fresh, false)
  }
  return openOn(model, device, opts)
}

async function openOn(model: Uint8Array | string, device: Device, opts: CreateSessionOptions): Promise<OnnxSession> {
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(opts.intraOpThreads !== undefined ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    ...(opts.profileFilePrefix !== undefined ? { enableProfiling: true, profileFilePrefix: opts.profileFilePrefix } : {})
  }
  const reasons: string[] = []
  if (device === 'cuda' || device === 'auto') {
    const a = await tryCuda(model, base, opts.deviceId ?? 0)
    if ('session' in a) return a.session
    if (device === 'cuda') throw new Error(`device 'cuda' unavailable: ${a.reason}`)
    reasons.push(a.reason)
  }
  if (device === 'webgpu' || device === 'auto') {
    const a = await tryWebGpu(model, base, device === 'auto')
    if ('session' in a) return a.session
    if (device === 'webgpu') throw new Error(`device 'webgpu' unavailable: ${a.reason}`)
    reasons.push(a.reason)
  }
  const handle = await open(model, { ...base, executionProviders: ['cpu'] })
  return wrap(handle, 'cpu', ['cpu'], reasons.length ? reasons.join('; ') : undefined)
}

/** Lines for a job's notes: where the session runs and, for 'auto' on the CPU, why. */
export function sessionNotes(s: OnnxSession): string[] {
  const warm = s.reused ? ' (the session kept from the previous job: weights already on the GPU)' : ''
  if (s.device === 'webgpu') return [`ONNX Runtime on WebGPU: ${s.adapter ?? 'adapter not described'}${warm}`]
  if (s.device === 'cuda') return [`ONNX Runtime on CUDA${warm}`]
  return s.fallbackReason ? [`ONNX Runtime on CPU: ${s.fallbackReason}`] : ['ONNX Runtime on CPU']
}

export interface HostTensor {
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array
  shape: readonly number[]
}

export interface FloatTensor {
  data: Float32Array
  shape: number[]
}

function toOrtTensor(name: string, t: HostTensor): Ort.Tensor {
  const { Tensor } = ort()
  const count = t.shape.reduce((a, b) => a * b, 1)
  if (count !== t.data.length) throw new Error(`feed "${name}": shape [${t.shape.join(', ')}] needs ${count} values, got ${t.data.length}`)
  const dims = [...t.shape]
  if (t.data instanceof Float32Array) return new Tensor('float32', t.data, dims)
  if (t.data instanceof BigInt64Array) return new Tensor('int64', t.data, dims)
  if (t.data instanceof Int32Array) return new Tensor('int32', t.data, dims)
  return new Tensor('bool', t.data, dims)
}

/** Runs the session. Every output must be float32; each comes back as a Float32Array with its shape. */
export async function run(session: OnnxSession, feeds: Record<string, HostTensor>, outputNames?: readonly string[]): Promise<Record<string, FloatTensor>> {
  const ortFeeds: Record<string, Ort.Tensor> = {}
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, t)
  const results = outputNames ? await session.handle.run(ortFeeds, [...outputNames]) : await session.handle.run(ortFeeds)
  const out: Record<string, FloatTensor> = {}
  for (const [name, value] of Object.entries(results)) {
    if (value.type !== 'float32') throw new Error(`output "${name}" is ${value.type}, expected float32`)
    out[name] = { data: value.data as Float32Array, shape: [...value.dims] }
  }
  return out
}

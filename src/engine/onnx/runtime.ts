// The one module that owns onnxruntime-node: what this build offers, sessions on a chosen device
// (CUDA with a recorded fallback to CPU), and runs that take and return plain typed arrays.
// ORT is loaded on first use, so importing this module never touches the native binding.

import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as Ort from 'onnxruntime-node'

const require = createRequire(import.meta.url)
let ortModule: typeof Ort | undefined

function ort(): typeof Ort {
  ortModule ??= require('onnxruntime-node') as typeof Ort
  return ortModule
}

export type Device = 'cpu' | 'cuda' | 'auto'

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
  return { backends, cuda: { supported, installed: supported && !!libraryPath && existsSync(libraryPath), ...(libraryPath ? { libraryPath } : {}) } }
}

export function ortVersion(): string {
  const v = ort().env.versions
  return v.node ?? v.common ?? 'unknown'
}

export interface CreateSessionOptions {
  /** Default 'auto': CUDA when it can be initialised, else CPU. */
  device?: Device
  intraOpThreads?: number
  /** CUDA device ordinal (default 0). */
  deviceId?: number
}

export interface OnnxSession {
  /** The device the session actually runs on. */
  readonly device: 'cpu' | 'cuda'
  readonly executionProviders: readonly string[]
  /** Why 'auto' did not get CUDA (absent when it did, or when CPU was asked for). */
  readonly fallbackReason?: string
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

function wrap(handle: Ort.InferenceSession, device: 'cpu' | 'cuda', executionProviders: string[], fallbackReason?: string): OnnxSession {
  let released = false
  return {
    device,
    executionProviders,
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
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

/** Opens a model (bytes or a file path) on the requested device. 'cuda' throws if CUDA cannot be used. */
export async function createSession(model: Uint8Array | string, opts: CreateSessionOptions = {}): Promise<OnnxSession> {
  const device = opts.device ?? 'auto'
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(opts.intraOpThreads !== undefined ? { intraOpNumThreads: opts.intraOpThreads } : {})
  }
  let fallbackReason: string | undefined
  if (device !== 'cpu') {
    const eps = listExecutionProviders()
    let reason: string | undefined
    if (!eps.cuda.supported) reason = 'this onnxruntime-node build has no CUDA execution provider'
    else if (!eps.cuda.installed) reason = `the CUDA execution provider is not installed (${eps.cuda.libraryPath ?? 'no library path'})`
    else {
      try {
        const cuda = { name: 'cuda', deviceId: opts.deviceId ?? 0 } as const
        const handle = await open(model, { ...base, executionProviders: [cuda, 'cpu'] })
        return wrap(handle, 'cuda', ['cuda', 'cpu'])
      } catch (e) {
        reason = `CUDA session failed: ${e instanceof Error ? e.message : String(e)}`
      }
    }
    if (device === 'cuda') throw new Error(`device 'cuda' unavailable: ${reason}`)
    fallbackReason = reason
  }
  const handle = await open(model, { ...base, executionProviders: ['cpu'] })
  return wrap(handle, 'cpu', ['cpu'], fallbackReason)
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

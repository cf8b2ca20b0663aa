// Picks and initialises a TensorFlow.js backend for the engine: WebGPU on a hardware adapter (Dawn:
// Vulkan, Metal or D3D12, nothing beyond a driver), then libtensorflow (CUDA, then CPU) when the
// optional tfjs-node packages are installed, else WebAssembly SIMD, else plain JavaScript.
// Free of model code; every other engine module receives the `tf` namespace this returns, with
// gradients registered for the core kernels (see gradients.ts).

import { createRequire } from 'node:module'
import { dirname, join, sep } from 'node:path'
import { adapterLabel, probeWebGpu, type GpuAdapterInfo } from '../gpu/adapter'
import { registerMissingGradients } from './gradients'
import type { Tf } from './handle'
import { patchWasmKernels } from './wasm-kernels'

export type { Tf }

/** Engine-level backend choices (the values of `prefer`). */
export type BackendChoice = 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'

export interface LoadTfOptions {
  /** Use exactly this backend; failure throws instead of falling back. Overrides MARSFM_TF_BACKEND. */
  prefer?: BackendChoice
}

export interface TriedBackend {
  backend: BackendChoice
  error?: string
  /** How to make a skipped backend available. */
  hint?: string
}

export interface LoadedTf {
  tf: Tf
  /** tfjs backend name as registered with the engine: 'tensorflow' | 'wasm' | 'cpu'. */
  backend: string
  /** Human-readable device, e.g. 'GPU (CUDA)' or 'CPU (WebAssembly SIMD)'. */
  device: string
  versions: Record<string, string>
  tried: TriedBackend[]
  /** The WebGPU adapter, when the engine runs on WebGPU. */
  gpu?: GpuAdapterInfo
}

/** Values accepted in the MARSFM_TF_BACKEND environment variable. */
const ENV_CHOICES: Record<string, BackendChoice> = {
  webgpu: 'webgpu',
  'node-gpu': 'tensorflow-gpu',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu'
}

const AUTO_ORDER: BackendChoice[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']

/** How to make each backend available, shown beside the reason it was skipped. */
const HINTS: Record<BackendChoice, string> = {
  webgpu: '',
  'tensorflow-gpu':
    'legacy CUDA option: needs CUDA 11.2 and cuDNN 8.1 on the library path and `npm rebuild @tensorflow/tfjs-node-gpu` with internet access (WebGPU needs neither)',
  tensorflow: 'optional: `npm rebuild @tensorflow/tfjs-node` with internet access downloads libtensorflow',
  wasm: 'part of the app: reinstall with `npm ci`',
  cpu: 'part of the app: reinstall with `npm ci`'
}

/** A backend that could not be used, with what would fix it. */
class Skipped extends Error {
  constructor(
    message: string,
    readonly hint: string
  ) {
    super(message)
  }
}

// Optional packages are loaded through a runtime `require` so bundlers never see (or try to inline) them.
const require = createRequire(import.meta.url)

interface Initialised {
  backend: string
  device: string
  versions: Record<string, string>
  gpu?: GpuAdapterInfo
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? String(e)
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message)
  return String(e)
}

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version?: string }).version
  } catch {
    return undefined
  }
}

async function activate(tf: Tf, name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`)
  await tf.ready()
}

async function initNode(tf: Tf, gpu: boolean): Promise<Initialised> {
  const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node'
  let mod: { version?: Record<string, string> }
  try {
    mod = require(pkg) as typeof mod
  } catch (e) {
    throw new Error(`${pkg} is not installed or failed to load: ${errorText(e)}`)
  }
  await activate(tf, 'tensorflow')
  const versions: Record<string, string> = { ...(mod.version ?? {}) }
  const v = packageVersion(pkg)
  if (v) versions[pkg.replace('@tensorflow/', '')] = v
  return { backend: 'tensorflow', device: gpu ? 'GPU (CUDA)' : 'CPU (libtensorflow)', versions }
}

/**
 * WebGPU through Dawn. Automatically only on a hardware adapter: a software rasteriser (llvmpipe,
 * SwiftShader) is correct but slower than wasm, so only an explicit choice gets it (tests do).
 */
async function initWebGpu(tf: Tf, forced: boolean): Promise<Initialised> {
  const probe = await probeWebGpu()
  if (!probe.available) throw new Skipped(probe.reason, probe.hint)
  const gpu = probe.adapter
  if (gpu.software && !forced) {
    throw new Skipped(
      `only a software adapter was found (${adapterLabel(gpu)}); it is never picked automatically`,
      'install your GPU\'s driver, or set MARSFM_TF_BACKEND=webgpu to use the software adapter anyway (slow; for testing)'
    )
  }
  await import('@tensorflow/tfjs-backend-webgpu') // registers the 'webgpu' backend
  await activate(tf, 'webgpu')
  return {
    backend: 'webgpu',
    device: `GPU (WebGPU, ${adapterLabel(gpu)})`,
    versions: { 'tfjs-backend-webgpu': packageVersion('@tensorflow/tfjs-backend-webgpu') ?? 'unknown', dawn: gpu.dawn },
    gpu
  }
}

async function initWasm(tf: Tf): Promise<Initialised> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  // The .wasm binaries sit next to the package's node entry point (dist/).
  const distDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))
  wasm.setWasmPaths(join(distDir, sep))
  // Emscripten's node glue adds process-wide uncaughtException / unhandledRejection handlers that only
  // rethrow (printing its whole minified source line); drop them so the app's own handling applies.
  const listeners = (): Function[] => [...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')]
  const before = new Set(listeners())
  try {
    await activate(tf, 'wasm')
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!before.has(l)) process.removeListener('uncaughtException', l)
    for (const l of process.listeners('unhandledRejection')) if (!before.has(l)) process.removeListener('unhandledRejection', l)
  }
  patchWasmKernels(tf) // Identity without a copy, slices without whole-input copies (wasm-kernels.ts)
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
  return {
    backend: 'wasm',
    device: simd ? 'CPU (WebAssembly SIMD)' : 'CPU (WebAssembly)',
    versions: { 'tfjs-backend-wasm': wasm.version_wasm }
  }
}

async function initCpu(tf: Tf): Promise<Initialised> {
  const cpu = await import('@tensorflow/tfjs-backend-cpu')
  await activate(tf, 'cpu')
  return { backend: 'cpu', device: 'CPU (JavaScript)', versions: { 'tfjs-backend-cpu': cpu.version_cpu } }
}

function init(tf: Tf, choice: BackendChoice, forced: boolean): Promise<Initialised> {
  switch (choice) {
    case 'webgpu':
      return initWebGpu(tf, forced)
    case 'tensorflow-gpu':
      return initNode(tf, true)
    case 'tensorflow':
      return initNode(tf, false)
    case 'wasm':
      return initWasm(tf)
    case 'cpu':
      return initCpu(tf)
  }
}

function resolveOverride(opts: LoadTfOptions): { choice: BackendChoice; source: string } | undefined {
  if (opts.prefer) {
    if (!AUTO_ORDER.includes(opts.prefer)) throw new Error(`unknown backend "${opts.prefer}" (expected ${AUTO_ORDER.join(', ')})`)
    return { choice: opts.prefer, source: `prefer: '${opts.prefer}'` }
  }
  const env = process.env.MARSFM_TF_BACKEND?.trim()
  if (env) {
    const choice = ENV_CHOICES[env]
    if (!choice) throw new Error(`MARSFM_TF_BACKEND="${env}" is not one of ${Object.keys(ENV_CHOICES).join(', ')}`)
    return { choice, source: `MARSFM_TF_BACKEND=${env}` }
  }
  return undefined
}

/**
 * Loads tfjs-core and activates the best available backend (or exactly the requested one).
 * Automatic order: WebGPU on a hardware adapter, tfjs-node-gpu, tfjs-node, wasm (SIMD), cpu. An explicit choice (`opts.prefer`
 * or MARSFM_TF_BACKEND) never falls back: it throws with the reason.
 */
export async function loadTf(opts: LoadTfOptions = {}): Promise<LoadedTf> {
  const tf = (await import('@tensorflow/tfjs-core')) as Tf
  const override = resolveOverride(opts)
  const order = override ? [override.choice] : AUTO_ORDER
  const tried: TriedBackend[] = []
  for (const choice of order) {
    try {
      const got = await init(tf, choice, override !== undefined)
      registerMissingGradients(tf)
      tried.push({ backend: choice })
      return {
        tf,
        backend: got.backend,
        device: got.device,
        versions: { 'tfjs-core': tf.version_core, ...got.versions },
        tried,
        ...(got.gpu ? { gpu: got.gpu } : {})
      }
    } catch (e) {
      const hint = e instanceof Skipped ? e.hint : HINTS[choice]
      tried.push({ backend: choice, error: errorText(e), ...(hint ? { hint } : {}) })
      if (override) throw new Error(`TensorFlow.js backend '${choice}' (${override.source}) is unavailable: ${errorText(e)}`)
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${tried.map((t) => `${t.backend}: ${t.error}`).join('; ')}`)
}

// The one module that owns Dawn (the `webgpu` package, Dawn's Node bindings): it installs
// `navigator.gpu` once per process, asks for an adapter, and describes it — vendor, native API,
// whether it is a software rasteriser, the limits and features that decide what fits and what runs
// fast. TensorFlow.js's WebGPU backend, ONNX Runtime's device choice and `marsfm info` all read this.
// Dawn is loaded on first use, so importing this module never touches the native binding.

import { createRequire } from 'node:module'
import type { GpuAdapterInfo } from '@shared/ipc/schemas/system'

const require = createRequire(import.meta.url)

export type { GpuAdapterInfo }
export type NativeApi = GpuAdapterInfo['nativeApi']

export type GpuProbe =
  | { available: true; adapter: GpuAdapterInfo }
  | { available: false; reason: string; hint: string }

interface DawnModule {
  create(flags: string[]): GPU
  globals: Record<string, unknown>
}

let gpuInstance: GPU | undefined
let probeOnce: Promise<GpuProbe> | undefined
let adapterOnce: Promise<GPUAdapter | null> | undefined

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|warp|software|microsoft basic render/i

/** Why a machine has no adapter, and what to do about it, per platform. */
export function noAdapterHint(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'linux':
      return 'install a GPU driver with Vulkan support (NVIDIA: the proprietary driver, which ships its Vulkan ICD; AMD/Intel: Mesa with mesa-vulkan-drivers), then check with `vulkaninfo --summary`'
    case 'darwin':
      return 'WebGPU uses Metal, which every Mac since 2012 has; update macOS if no adapter is found'
    case 'win32':
      return 'WebGPU uses Direct3D 12: install the current driver from your GPU vendor'
    default:
      return `WebGPU through Dawn is not built for ${platform}`
  }
}

function nativeApiFor(platform: NodeJS.Platform): NativeApi {
  if (platform === 'linux') return 'Vulkan'
  if (platform === 'darwin') return 'Metal'
  if (platform === 'win32') return 'D3D12'
  return 'unknown'
}

/**
 * Loads Dawn and installs `navigator.gpu` (and the WebGPU constants such as GPUBufferUsage) on
 * globalThis, as a browser has them: TensorFlow.js's WebGPU backend reads both. Idempotent.
 */
export function installNavigatorGpu(): GPU {
  if (gpuInstance) return gpuInstance
  let dawn: DawnModule
  try {
    dawn = require('webgpu') as DawnModule
  } catch (e) {
    throw new Error(`the webgpu package (Dawn) failed to load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`)
  }
  Object.assign(globalThis, dawn.globals)
  const gpu = dawn.create([])
  const nav = ((globalThis as { navigator?: object }).navigator ?? {}) as { gpu?: GPU }
  if (!('navigator' in globalThis) || (globalThis as { navigator?: object }).navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true })
  }
  Object.defineProperty((globalThis as unknown as { navigator: object }).navigator, 'gpu', { value: gpu, configurable: true })
  gpuInstance = gpu
  return gpu
}

/** The adapter this process uses (high-performance preference), or null when there is none. */
export function requestAdapter(): Promise<GPUAdapter | null> {
  adapterOnce ??= (async () => installNavigatorGpu().requestAdapter({ powerPreference: 'high-performance' }))()
  return adapterOnce
}

export function describeAdapter(adapter: GPUAdapter, platform: NodeJS.Platform = process.platform): GpuAdapterInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`
  const software = info.isFallbackAdapter === true || info.architecture === 'software' || SOFTWARE_NAMES.test(text)
  const l = adapter.limits
  const f = adapter.features
  let dawn = 'unknown'
  try {
    dawn = (require('webgpu/package.json') as { version: string }).version
  } catch {
    // the package's exports map may hide package.json; the version is informative only
  }
  return {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description: info.description || '',
    nativeApi: nativeApiFor(platform),
    software,
    limits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup
    },
    features: { shaderF16: f.has('shader-f16'), subgroups: f.has('subgroups'), timestampQuery: f.has('timestamp-query') },
    dawn
  }
}

/** Finds the WebGPU adapter once per process and describes it, or says why there is none. Never throws. */
export function probeWebGpu(): Promise<GpuProbe> {
  probeOnce ??= (async (): Promise<GpuProbe> => {
    try {
      const adapter = await requestAdapter()
      if (!adapter) return { available: false, reason: 'no WebGPU adapter was found', hint: noAdapterHint() }
      return { available: true, adapter: describeAdapter(adapter) }
    } catch (e) {
      return { available: false, reason: e instanceof Error ? e.message.split('\n')[0]! : String(e), hint: noAdapterHint() }
    }
  })()
  return probeOnce
}

/** One line for logs and the CLI: "NVIDIA Hopper (Vulkan)" or "llvmpipe … (Vulkan, software)". */
export function adapterLabel(a: GpuAdapterInfo): string {
  const name = a.description || `${a.vendor} ${a.architecture}`.trim()
  return `${name} (${a.nativeApi}${a.software ? ', software' : ''})`
}

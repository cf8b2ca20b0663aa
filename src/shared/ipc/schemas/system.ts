// Schemas for the System view and `marsfm info`: what the workstation is running on.
import { z } from 'zod'

export const EngineState = z.enum(['starting', 'ready', 'crashed', 'restarting', 'stopped'])

/** A WebGPU adapter as Dawn describes it (src/engine/gpu/adapter.ts). */
export const GpuAdapterInfo = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  nativeApi: z.enum(['Vulkan', 'Metal', 'D3D12', 'OpenGL', 'unknown']),
  software: z.boolean(),
  limits: z.object({
    maxBufferSize: z.number(),
    maxStorageBufferBindingSize: z.number(),
    maxComputeWorkgroupStorageSize: z.number(),
    maxComputeInvocationsPerWorkgroup: z.number()
  }),
  features: z.object({ shaderF16: z.boolean(), subgroups: z.boolean(), timestampQuery: z.boolean() }),
  dawn: z.string()
})
export type GpuAdapterInfo = z.infer<typeof GpuAdapterInfo>

export const EngineStatus = z.object({
  state: EngineState,
  pid: z.number().int().nullable(),
  backend: z.string().nullable(),
  device: z.string().nullable(),
  versions: z.record(z.string(), z.string()),
  triedBackends: z.array(z.object({ backend: z.string(), error: z.string().optional(), hint: z.string().optional() })),
  /** The WebGPU adapter found (used when backend is webgpu), or null. */
  gpu: GpuAdapterInfo.nullable(),
  restarts: z.number().int(),
  lastExit: z.string().nullable(),
  /** The last fault that broke the engine (wasm out of memory, GPU device lost) and when; it was restarted. */
  lastFault: z.object({ reason: z.string(), at: z.string() }).nullable(),
  since: z.string()
})
export type EngineStatus = z.infer<typeof EngineStatus>

export const SystemInfo = z.object({
  appVersion: z.string(),
  mode: z.enum(['desktop', 'web', 'cli']),
  platform: z.string(),
  arch: z.string(),
  cpus: z.number().int(),
  memoryBytes: z.number(),
  versions: z.record(z.string(), z.string()),
  engine: EngineStatus,
  onnxruntime: z.object({
    version: z.string(),
    executionProviders: z.array(z.string()),
    cuda: z.boolean(),
    /** The binding bundles the WebGPU execution provider (`--device webgpu`). */
    webgpu: z.boolean()
  }),
  dataDir: z.string(),
  ledger: z.object({ path: z.string(), sizeBytes: z.number(), schemaVersion: z.number().int() })
})
export type SystemInfo = z.infer<typeof SystemInfo>

export const LogLine = z.object({
  at: z.string(),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  source: z.string(),
  message: z.string()
})
export type LogLine = z.infer<typeof LogLine>

/** Which TensorFlow.js backend the engine loads: 'auto' picks the best present. */
export const TfBackendChoice = z.enum(['auto', 'webgpu', 'node-gpu', 'node', 'wasm', 'cpu'])
export type TfBackendChoice = z.infer<typeof TfBackendChoice>

export const EngineSettings = z.object({
  tfBackend: TfBackendChoice,
  /** Set when MARSFM_TF_BACKEND is in the environment: it wins over the saved setting. */
  envOverride: z.string().nullable()
})
export type EngineSettings = z.infer<typeof EngineSettings>

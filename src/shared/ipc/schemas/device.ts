// Where ONNX Runtime runs a study's or an inference job's graph. 'auto' = CUDA when its provider is
// installed, else WebGPU on a hardware adapter, else the CPU; an explicit GPU choice fails with the
// reason instead of falling back. TensorFlow.js runs ignore it (the engine's backend decides).
import { z } from 'zod'

export const ComputeDevice = z.enum(['auto', 'cpu', 'webgpu', 'cuda'])
export type ComputeDevice = z.infer<typeof ComputeDevice>

/** fp16: float16 weights and arithmetic (WebGPU with shader-f16; classifier graphs only). */
export const OrtPrecision = z.enum(['fp32', 'fp16'])
export type OrtPrecision = z.infer<typeof OrtPrecision>

/** What a job reports about where it ran; `requested` and `fallback` are absent on older records. */
export const BackendUsedFields = {
  device: z.string(),
  notes: z.array(z.string()),
  /** The device asked for. */
  requested: ComputeDevice.optional(),
  /** Why 'auto' did not get a GPU. */
  fallback: z.string().optional(),
  /** ONNX Runtime's graph precision (absent: fp32). */
  precision: OrtPrecision.optional()
}

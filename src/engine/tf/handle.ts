// The TensorFlow.js namespace type (`Tf`, the one definition every engine module uses) and the
// instance the engine loaded, with the backend it ended up on.
import type * as tfc from '@tensorflow/tfjs-core'
import type { GpuAdapterInfo } from '../gpu/adapter'

export type Tf = typeof tfc

export interface TfHandle {
  tf: typeof tfc
  backend: string
  device: string
  versions: Record<string, string>
  tried: { backend: string; error?: string; hint?: string }[]
  /** The WebGPU adapter, when the backend is webgpu. */
  gpu?: GpuAdapterInfo
}

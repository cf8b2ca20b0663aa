// The TensorFlow.js instance the engine loaded, with the backend it ended up on.
import type * as tfc from '@tensorflow/tfjs-core'

export interface TfHandle {
  tf: typeof tfc
  backend: string
  device: string
  versions: Record<string, string>
  tried: { backend: string; error?: string }[]
}

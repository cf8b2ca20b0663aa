// `--device` for the commands that run ONNX Runtime graphs (reconstruct, infer).
import { ComputeDevice } from '@shared/ipc/schemas/device'
import { UsageError } from './command'

/** The ORT device; a GPU with `--backend tfjs` is refused (TensorFlow.js picks its own backend). */
export function parseDevice(value: string | undefined, tfjs: boolean): ComputeDevice {
  if (value === undefined) return 'auto'
  const parsed = ComputeDevice.safeParse(value)
  if (!parsed.success) throw new UsageError(`--device must be auto, cpu, webgpu or cuda (got "${value}")`)
  if (tfjs && parsed.data !== 'auto') {
    throw new UsageError('--device chooses where ONNX Runtime runs; with --backend tfjs the engine\'s TensorFlow.js backend decides (MARSFM_TF_BACKEND=webgpu for WebGPU)')
  }
  return parsed.data
}

// What this installation of ONNX Runtime offers, for the System view and `marsfm info`.
import { listExecutionProviders, ortVersion } from './runtime'

export function onnxRuntimeInfo(): { version: string; executionProviders: string[]; cuda: boolean; webgpu: boolean } {
  const eps = listExecutionProviders()
  // 'cpu' always works; CUDA counts only when its provider library was installed (see README);
  // WebGPU when the binding bundles it (whether an adapter exists is the GPU probe's business).
  const available = ['cpu', ...(eps.cuda.installed ? ['cuda'] : []), ...(eps.webgpu.supported ? ['webgpu'] : [])]
  return { version: ortVersion(), executionProviders: available, cuda: eps.cuda.installed, webgpu: eps.webgpu.supported }
}

// What this installation of ONNX Runtime offers, for the System view and `marsfm info`.
import { listExecutionProviders, ortVersion } from './runtime'

export function onnxRuntimeInfo(): { version: string; executionProviders: string[]; cuda: boolean } {
  const eps = listExecutionProviders()
  // 'cpu' always works; CUDA counts only when its provider library was installed (see README).
  const available = ['cpu', ...(eps.cuda.installed ? ['cuda'] : [])]
  return { version: ortVersion(), executionProviders: available, cuda: eps.cuda.installed }
}

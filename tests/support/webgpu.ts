// Which TensorFlow.js backends a parity test runs on: cpu / wasm always, and webgpu wherever Dawn
// finds an adapter (lavapipe here and in CI, whose .ci/run installs Mesa from bookworm-backports).
// A machine with no adapter at all skips the webgpu cases and says why, once.
import { probeWebGpu } from '@engine/gpu/adapter'

const probe = await probeWebGpu()

export const webgpuAvailable = probe.available
export const webgpuSkipReason = probe.available ? '' : `no WebGPU adapter (${probe.reason}); ${probe.hint}`
if (!probe.available) console.warn(`webgpu test cases skipped: ${webgpuSkipReason}`)

/** `base` plus 'webgpu' when an adapter exists. */
export function withWebGpu<T extends string>(base: readonly T[]): (T | 'webgpu')[] {
  return webgpuAvailable ? [...base, 'webgpu'] : [...base]
}

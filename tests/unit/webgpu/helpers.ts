// Shared setup of the WebGPU kernel tests: the adapter probe (skip only when there is no adapter at
// all; a software one such as lavapipe runs them), backend switching, comparisons.
import type { Tensor } from '@tensorflow/tfjs-core'
import { probeWebGpu } from '@engine/gpu/adapter'
import { loadTf, type Tf } from '@engine/tf/backend'
import { setFusedWebGpuKernels } from '@engine/tf/webgpu-kernels'

export const probe = await probeWebGpu()
export const noAdapter = !probe.available
if (!probe.available) console.warn(`WebGPU kernel tests skipped: no adapter (${probe.reason}; ${probe.hint})`)

export async function webgpuTf(): Promise<Tf> {
  return (await loadTf({ prefer: 'webgpu' })).tf
}

/** Runs `fn` with the fused kernels on or off, restoring them on. */
export function withFused<T>(on: boolean, fn: () => T): T {
  setFusedWebGpuKernels(on)
  try {
    return fn()
  } finally {
    setFusedWebGpuKernels(true)
  }
}

/** Runs `fn` on another backend (e.g. cpu) and comes back to WebGPU. */
export async function onBackend<T>(tf: Tf, name: 'cpu' | 'webgpu', fn: () => T | Promise<T>): Promise<T> {
  const before = tf.getBackend()
  if (name === 'cpu') await loadTf({ prefer: 'cpu' })
  else await tf.setBackend(name)
  try {
    return await fn()
  } finally {
    await tf.setBackend(before)
  }
}

/**
 * Reads tensors and disposes them. Asynchronously: tfjs-backend-webgpu's dataSync needs
 * OffscreenCanvas, which Node does not have.
 */
export async function read(ts: Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>))
  for (const t of ts) t.dispose()
  return out
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : Math.max(m, d)
  }
  return m
}

/** Seeded uniform values in [lo, hi) (xorshift; the tests need no particular distribution). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo)
  }
  return out
}

/** Largest |a - b| relative to max(1, max |b|): absolute for O(1) values, relative for large sums. */
export function scaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!))
  return maxAbsDiff(a, b) / scale
}

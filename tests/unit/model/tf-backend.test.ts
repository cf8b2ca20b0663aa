// loadTf: explicit choices, the MARSFM_TF_BACKEND override, automatic fallback from the (absent here)
// tfjs-node packages to wasm, and explicit overrides that fail loudly.

import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import { loadTf } from '@engine/tf/backend'

const require = createRequire(import.meta.url)
const installed = (pkg: string): boolean => {
  try {
    require.resolve(pkg)
    return true
  } catch {
    return false
  }
}
const hasNode = installed('@tensorflow/tfjs-node')
const hasNodeGpu = installed('@tensorflow/tfjs-node-gpu')

describe('loadTf', () => {
  const saved = process.env.MARSFM_TF_BACKEND
  afterEach(() => {
    if (saved === undefined) delete process.env.MARSFM_TF_BACKEND
    else process.env.MARSFM_TF_BACKEND = saved
  })

  it('prefer cpu', async () => {
    const r = await loadTf({ prefer: 'cpu' })
    expect(r.backend).toBe('cpu')
    expect(r.device).toBe('CPU (JavaScript)')
    expect(r.tf.getBackend()).toBe('cpu')
    expect(r.versions['tfjs-core']).toBe('4.22.0')
    expect(r.versions['tfjs-backend-cpu']).toBe('4.22.0')
    expect(r.tried).toEqual([{ backend: 'cpu' }])
    expect(r.tf.getGradient('Add')).toBeDefined()
  })

  it('prefer wasm (SIMD)', async () => {
    const r = await loadTf({ prefer: 'wasm' })
    expect(r.backend).toBe('wasm')
    expect(r.device).toBe('CPU (WebAssembly SIMD)')
    expect(r.versions['tfjs-backend-wasm']).toBe('4.22.0')
    expect(r.tf.tidy(() => Array.from(r.tf.matMul(r.tf.tensor2d([[1, 2]]), r.tf.tensor2d([[3], [4]])).dataSync()))).toEqual([11])
  })

  it('MARSFM_TF_BACKEND picks the backend; prefer wins over it', async () => {
    process.env.MARSFM_TF_BACKEND = 'cpu'
    expect((await loadTf()).backend).toBe('cpu')
    process.env.MARSFM_TF_BACKEND = 'wasm'
    expect((await loadTf()).backend).toBe('wasm')
    expect((await loadTf({ prefer: 'cpu' })).backend).toBe('cpu')
  })

  it('rejects unknown MARSFM_TF_BACKEND values', async () => {
    process.env.MARSFM_TF_BACKEND = 'gpu'
    await expect(loadTf()).rejects.toThrow('MARSFM_TF_BACKEND="gpu" is not one of node-gpu, node, wasm, cpu')
  })

  it.skipIf(hasNode)('an explicit tfjs-node choice fails with the reason instead of falling back', async () => {
    await expect(loadTf({ prefer: 'tensorflow' })).rejects.toThrow(/backend 'tensorflow' \(prefer: 'tensorflow'\) is unavailable: @tensorflow\/tfjs-node is not installed/)
    process.env.MARSFM_TF_BACKEND = 'node'
    await expect(loadTf()).rejects.toThrow(/MARSFM_TF_BACKEND=node\) is unavailable/)
  })

  it.skipIf(hasNode || hasNodeGpu)('automatic order falls back past the missing tfjs-node packages to wasm', async () => {
    delete process.env.MARSFM_TF_BACKEND
    const r = await loadTf()
    expect(r.backend).toBe('wasm')
    expect(r.tried.map((t) => t.backend)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm'])
    expect(r.tried[0]!.error).toMatch(/tfjs-node-gpu is not installed/)
    expect(r.tried[2]!.error).toBeUndefined()
  })
})

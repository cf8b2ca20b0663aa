// loadTf: explicit choices, the MARSFM_TF_BACKEND override, automatic fallback past a software WebGPU
// adapter and the (absent here) tfjs-node packages to wasm, explicit overrides that fail loudly, and
// an explicit webgpu choice on whatever adapter exists.

import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import { loadTf } from '@engine/tf/backend'
import { probeWebGpu } from '@engine/gpu/adapter'

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
const gpu = await probeWebGpu()

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
    await expect(loadTf()).rejects.toThrow('MARSFM_TF_BACKEND="gpu" is not one of webgpu, node-gpu, node, wasm, cpu')
  })

  it.skipIf(hasNode)('an explicit tfjs-node choice fails with the reason instead of falling back', async () => {
    await expect(loadTf({ prefer: 'tensorflow' })).rejects.toThrow(/backend 'tensorflow' \(prefer: 'tensorflow'\) is unavailable: @tensorflow\/tfjs-node is not installed/)
    process.env.MARSFM_TF_BACKEND = 'node'
    await expect(loadTf()).rejects.toThrow(/MARSFM_TF_BACKEND=node\) is unavailable/)
  })

  it.skipIf(hasNode || hasNodeGpu || (gpu.available && !gpu.adapter.software))(
    'automatic order: a software WebGPU adapter is skipped, then the missing tfjs-node packages, down to wasm',
    async () => {
      delete process.env.MARSFM_TF_BACKEND
      const r = await loadTf()
      expect(r.backend).toBe('wasm')
      expect(r.tried.map((t) => t.backend)).toEqual(['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm'])
      // Here (lavapipe) the adapter is software: never picked automatically, and it says how to force it.
      if (gpu.available) {
        expect(r.tried[0]!.error).toMatch(/only a software adapter was found \(.*software\)\); it is never picked automatically/)
        expect(r.tried[0]!.hint).toMatch(/MARSFM_TF_BACKEND=webgpu/)
      } else expect(r.tried[0]!.hint).toBeTruthy()
      expect(r.tried[1]!.error).toMatch(/tfjs-node-gpu is not installed/)
      expect(r.tried[1]!.hint).toMatch(/CUDA 11\.2 and cuDNN 8\.1/)
      expect(r.tried[3]!.error).toBeUndefined()
      expect(r.gpu).toBeUndefined()
    }
  )

  it.skipIf(!gpu.available)('an explicit webgpu choice runs on whatever adapter exists (lavapipe here) and describes it', async () => {
    const r = await loadTf({ prefer: 'webgpu' })
    expect(r.backend).toBe('webgpu')
    expect(r.tf.getBackend()).toBe('webgpu')
    expect(r.tried).toEqual([{ backend: 'webgpu' }])
    expect(r.device).toMatch(/^GPU \(WebGPU, .+\)$/)
    expect(r.versions['tfjs-backend-webgpu']).toBe('4.22.0')
    expect(r.gpu!.nativeApi).toBe(process.platform === 'linux' ? 'Vulkan' : process.platform === 'darwin' ? 'Metal' : 'D3D12')
    expect(r.gpu!.limits.maxBufferSize).toBeGreaterThan(0)
    expect(r.gpu!.limits.maxStorageBufferBindingSize).toBeGreaterThan(0)
    expect(typeof r.gpu!.features.shaderF16).toBe('boolean')
    const product = r.tf.matMul(r.tf.tensor2d([[1, 2]]), r.tf.tensor2d([[3], [4]]))
    expect(Array.from(await product.data())).toEqual([11])
    product.dispose()
    process.env.MARSFM_TF_BACKEND = 'webgpu'
    expect((await loadTf()).backend).toBe('webgpu')
  })
})

// runtime.ts against the real onnxruntime-node: providers, device selection with CUDA fallback,
// runs with plain typed arrays, and release.

import { describe, expect, it } from 'vitest'
import { GraphBuilder } from '@engine/onnx/graph-builder'
import { DEFAULT_OPSET, IR_VERSION, encodeModelBytes } from '@engine/onnx/onnx-proto'
import { createSession, listExecutionProviders, ortVersion, run } from '@engine/onnx/runtime'

/** y = x * 2 + 1 on [N, 3], plus s = sum(x) as a scalar. */
function smallModel(): Uint8Array {
  const b = new GraphBuilder('small')
  const x = b.input('x', 'float32', ['N', 3])
  b.output('y', b.op('Add', [b.op('Mul', [x, b.f32(2)]), b.f32(1)]), 'float32', ['N', 3])
  b.output('s', b.op('ReduceSum', [x], { keepdims: 0 }), 'float32', [])
  return encodeModelBytes({ irVersion: IR_VERSION, opsetImport: [{ domain: '', version: DEFAULT_OPSET }], graph: b.build() })
}

describe('onnxruntime-node', () => {
  it('reports its version and execution providers', () => {
    expect(ortVersion()).toMatch(/^\d+\.\d+\.\d+/)
    const eps = listExecutionProviders()
    expect(eps.backends.map((b) => b.name)).toContain('cpu')
    expect(typeof eps.cuda.supported).toBe('boolean')
    if (!eps.cuda.supported) expect(eps.cuda.installed).toBe(false)
  })

  it('runs on the CPU and returns Float32Arrays with shapes', async () => {
    const s = await createSession(smallModel(), { device: 'cpu', intraOpThreads: 1 })
    expect(s.device).toBe('cpu')
    expect(s.executionProviders).toEqual(['cpu'])
    expect(s.fallbackReason).toBeUndefined()
    expect(s.inputNames).toEqual(['x'])
    expect(s.outputNames).toEqual(['y', 's'])
    const out = await run(s, { x: { data: Float32Array.from([1, 2, 3, -1, 0, 1]), shape: [2, 3] } })
    expect(out.y.shape).toEqual([2, 3])
    expect(out.y.data).toBeInstanceOf(Float32Array)
    expect(Array.from(out.y.data)).toEqual([3, 5, 7, -1, 1, 3])
    expect(out.s.shape).toEqual([])
    expect(out.s.data[0]).toBe(6)
    const onlyS = await run(s, { x: { data: new Float32Array(3), shape: [1, 3] } }, ['s'])
    expect(Object.keys(onlyS)).toEqual(['s'])
    await s.release()
    await s.release() // idempotent
  })

  it('checks feed sizes against shapes', async () => {
    const s = await createSession(smallModel(), { device: 'cpu' })
    await expect(run(s, { x: { data: new Float32Array(4), shape: [2, 3] } })).rejects.toThrow(/needs 6 values/)
    await s.release()
  })

  it("'auto' uses CUDA when it can, else WebGPU on a hardware adapter, else CPU with the reasons recorded", async () => {
    const s = await createSession(smallModel(), { device: 'auto' })
    if (s.device === 'cpu') {
      expect(s.fallbackReason).toMatch(/CUDA/)
      expect(s.fallbackReason).toMatch(/WebGPU/)
      expect(s.executionProviders).toEqual(['cpu'])
    } else if (s.device === 'webgpu') {
      expect(s.executionProviders).toEqual(['webgpu', 'cpu'])
      expect(s.adapter).not.toMatch(/software/)
    } else {
      expect(s.executionProviders).toEqual(['cuda', 'cpu'])
    }
    const out = await run(s, { x: { data: Float32Array.from([1, 1, 1]), shape: [1, 3] } })
    expect(Array.from(out.y.data)).toEqual([3, 3, 3])
    await s.release()
  })

  it.runIf(!listExecutionProviders().cuda.installed)("'cuda' fails loudly where CUDA is not installed", async () => {
    await expect(createSession(smallModel(), { device: 'cuda' })).rejects.toThrow(/device 'cuda' unavailable/)
  })
})

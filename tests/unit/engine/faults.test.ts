// Which errors the engine treats as a fault of its backend (and then restarts): Emscripten's abort,
// a view past the wasm heap, the typed errors; an ordinary error is not one until a fault has been
// seen, after which every error of that process is (the module stays broken).
import { describe, expect, it } from 'vitest'
import { currentFault, EngineFaultError, faultOf, onFault, throwIfFaulted, WasmOutOfMemoryError } from '@engine/faults'

describe('faultOf', () => {
  it('an ordinary error is no fault while none has been seen', () => {
    expect(faultOf(new Error('the engine has no method "x"'))).toBeNull()
    expect(faultOf(new RangeError('offset is out of bounds'))).toBeNull() // no wasm heap watched here
    expect(() => throwIfFaulted()).not.toThrow()
    expect(currentFault()).toBeNull()
  })

  it('a typed fault keeps its kind without recording anything', () => {
    const f = { kind: 'gpu-lost' as const, detail: 'the GPU device was lost (destroyed)' }
    expect(faultOf(new EngineFaultError('x', f))).toBe(f)
    expect(faultOf(new WasmOutOfMemoryError('a 1 GB tensor did not fit'))).toEqual({ kind: 'wasm-memory', detail: 'a 1 GB tensor did not fit' })
    expect(currentFault()).toBeNull()
  })

  it("Emscripten's abort is recorded once; from then on every error is that fault", () => {
    const seen: string[] = []
    onFault((f) => seen.push(f.kind))
    const abort = new Error('Aborted(). Build with -sASSERTIONS for more info.')
    const fault = faultOf(abort)
    expect(fault).toEqual({ kind: 'wasm-abort', detail: 'the WebAssembly module aborted (Aborted()), most likely out of memory' })
    expect(seen).toEqual(['wasm-abort'])
    expect(faultOf(new Error('anything else'))).toBe(fault)
    expect(() => throwIfFaulted()).toThrow(EngineFaultError)
    faultOf(new Error('Aborted(OOM)'))
    expect(seen).toEqual(['wasm-abort'])
  })
})

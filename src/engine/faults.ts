// Faults that leave the engine's numerical backend unusable: WebAssembly out of memory (the heap
// cannot grow past 4 GiB: malloc returns 0, tfjs-backend-wasm would go on writing at address 0 and
// the module later aborts, "Aborted(). Build with -sASSERTIONS …"; after an abort every later call
// fails the same way), and on WebGPU a lost device or an out-of-memory error. A faulted engine
// cannot heal itself: the job fails with a plain reason, the engine tells main (`fault`) and exits,
// and the supervisor starts a fresh one.
import type { TfHandle } from './tf/handle'
import { formatBytes, WASM_HEAP_BYTES } from '@shared/training/memory'

export type FaultKind = 'wasm-memory' | 'wasm-abort' | 'gpu-lost' | 'gpu-memory'

export interface Fault {
  kind: FaultKind
  /** What happened, in words (no advice: callers add the run's context). */
  detail: string
}

/** A job stopped by a fault; main restarts the engine. Its message is the plain reason. */
export class EngineFaultError extends Error {
  constructor(
    message: string,
    readonly fault: Fault
  ) {
    super(message)
    this.name = 'EngineFault'
  }
}

/** Thrown at the allocation that does not fit, before tfjs-backend-wasm can write to address 0. */
export class WasmOutOfMemoryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WasmOutOfMemory'
  }
}

let recorded: Fault | null = null
const listeners: ((fault: Fault) => void)[] = []

function record(fault: Fault): void {
  if (recorded) return
  recorded = fault
  for (const l of listeners) l(fault)
}

/** The first fault seen in this process, if any. */
export function currentFault(): Fault | null {
  return recorded
}

/** Called once with the first fault (the engine reports it and exits). */
export function onFault(listener: (fault: Fault) => void): void {
  listeners.push(listener)
}

/** Throws EngineFaultError when the backend has faulted (checked between training steps). */
export function throwIfFaulted(): void {
  if (recorded) throw new EngineFaultError(recorded.detail, recorded)
}

const ABORT = /^Aborted\(/
const OUT_OF_HEAP = /offset is out of bounds|invalid typed array length/i

/** The fault behind `err` (or one recorded meanwhile, e.g. a lost device), or null for an ordinary error. */
export function faultOf(err: unknown): Fault | null {
  if (err instanceof EngineFaultError) return err.fault
  if (err instanceof WasmOutOfMemoryError) return recorded ?? { kind: 'wasm-memory', detail: err.message }
  const message = err instanceof Error ? err.message : String(err)
  if (rawMalloc && err instanceof RangeError && OUT_OF_HEAP.test(message)) {
    // A view past the heap's end: an allocation that did not really fit got through.
    record({ kind: 'wasm-memory', detail: `a tensor did not fit in WebAssembly memory (${message})` })
    return recorded
  }
  if (ABORT.test(message)) {
    // Emscripten's abort(): the module is dead; the usual cause is an allocation inside C++ code.
    const fault: Fault = { kind: 'wasm-abort', detail: `the WebAssembly module aborted (${message.split('.')[0]}), most likely out of memory` }
    record(fault)
    return recorded
  }
  return recorded
}

interface WasmModule {
  _malloc(bytes: number): number
  HEAPU8: Uint8Array
}

let rawMalloc: ((bytes: number) => number) | null = null
let wasmModule: WasmModule | null = null

/** Watches the backend for faults: wasm allocations that fail, a WebGPU device lost or out of memory. */
export function installFaultWatch(handle: TfHandle): void {
  const backend = handle.tf.backend() as unknown as { wasm?: WasmModule; device?: GPUDevice }
  if (handle.backend === 'wasm' && backend.wasm && !rawMalloc) {
    const wasm = backend.wasm
    const malloc = wasm._malloc.bind(wasm)
    rawMalloc = malloc
    wasmModule = wasm
    wasm._malloc = (bytes: number) => {
      const at = malloc(bytes)
      // Near the 4 GiB top, the allocator's 32-bit arithmetic can also wrap and hand out an address
      // past the heap's end (tfjs then fails with "offset is out of bounds"): the same fault.
      if (bytes > 0 && (at === 0 || (at >>> 0) + bytes > wasm.HEAPU8.buffer.byteLength)) {
        const heap = wasm.HEAPU8.buffer.byteLength
        const detail = `a ${formatBytes(bytes)} tensor did not fit in WebAssembly memory (the heap holds ${formatBytes(heap)} of its ${formatBytes(WASM_HEAP_BYTES)})`
        record({ kind: 'wasm-memory', detail })
        throw new WasmOutOfMemoryError(detail)
      }
      return at
    }
  }
  if (handle.backend === 'webgpu' && backend.device) {
    const device = backend.device
    void device.lost.then((info) => record({ kind: 'gpu-lost', detail: `the GPU device was lost (${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''})` }))
    const onError = (event: Event) => {
      const error = (event as GPUUncapturedErrorEvent).error
      if (error && error.constructor?.name === 'GPUOutOfMemoryError') record({ kind: 'gpu-memory', detail: `the GPU ran out of memory (${error.message})` })
    }
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError)
    else (device as { onuncapturederror: ((e: Event) => void) | null }).onuncapturederror = onError
  }
}

/** Test-only faults (MARSFM_TEST_FAULTS=1): fill the wasm heap, or destroy the WebGPU device. */
export function provokeFault(handle: TfHandle, kind: string): { heapBytes?: number; held?: number } {
  if (process.env.MARSFM_TEST_FAULTS !== '1') throw new Error('test faults are off (set MARSFM_TEST_FAULTS=1 in the engine environment)')
  if (kind === 'wasm-fill') {
    if (!rawMalloc || !wasmModule) throw new Error(`the engine runs on ${handle.backend}, not wasm`)
    // Take every free byte with the unwatched malloc (uninitialised, so nearly no RSS): the next
    // tensor any job allocates does not fit, as when a real step outgrows the heap.
    let held = 0
    for (let size = 256 * 2 ** 20; size >= 4096; ) {
      const at = rawMalloc(size)
      if (at === 0 || (at >>> 0) + size > wasmModule.HEAPU8.buffer.byteLength) size = Math.floor(size / 2)
      else held += size
    }
    return { heapBytes: wasmModule.HEAPU8.buffer.byteLength, held }
  }
  if (kind === 'gpu-destroy') {
    const device = (handle.tf.backend() as unknown as { device?: GPUDevice }).device
    if (!device) throw new Error(`the engine runs on ${handle.backend}, not webgpu`)
    device.destroy()
    return {}
  }
  throw new Error(`unknown test fault "${kind}" (wasm-fill, gpu-destroy)`)
}

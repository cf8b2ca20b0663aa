// Replacements for a few tfjs-backend-wasm 4.22 kernels whose stock versions copy far more than they
// return. Each produces exactly the stock kernel's result (same bytes); only copies change.
//   Identity: shares its input's buffer (reference count, as the cpu backend and wasm's Reshape do)
//     instead of copying it. The gradient tape saves every tensor it needs for backprop through
//     Identity (engine.clone), so the stock kernel duplicated every saved activation and every linear
//     weight (~345 MB for Prithvi-100M) for the whole forward + backward pass. tfjs tensors are
//     immutable (Variable.assign swaps buffers), so a shared buffer is never written through.
//   Slice / Unpack / SplitV: the stock Slice reads its whole input into a JavaScript copy
//     (backend.readSync) for every slice it cuts, so unstacking [48, S, hd] into 48 heads copied the
//     input 48 times (~3 s of a Prithvi-100M training step). Here slices are copied straight from a
//     view of the wasm heap; slices with short contiguous runs still go to the stock kernel.

import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core'
import type { Tf } from './handle'

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array
  incRef(dataId: object): void
}

/** Innermost contiguous runs shorter than this go to the stock kernel (a JS loop per run would not pay). */
const MIN_RUN = 32

/** Whether sliceFromHeap handles this slice (else the stock kernel: strings, short strided runs). */
function heapSliceable(tf: Tf, x: TensorInfo, begin: number[], size: number[]): boolean {
  if (x.dtype === 'string') return false
  return tf.slice_util.isSliceContinous(x.shape, begin, size) || size[size.length - 1]! >= MIN_RUN
}

/** Copies x[begin : begin + size] out of the wasm heap; `begin` / `size` are resolved (no -1). */
function sliceFromHeap(tf: Tf, backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const rank = x.shape.length
  const out = backend.makeOutput(size, x.dtype)
  const count = tf.util.sizeFromShape(size)
  if (count === 0) return out
  // Views taken after makeOutput: growing the heap detaches older views.
  const src = backend.typedArrayFromHeap(x)
  const dst = backend.typedArrayFromHeap(out)
  const strides = tf.util.computeStrides(x.shape)
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides)
    dst.set(src.subarray(offset, offset + count))
    return out
  }
  const run = size[rank - 1]!
  const idx = new Array<number>(rank - 1).fill(0) // position over the outer axes of the slice
  for (let r = 0, n = count / run; r < n; r++) {
    let offset = begin[rank - 1]!
    for (let d = 0; d < rank - 1; d++) offset += (begin[d]! + idx[d]!) * strides[d]!
    dst.set(src.subarray(offset, offset + run), r * run)
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break
      idx[d] = 0
    }
  }
  return out
}

function replace(tf: Tf, kernelName: string, make: (stock: KernelFunc) => KernelFunc): void {
  const stock = tf.getKernel(kernelName, 'wasm') as KernelConfig | undefined
  if (!stock) return
  // Keep the original across repeated loadTf calls (registering twice would wrap our own kernel).
  const original = (stock as KernelConfig & { stockKernelFunc?: KernelFunc }).stockKernelFunc ?? stock.kernelFunc
  tf.unregisterKernel(kernelName, 'wasm')
  tf.registerKernel({ ...stock, kernelFunc: make(original), stockKernelFunc: original } as KernelConfig)
}

/** Installs the replacements for the wasm backend (idempotent). */
export function patchWasmKernels(tf: Tf): void {
  replace(tf, 'Identity', (stock) => (args) => {
    const x = args.inputs.x as TensorInfo
    if (x.dtype === 'string') return stock(args)
    ;(args.backend as unknown as WasmBackendLike).incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
  })

  replace(tf, 'Slice', (stock) => (args) => {
    const x = args.inputs.x as TensorInfo
    const attrs = args.attrs as NamedAttrMap
    const [begin, size] = tf.slice_util.parseSliceParams(x as never, attrs.begin as number[], attrs.size as number[])
    if (!heapSliceable(tf, x, begin, size)) return stock(args)
    return sliceFromHeap(tf, args.backend as unknown as WasmBackendLike, x, begin, size)
  })

  replace(tf, 'Unpack', (stock) => (args) => {
    const value = args.inputs.value as TensorInfo
    const rank = value.shape.length
    const rawAxis = (args.attrs as NamedAttrMap).axis as number
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis
    const size = value.shape.slice()
    size[axis] = 1
    if (!heapSliceable(tf, value, new Array<number>(rank).fill(0), size)) return stock(args)
    const outShape = value.shape.filter((_, i) => i !== axis)
    const backend = args.backend as unknown as WasmBackendLike
    return Array.from({ length: value.shape[axis]! }, (_, i) => {
      const begin = new Array<number>(rank).fill(0)
      begin[axis] = i
      const piece = sliceFromHeap(tf, backend, value, begin, size)
      return { dataId: piece.dataId, dtype: piece.dtype, shape: outShape }
    })
  })

  replace(tf, 'SplitV', (stock) => (args) => {
    const x = args.inputs.x as TensorInfo
    const attrs = args.attrs as NamedAttrMap
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!
    const sizes = tf.backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits as number[] | number, axis)
    const pieces = sizes.map((s, i) => {
      const begin = new Array<number>(x.shape.length).fill(0)
      begin[axis] = sizes.slice(0, i).reduce((a, b) => a + b, 0)
      const size = x.shape.slice()
      size[axis] = s
      return { begin, size }
    })
    if (!pieces.every((p) => heapSliceable(tf, x, p.begin, p.size))) return stock(args)
    const backend = args.backend as unknown as WasmBackendLike
    return pieces.map((p) => sliceFromHeap(tf, backend, x, p.begin, p.size))
  })
}

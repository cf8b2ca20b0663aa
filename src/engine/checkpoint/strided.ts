// Turns a strided view (offset, size, stride into a flat storage) into a dense row-major
// Float32Array, the layout every consumer of a WeightMap expects.

import { CheckpointError } from './errors'

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** True when the view is dense row-major (dimensions of size 1 may carry any stride). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue
    if (stride[d] !== expected) return false
    expected *= shape[d]!
  }
  return true
}

/**
 * Copies the view out of `storage`. With `mayAlias`, a view that is exactly the whole storage
 * returns the storage itself (no copy): the common case of one tensor per storage.
 */
export function materialize(
  storage: Float32Array,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
  opts: { name: string; mayAlias: boolean }
): Float32Array {
  const n = numelOf(shape)
  if (n === 0) return new Float32Array(0)
  let last = offset
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!
  if (last >= storage.length) {
    throw new CheckpointError('corrupt', `tensor ${opts.name} reaches element ${last} of a storage with ${storage.length} elements`)
  }
  if (isContiguous(shape, stride)) {
    if (opts.mayAlias && offset === 0 && n === storage.length) return storage
    return storage.slice(offset, offset + n)
  }
  return gather(storage, offset, shape, stride, n)
}

// Walks the outer dimensions like an odometer; the innermost dimension is a tight loop.
function gather(src: Float32Array, offset: number, shape: readonly number[], stride: readonly number[], n: number): Float32Array {
  const out = new Float32Array(n)
  const nd = shape.length
  const inner = shape[nd - 1]!
  const innerStride = stride[nd - 1]!
  const idx = new Array<number>(nd).fill(0)
  let base = offset
  let o = 0
  for (;;) {
    for (let k = 0, p = base; k < inner; k++, p += innerStride) out[o++] = src[p]!
    let d = nd - 2
    for (; d >= 0; d--) {
      idx[d]!++
      base += stride[d]!
      if (idx[d]! < shape[d]!) break
      base -= stride[d]! * shape[d]!
      idx[d] = 0
    }
    if (d < 0) return out
  }
}

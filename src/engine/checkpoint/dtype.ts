// Element types found in checkpoints and their conversion to the float32 our engine computes in.
// Bytes are little-endian (torch zip and safetensors both are); so must the host be.

import { endianness } from 'node:os'
import { CheckpointError } from './errors'

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool'

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1
}

export function isFloatDType(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64'
}

// Typed-array views read in host order; a big-endian host would silently scramble every weight.
const HOST_IS_LE = endianness() === 'LE'

let halfTable: Float32Array | undefined

// All 65536 half-precision values, exactly: a lookup beats bit-twiddling per element.
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable
  const t = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1
    const exp = (h >> 10) & 0x1f
    const mant = h & 0x3ff
    if (exp === 0) t[h] = sign * mant * 2 ** -24
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15)
  }
  halfTable = t
  return t
}

/** A typed view over `bytes` when it is aligned, else over an aligned copy. */
function aligned<T>(bytes: Uint8Array, size: number, make: (buf: ArrayBufferLike, off: number, len: number) => T): T {
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice()
  return make(src.buffer, src.byteOffset, src.byteLength / size)
}

/**
 * Converts raw little-endian element bytes to float32. float32 input is returned as a view
 * over the same memory (no copy) when aligned, so a caller that drops `bytes` keeps one copy.
 */
export function toFloat32(bytes: Uint8Array, dtype: DType): Float32Array {
  if (!HOST_IS_LE) throw new CheckpointError('unsupported-byteorder', 'checkpoint reading needs a little-endian machine')
  const size = DTYPE_BYTES[dtype]
  if (bytes.byteLength % size !== 0) throw new CheckpointError('corrupt', `${bytes.byteLength} bytes is not a whole number of ${dtype} elements`)
  switch (dtype) {
    case 'float32':
      return aligned(bytes, 4, (b, o, n) => new Float32Array(b, o, n))
    case 'float16': {
      const h = aligned(bytes, 2, (b, o, n) => new Uint16Array(b, o, n))
      const table = halfToFloatTable()
      const out = new Float32Array(h.length)
      for (let i = 0; i < h.length; i++) out[i] = table[h[i]!]!
      return out
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32: shift it back into place.
      const h = aligned(bytes, 2, (b, o, n) => new Uint16Array(b, o, n))
      const bits = new Uint32Array(h.length)
      for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16
      return new Float32Array(bits.buffer)
    }
    case 'float64':
      return Float32Array.from(aligned(bytes, 8, (b, o, n) => new Float64Array(b, o, n)))
    case 'int64': {
      const v = aligned(bytes, 8, (b, o, n) => new BigInt64Array(b, o, n))
      const out = new Float32Array(v.length)
      for (let i = 0; i < v.length; i++) out[i] = Number(v[i]!)
      return out
    }
    case 'int32':
      return Float32Array.from(aligned(bytes, 4, (b, o, n) => new Int32Array(b, o, n)))
    case 'int16':
      return Float32Array.from(aligned(bytes, 2, (b, o, n) => new Int16Array(b, o, n)))
    case 'int8':
      return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    case 'uint8':
      return Float32Array.from(bytes)
    case 'bool':
      return Float32Array.from(bytes, (b) => (b ? 1 : 0))
  }
}

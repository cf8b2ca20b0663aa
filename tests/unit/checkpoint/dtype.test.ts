// Element conversion to float32: half and bfloat16 bit patterns, doubles, integers.

import { describe, expect, it } from 'vitest'
import { toFloat32 } from '@engine/checkpoint/dtype'

const u16bytes = (...v: number[]): Uint8Array => new Uint8Array(Uint16Array.from(v).buffer)

describe('toFloat32', () => {
  it('decodes every kind of float16 value exactly', () => {
    const out = toFloat32(u16bytes(0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x3555), 'float16')
    expect(Array.from(out.slice(0, 10))).toEqual([0, -0, 1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity])
    expect(Object.is(out[1], -0)).toBe(true)
    expect(out[10]).toBeNaN()
    expect(out[11]).toBe(Math.fround(0.333251953125))
  })

  it('decodes bfloat16 as the top half of a float32', () => {
    const out = toFloat32(u16bytes(0x3f80, 0xc049, 0x7f80, 0x0001, 0x7fc0), 'bfloat16')
    expect(Array.from(out.slice(0, 4))).toEqual([1, -3.140625, Infinity, 2 ** -133])
    expect(out[4]).toBeNaN()
  })

  it('returns float32 storages without copying, and copies misaligned ones', () => {
    const f = Float32Array.of(1.5, -2, 3.25)
    const bytes = new Uint8Array(f.buffer)
    expect(toFloat32(bytes, 'float32').buffer).toBe(f.buffer)
    const shifted = new Uint8Array(13)
    shifted.set(bytes, 1)
    expect(Array.from(toFloat32(shifted.subarray(1), 'float32'))).toEqual([1.5, -2, 3.25])
  })

  it('rounds doubles and reads integers and booleans as numbers', () => {
    expect(Array.from(toFloat32(new Uint8Array(Float64Array.of(0.1, -1e300).buffer), 'float64'))).toEqual([Math.fround(0.1), -Infinity])
    expect(Array.from(toFloat32(new Uint8Array(BigInt64Array.of(-3n, 1n << 40n).buffer), 'int64'))).toEqual([-3, 2 ** 40])
    expect(Array.from(toFloat32(new Uint8Array(Int32Array.of(-7, 9).buffer), 'int32'))).toEqual([-7, 9])
    expect(Array.from(toFloat32(Uint8Array.of(0xff, 1), 'int8'))).toEqual([-1, 1])
    expect(Array.from(toFloat32(Uint8Array.of(0xff, 1), 'uint8'))).toEqual([255, 1])
    expect(Array.from(toFloat32(Uint8Array.of(0, 1, 1), 'bool'))).toEqual([0, 1, 1])
  })

  it('rejects a byte count that is not whole elements', () => {
    expect(() => toFloat32(new Uint8Array(6), 'float32')).toThrow(expect.objectContaining({ code: 'corrupt' }))
  })
})

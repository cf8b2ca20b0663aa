// float32 → IEEE binary16 conversion for fp16 ONNX exports: the specification's edge values
// (largest finite, overflow, subnormals, ties to even, signed zero, NaN), and for many random
// values the result is the nearest half (decoded independently here), ties to even.
import { describe, expect, it } from 'vitest'
import { toFloat16Bits } from '@engine/onnx/onnx-proto'
import { seededRandom } from '@shared/random'

/** binary16 bits → number, straight from the format's definition. */
function decode(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exp = (bits >> 10) & 0x1f
  const mant = bits & 0x3ff
  if (exp === 0x1f) return mant ? NaN : sign * Infinity
  if (exp === 0) return sign * mant * 2 ** -24
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}

const bits = (v: number) => toFloat16Bits(Float32Array.of(v))[0]!

describe('toFloat16Bits', () => {
  it('encodes the format\'s edge values', () => {
    expect(bits(1)).toBe(0x3c00)
    expect(bits(-2)).toBe(0xc000)
    expect(bits(65504)).toBe(0x7bff) // largest finite
    expect(bits(65519)).toBe(0x7bff) // below the rounding boundary
    expect(bits(65520)).toBe(0x7c00) // rounds to infinity
    expect(bits(Infinity)).toBe(0x7c00)
    expect(bits(-0)).toBe(0x8000)
    expect(bits(2 ** -24)).toBe(0x0001) // smallest subnormal
    expect(bits(2 ** -25)).toBe(0x0000) // a tie: to even (zero)
    expect(bits(2 ** -14)).toBe(0x0400) // smallest normal
    expect(bits(1 + 2 ** -11)).toBe(0x3c00) // a tie between 1 and its successor: to even
    expect(bits(1 + 3 * 2 ** -11)).toBe(0x3c02) // the other tie: up to even
    expect(decode(bits(NaN))).toBeNaN()
  })

  it('gives the nearest half for random values of every magnitude', () => {
    const rand = seededRandom(5)
    const values = Float32Array.from({ length: 20_000 }, () => (rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 28))
    const out = toFloat16Bits(values)
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!
      const h = decode(out[i]!)
      // Neighbours of the chosen half are no closer.
      const up = decode(out[i]! + 1)
      const down = out[i]! & 0x7fff ? decode(out[i]! - 1) : h
      const err = Math.abs(h - x)
      expect(err, `${x}`).toBeLessThanOrEqual(Math.abs(up - x))
      expect(err, `${x}`).toBeLessThanOrEqual(Math.abs(down - x))
    }
  })
})

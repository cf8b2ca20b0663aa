import { describe, expect, it } from 'vitest'
import { mean, meanStd, mse, percentile, psnr, quantileSorted } from '../../../src/shared/stats/descriptive'
import { erfc, normalCdf, normalTwoSidedP } from '../../../src/shared/stats/normal'
import { expected } from '../../fixtures/imputation/expected'

describe('mse and psnr', () => {
  it('hand-checked values', () => {
    expect(mse([1, 2, 3], [1, 4, 0])).toBe(13 / 3)
    // mse 1 on 8-bit data: 10·log10(255²) = 48.1308…
    expect(psnr(Uint8Array.from([10, 20]), Uint8Array.from([11, 19]))).toBeCloseTo(48.13080360867909, 12)
    expect(psnr([0.5, 0.25], [0.5, 0.5], 1)).toBeCloseTo(10 * Math.log10(1 / 0.03125), 12)
    expect(psnr([1, 2], [1, 2])).toBe(Infinity)
  })

  it('rejects mismatched or empty inputs', () => {
    expect(() => mse([1], [1, 2])).toThrow(/length mismatch/)
    expect(() => mse([], [])).toThrow(/empty/)
  })
})

describe('meanStd', () => {
  it('sample and population SD', () => {
    const v = [2, 4, 4, 4, 5, 5, 7, 9]
    expect(meanStd(v, { ddof: 0 })).toEqual({ mean: 5, std: 2, n: 8 })
    expect(meanStd(v).std).toBeCloseTo(Math.sqrt(32 / 7), 14)
    expect(meanStd([3]).std).toBeNaN()
    expect(mean([])).toBeNaN()
  })
})

describe('percentiles', () => {
  it('numpy linear interpolation', () => {
    const p = expected.percentile
    expect(percentile(p.values, 2)).toBeCloseTo(p.p2, 10)
    expect(percentile(p.values, 50)).toBeCloseTo(p.p50, 10)
    expect(percentile(p.values, 98)).toBeCloseTo(p.p98, 10)
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(percentile([NaN, 1, Infinity, 3], 50)).toBe(2)
  })
})

describe('normal tails', () => {
  it.each(expected.erfc)('erfc($x) matches Python math.erfc', ({ x, erfc: ref }) => {
    expect(Math.abs(erfc(x) - ref) / ref).toBeLessThanOrEqual(1e-14) // relative
  })

  it('textbook quantiles', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14)
    expect(normalTwoSidedP(-1.959963984540054)).toBeCloseTo(0.05, 14)
    expect(normalCdf(0)).toBe(0.5)
  })
})

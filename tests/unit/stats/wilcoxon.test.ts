import { describe, expect, it } from 'vitest'
import { exactLowerTail, wilcoxonSignedRank } from '../../../src/shared/stats/wilcoxon'
import { expected } from '../../fixtures/imputation/expected'

describe('wilcoxonSignedRank', () => {
  // References: brute-force enumeration of all sign patterns (exact) or the textbook normal
  // approximation, both computed independently in make_expected.py.
  it.each(expected.wilcoxon)('matches the Python reference ($name, $method)', (c) => {
    const r = wilcoxonSignedRank(c.x, c.y)
    expect(r.method).toBe(c.method)
    expect(r.n).toBe(c.n)
    expect(r.statistic).toBe(c.statistic)
    expect(r.wPlus).toBe(c.wPlus)
    expect(r.wMinus).toBe(c.wMinus)
    expect(r.z).toBeCloseTo(c.z, 12)
    expect(r.pValue).toBeCloseTo(c.pValue, 12)
  })

  it("Darwin's Zea mays data: W = 24, p = 0.041259765625 (scipy.stats.wilcoxon documentation)", () => {
    const d = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
    const r = wilcoxonSignedRank(d, new Array(d.length).fill(0))
    expect(r.statistic).toBe(24)
    expect(r.pValue).toBe(0.041259765625)
  })

  it('drops zero differences (Wilcox method) and reports ties', () => {
    const r = wilcoxonSignedRank([1, 2, 3, 5, 5], [1, 1, 1, 2, 4])
    // d = [0, 1, 2, 3, 1] → zero dropped, |d| = 1,2,3,1 → ranks 1.5, 3, 4, 1.5
    expect(r.zerosDropped).toBe(1)
    expect(r.n).toBe(4)
    expect(r.hasTies).toBe(true)
    expect(r.method).toBe('normal')
    expect(r.wPlus).toBe(10)
    expect(r.statistic).toBe(0)
  })

  it('handles all-zero differences and swapped arguments', () => {
    expect(wilcoxonSignedRank([1, 2], [1, 2])).toMatchObject({ n: 0, pValue: 1, method: 'none' })
    const x = [1.1, 2.3, 0.4, 5.2, 3.3]
    const y = [1.0, 2.0, 0.9, 4.0, 3.0]
    const ab = wilcoxonSignedRank(x, y)
    const ba = wilcoxonSignedRank(y, x)
    expect(ba.pValue).toBe(ab.pValue)
    expect(ba.z).toBe(-ab.z)
    expect(ba.wPlus).toBe(ab.wMinus)
  })

  it('exact null distribution is symmetric and complete', () => {
    expect(exactLowerTail(5, 15)).toBe(1)
    expect(exactLowerTail(5, 0)).toBe(1 / 32)
    // n = 3: W+ ∈ {0,1,2,3,3,4,5,6} → P(W+ ≤ 3) = 5/8
    expect(exactLowerTail(3, 3)).toBe(5 / 8)
    expect(exactLowerTail(25, 162.5)).toBeCloseTo(0.5, 1)
  })

  it('uses the exact test up to n = 25 and the normal approximation above', () => {
    const x = Array.from({ length: 26 }, (_, i) => i + 1 + i / 100)
    const y = new Array(26).fill(0)
    expect(wilcoxonSignedRank(x.slice(0, 25), y.slice(0, 25)).method).toBe('exact')
    expect(wilcoxonSignedRank(x.slice(0, 25), y.slice(0, 25)).pValue).toBe(2 / 2 ** 25)
    expect(wilcoxonSignedRank(x, y).method).toBe('normal')
  })
})

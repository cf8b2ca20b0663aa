import { describe, expect, it } from 'vitest'
import { randomIndex, seededNormal, seededRandom, seedState, xoshiro128ss } from '../../../src/shared/random'
import { bootstrapCI } from '../../../src/shared/stats/bootstrap'
import { meanStd } from '../../../src/shared/stats/descriptive'
import { expected } from '../../fixtures/imputation/expected'

describe('seeded PRNG', () => {
  it('xoshiro128** reproduces the reference outputs for state {1, 2, 3, 4}', () => {
    const next = xoshiro128ss([1, 2, 3, 4])
    const out = Array.from({ length: 6 }, () => next())
    expect(out.slice(0, 4)).toEqual([11520, 0, 5927040, 70819200]) // hand-computable
    expect(out).toEqual(expected.random.xoshiroState1234)
  })

  it('seeding matches the Python re-implementation', () => {
    expect(seedState(42)).toEqual(expected.random.seedState42)
    const next = xoshiro128ss(seedState(42))
    expect(Array.from({ length: 6 }, () => next())).toEqual(expected.random.seed42Outputs)
    expect(() => xoshiro128ss([0, 0, 0, 0])).toThrow(/all zero/)
  })

  it('is deterministic per seed and uniform in [0, 1)', () => {
    const a = seededRandom(123)
    const b = seededRandom(123)
    const c = seededRandom(124)
    const xs = Array.from({ length: 20000 }, () => a())
    expect(Array.from({ length: 20000 }, () => b())).toEqual(xs)
    expect(c()).not.toBe(xs[0])
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    expect(meanStd(xs).mean).toBeCloseTo(0.5, 2)
    const rng = seededRandom(5)
    const idx = Array.from({ length: 1000 }, () => randomIndex(rng, 7))
    expect(new Set(idx)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]))
  })

  it('seededNormal has the requested moments', () => {
    const n = seededNormal(9, 3, 2)
    const xs = Array.from({ length: 40000 }, () => n())
    const { mean, std } = meanStd(xs)
    expect(mean).toBeCloseTo(3, 1)
    expect(std).toBeCloseTo(2, 1)
    const again = seededNormal(9, 3, 2)
    expect(again()).toBe(xs[0])
  })
})

describe('bootstrapCI', () => {
  it('matches the Python re-implementation exactly', () => {
    const b = expected.random.bootstrap
    const ci = bootstrapCI(b.values, { iterations: b.iterations, alpha: b.alpha, seed: b.seed })
    expect(ci.estimate).toBeCloseTo(b.estimate, 14)
    expect(ci.lower).toBeCloseTo(b.lower, 14)
    expect(ci.upper).toBeCloseTo(b.upper, 14)
  })

  it('is deterministic with a seed and changes with it', () => {
    const values = Array.from({ length: 50 }, (_, i) => Math.sin(i) + i / 50)
    const a = bootstrapCI(values, { seed: 1, iterations: 1000 })
    expect(bootstrapCI(values, { seed: 1, iterations: 1000 })).toEqual(a)
    expect(bootstrapCI(values, { seed: 2, iterations: 1000 }).lower).not.toBe(a.lower)
    expect(a.lower).toBeLessThan(a.estimate)
    expect(a.upper).toBeGreaterThan(a.estimate)
  })

  it('approximates the normal-theory interval of a mean', () => {
    const rnd = seededNormal(3)
    const values = Array.from({ length: 400 }, () => rnd())
    const { mean, std } = meanStd(values)
    const half = 1.96 * std / Math.sqrt(values.length)
    const ci = bootstrapCI(values, { seed: 11, iterations: 4000 })
    expect(ci.lower).toBeCloseTo(mean - half, 2)
    expect(ci.upper).toBeCloseTo(mean + half, 2)
  })

  it('supports other statistics and validates options', () => {
    const ci = bootstrapCI([1, 2, 3, 4, 100], { seed: 0, iterations: 200, statistic: (s) => Float64Array.from(s).sort()[2] })
    expect(ci.estimate).toBe(3)
    expect(() => bootstrapCI([], { seed: 0 })).toThrow(/no values/)
    expect(() => bootstrapCI([1], { seed: 0, alpha: 1 })).toThrow(/alpha/)
    expect(() => bootstrapCI([1], { seed: 0, iterations: 0 })).toThrow(/iterations/)
  })
})

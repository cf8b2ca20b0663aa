import { describe, expect, it } from 'vitest'
import { bootstrapCI } from '../../../src/shared/stats/bootstrap'
import { pairedComparison } from '../../../src/shared/stats/paired'
import { wilcoxonSignedRank } from '../../../src/shared/stats/wilcoxon'

describe('pairedComparison', () => {
  const a = [0.31, 0.28, 0.35, 0.4, 0.22, 0.3, 0.27, 0.33, 0.29, 0.36]
  const b = [0.35, 0.3, 0.36, 0.47, 0.25, 0.29, 0.33, 0.38, 0.3, 0.41]

  it('combines mean difference, bootstrap CI of the differences and Wilcoxon', () => {
    const r = pairedComparison(a, b, { seed: 5, iterations: 2000 })
    const diffs = a.map((v, i) => v - b[i])
    expect(r.n).toBe(10)
    expect(r.meanDiff).toBeCloseTo(r.meanA - r.meanB, 14)
    expect(r.meanDiff).toBeLessThan(0)
    expect(r.ci).toEqual(bootstrapCI(diffs, { seed: 5, iterations: 2000 }))
    expect(r.ci.upper).toBeLessThan(0)
    expect(r.wilcoxon).toEqual(wilcoxonSignedRank(a, b))
    expect(r.wilcoxon.pValue).toBeLessThan(0.05)
  })

  it('is reproducible with the default seed and rejects mismatched tiles', () => {
    expect(pairedComparison(a, b)).toEqual(pairedComparison(a, b))
    expect(() => pairedComparison([1], [1, 2])).toThrow(/1 vs 2 tiles/)
  })
})

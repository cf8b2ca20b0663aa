import { describe, expect, it } from 'vitest'
import { configKeys, groupRuns, meanStdBand, valueAt } from '@shared/experiments/grouping'

const runs = [
  { id: 1, config: { optimizer: { lr: 0.001 }, seed: 0 } },
  { id: 2, config: { optimizer: { lr: 0.01 }, seed: 0 } },
  { id: 3, config: { optimizer: { lr: 0.001 }, seed: 1 } },
  { id: 4, config: { seed: 2 } }
]

describe('group by a config key', () => {
  it('groups runs by the dotted key, missing values as "–"', () => {
    expect(groupRuns(runs, 'optimizer.lr')).toEqual([
      { value: '0.001', runIds: [1, 3] },
      { value: '0.01', runIds: [2] },
      { value: '–', runIds: [4] }
    ])
    expect(configKeys(runs)).toEqual(['optimizer.lr', 'seed'])
    // Numbers by value, not as text: 0.001 < 0.002 < 0.01 < 1e-1.
    const lrs = [0.01, 0.1, 0.002, 0.001].map((lr, id) => ({ id, config: { lr } }))
    expect(groupRuns(lrs, 'lr').map((g) => g.value)).toEqual(['0.001', '0.002', '0.01', '0.1'])
  })
})

describe('mean ± std across runs', () => {
  it('matches the sample mean and standard deviation at shared steps', () => {
    const band = meanStdBand([
      { steps: [0, 10, 20], values: [1, 2, 3] },
      { steps: [0, 10, 20], values: [3, 4, 5] },
      { steps: [0, 10, 20], values: [2, 6, 4] }
    ])
    expect(band.steps).toEqual([0, 10, 20])
    expect(band.mean).toEqual([2, 4, 4])
    // sample std of (1,3,2) = 1; of (2,4,6) = 2; of (3,5,4) = 1
    band.std.forEach((s, i) => expect(s).toBeCloseTo([1, 2, 1][i]!, 12))
    expect(band.n).toEqual([3, 3, 3])
  })
  it('interpolates runs logged at other steps and counts a run only within its range', () => {
    const band = meanStdBand([
      { steps: [0, 10], values: [0, 10] },
      { steps: [0, 5, 20], values: [2, 2, 2] }
    ])
    expect(band.steps).toEqual([0, 5, 10, 20])
    expect(band.mean).toEqual([1, 3.5, 6, 2])
    expect(band.n).toEqual([2, 2, 2, 1])
    expect(band.std[3]).toBe(0)
    expect(band.std[1]).toBeCloseTo(Math.SQRT2 * 1.5, 12)
  })
  it('valueAt: exact, between and outside the recorded steps', () => {
    const s = { steps: [1, 3, 7], values: [10, 30, 70] }
    expect(valueAt(s, 3)).toBe(30)
    expect(valueAt(s, 5)).toBe(50)
    expect(valueAt(s, 0)).toBeNull()
    expect(valueAt(s, 8)).toBeNull()
  })
})

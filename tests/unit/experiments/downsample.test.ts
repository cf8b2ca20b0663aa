import { describe, expect, it } from 'vitest'
import { downsampleLttb } from '@shared/experiments/downsample'
import { smoothSeries } from '@shared/training/smoothing'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('LTTB downsampling', () => {
  it('returns short series whole and long ones at exactly maxPoints, ends kept, steps increasing', () => {
    const short = { steps: [1, 2, 3], values: [3, 2, 1] }
    expect(downsampleLttb(short, 10)).toEqual(short)
    const steps = range(2000)
    const values = steps.map((s) => Math.sin(s / 50))
    const d = downsampleLttb({ steps, values }, 100)
    expect(d.steps.length).toBe(100)
    expect(d.steps[0]).toBe(0)
    expect(d.steps.at(-1)).toBe(1999)
    expect(d.steps.every((s, i) => i === 0 || s > d.steps[i - 1]!)).toBe(true)
    d.steps.forEach((s, i) => expect(d.values[i]).toBe(values[s]))
  })
  it('keeps a one-step spike that every-k-th sampling would miss', () => {
    const steps = range(1000)
    const values = steps.map((s) => (s === 503 ? 50 : 1))
    const d = downsampleLttb({ steps, values }, 50)
    expect(d.values).toContain(50)
    expect(d.steps).toContain(503)
  })
  it('refuses fewer than 3 points', () => {
    expect(() => downsampleLttb({ steps: [1, 2, 3, 4], values: [1, 2, 3, 4] }, 2)).toThrow(/at least 3/)
  })
})

describe('EMA smoothing (the overlay slider)', () => {
  it('is debiased: a constant stays constant, a step is approached geometrically', () => {
    const flat = smoothSeries(range(5).map((x) => ({ x, y: 2 })), 'ema', 0.9)
    flat.forEach((p) => expect(p.y).toBeCloseTo(2, 12))
    const step = smoothSeries([{ x: 0, y: 0 }, { x: 1, y: 1 }], 'ema', 0.5)
    // acc = 0.5·0 + 0.5·1 = 0.5 over norm 0.75 (debiasing) → 2/3
    expect(step[1]!.y).toBeCloseTo(2 / 3, 12)
    expect(smoothSeries([{ x: 0, y: 5 }], 'ema', 0)[0]!.y).toBe(5)
  })
})

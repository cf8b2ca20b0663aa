import { describe, expect, it } from 'vitest'
import { buildAxis, parallelLayout, position, rampColor, varyingKeys, type ParallelRun } from '@shared/experiments/parallel-axes'

const runs: ParallelRun[] = [
  { id: 1, name: 'a', values: { 'optimizer.lr': 1e-5, backbone: 'prithvi', batch: 8 }, metric: 0.5 },
  { id: 2, name: 'b', values: { 'optimizer.lr': 1e-3, backbone: 'resnet', batch: 8 }, metric: 0.9 },
  { id: 3, name: 'c', values: { 'optimizer.lr': 1e-4, backbone: 'prithvi', batch: 8 }, metric: null }
]

describe('parallel coordinates axes', () => {
  it('numeric axes spanning decades are logarithmic', () => {
    const a = buildAxis('lr', [1e-5, 1e-3, 1e-4])
    expect(a.kind).toBe('numeric')
    expect(a.kind === 'numeric' && a.log).toBe(true)
    expect(position(a, 1e-4)).toBeCloseTo(0.5, 10)
    expect(position(a, 1e-5)).toBe(0)
    expect(position(a, 1e-3)).toBe(1)
  })
  it('linear when values are close, with a constant axis centred', () => {
    const a = buildAxis('mask', [0.25, 0.75, 0.5])
    expect(a.kind === 'numeric' && a.log).toBe(false)
    expect(position(a, 0.5)).toBeCloseTo(0.5, 10)
    expect(position(buildAxis('b', [8, 8]), 8)).toBeCloseTo(0.5, 10)
  })
  it('strings and mixed values are categorical, evenly spaced, missing values at the bottom', () => {
    const a = buildAxis('backbone', ['resnet', 'prithvi', undefined, 'prithvi'])
    expect(a.kind).toBe('categorical')
    expect(a.kind === 'categorical' && a.categories).toEqual(['–', 'prithvi', 'resnet'])
    expect(position(a, undefined)).toBe(0)
    expect(position(a, 'prithvi')).toBe(0.5)
    expect(position(a, 'resnet')).toBe(1)
    expect(buildAxis('x', [1, 'two']).kind).toBe('categorical')
  })
  it('layout: axes for varying keys, the metric last, colour by metric, null where missing', () => {
    expect(varyingKeys(runs)).toEqual(['backbone', 'optimizer.lr'])
    const l = parallelLayout(runs, varyingKeys(runs), 'val/auc')
    expect(l.axes.map((a) => a.key)).toEqual(['backbone', 'optimizer.lr', 'val/auc'])
    expect(l.lines.map((x) => x.colorT)).toEqual([0, 1, null])
    expect(l.lines[2]!.ys[2]).toBeNull()
    expect(l.lines[1]!.ys).toEqual([1, 1, 1])
    expect(rampColor(0)).toBe('rgb(68, 1, 84)')
    expect(rampColor(1)).toBe('rgb(253, 231, 37)')
  })
})

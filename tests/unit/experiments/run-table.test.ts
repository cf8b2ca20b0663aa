import { describe, expect, it } from 'vitest'
import type { RunRecord } from '@shared/ipc/schemas/runs'
import { dataLabel, formatDuration, matchesFilter, modelLabel, runDurationSeconds, sortRuns } from '@shared/experiments/run-table'

function run(over: Partial<RunRecord>): RunRecord {
  return {
    id: 1, name: 'r', task: 'classification', status: 'done', statusReason: null, config: { optimizer: { name: 'adamw', lr: 0.001 }, model: { demo: true }, data: { kind: 'folder', path: '/d/landmarks' } },
    datasetHash: 'abc', datasetVersionId: null, datasetName: null, modelId: null, modelName: null, modelHash: null, backend: 'wasm', device: 'cpu', seed: 0,
    appVersion: '1', createdAt: '2026-01-01T00:00:00Z', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T01:02:03Z', jobId: null, step: 0, latest: {},
    lastCheckpointStep: null, notes: '', tags: [], ...over
  }
}

describe('the experiments table', () => {
  it('names models and data instead of ids or hashes', () => {
    expect(modelLabel(run({}))).toBe('demo model')
    expect(modelLabel(run({ config: { model: { demo: 'crater' } } }))).toBe('demo crater encoder')
    expect(modelLabel(run({ modelId: 3, modelName: 'Prithvi-100M' }))).toBe('Prithvi-100M')
    expect(dataLabel(run({}))).toBe('/d/landmarks')
    expect(dataLabel(run({ datasetName: 'landmarks v2' }))).toBe('landmarks v2')
  })
  it('duration from start to finish', () => {
    expect(runDurationSeconds(run({}))).toBe(3723)
    expect(formatDuration(3723)).toBe('1 h 2 min')
    expect(formatDuration(75)).toBe('1 min 15 s')
    expect(runDurationSeconds(run({ startedAt: null }))).toBeNull()
  })
  it('filters by words, tags and key=value', () => {
    const r = run({ name: 'Baseline lr', tags: ['sweep-1'] })
    expect(matchesFilter(r, 'baseline')).toBe(true)
    expect(matchesFilter(r, 'baseline nosuch')).toBe(false)
    expect(matchesFilter(r, 'tag:sweep-1')).toBe(true)
    expect(matchesFilter(r, 'tag:sweep')).toBe(false)
    expect(matchesFilter(r, 'optimizer.lr=0.001')).toBe(true)
    expect(matchesFilter(r, 'optimizer.lr=0.01')).toBe(false)
    expect(matchesFilter(r, 'demo')).toBe(true)
  })
  it('sorts numbers numerically and text naturally, missing values last', () => {
    const rows = [{ v: 10 }, { v: null }, { v: 9 }, { v: 100 }]
    expect(sortRuns(rows, (r) => r.v, 'asc').map((r) => r.v)).toEqual([9, 10, 100, null])
    expect(sortRuns(rows, (r) => r.v, 'desc').map((r) => r.v)).toEqual([100, 10, 9, null])
    expect(sortRuns([{ v: 'run 10' }, { v: 'run 9' }], (r) => r.v, 'asc').map((r) => r.v)).toEqual(['run 9', 'run 10'])
  })
})

describe('config values for parallel coordinates', () => {
  it('keeps numbers as numbers, names the model and data, leaves out the run name', async () => {
    const { configValues } = await import('@shared/experiments/run-table')
    const v = configValues(run({ config: { name: 'x', optimizer: { lr: 0.01 }, model: { demo: true }, data: { kind: 'folder', path: '/d/l' }, augment: { flips: true }, classes: [1, 2] } }))
    expect(v).toEqual({ 'optimizer.lr': 0.01, model: 'demo model', data: '/d/l', 'augment.flips': true, classes: '[1,2]' })
  })
})

describe('config diff of chosen runs (as the view builds it)', () => {
  it('shows only the keys that differ, the model and data by name, never the run name', async () => {
    const { runConfigDiff } = await import('@shared/experiments/run-table')
    const a = run({ id: 1, name: 'a', config: { name: 'a', optimizer: { lr: 0.001 }, model: { id: 3 }, data: { kind: 'dataset-version', id: 2 }, seed: 0 }, modelId: 3, modelName: 'Prithvi-100M', datasetName: 'craters v1' })
    const b = run({ id: 2, name: 'b', config: { name: 'b', optimizer: { lr: 0.01 }, model: { demo: true }, data: { kind: 'dataset-version', id: 2 }, seed: 0 }, datasetName: 'craters v1' })
    expect(runConfigDiff([a, b])).toEqual([
      { key: 'model', values: ['Prithvi-100M', 'demo model'] },
      { key: 'optimizer.lr', values: ['0.001', '0.01'] }
    ])
  })
})

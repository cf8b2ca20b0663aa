// The Sweeps view's form as a spec: value lists, ranges (log, int), JSON values and model
// shorthands, and a message naming the line for what cannot be read.
import { describe, expect, it } from 'vitest'
import { SweepFormError, parseParameterLines, specOfForm } from '@shared/sweeps/form'
import { expandSweep } from '@shared/sweeps/spec'

describe('sweep form', () => {
  it('reads value lists and ranges', () => {
    expect(parseParameterLines('optimizer.lr = 1e-4, 3e-4\n# a comment\n\ndropout = 0 .. 0.5\nbatchSize = 2 .. 16 int\nschedule.warmupSteps=1e1..1e3 log int\nmodel = "demo", {"id": 3}, demo')).toEqual({
      'optimizer.lr': { values: [1e-4, 3e-4] },
      dropout: { min: 0, max: 0.5, log: false, integer: false },
      batchSize: { min: 2, max: 16, log: false, integer: true },
      'schedule.warmupSteps': { min: 10, max: 1000, log: true, integer: true },
      model: { values: ['demo', { id: 3 }, 'demo'] }
    })
  })

  it('names the line it cannot read', () => {
    expect(() => parseParameterLines('dropout = 0.1\nlr 1e-3')).toThrow(new SweepFormError('line 2: write key = values (e.g. optimizer.lr = 1e-4, 3e-4)'))
    expect(() => parseParameterLines('dropout = 0.1\ndropout = 0.2')).toThrow(/line 2: "dropout" is given twice/)
    expect(() => parseParameterLines('dropout = ')).toThrow(/line 1: "dropout" has no values/)
  })

  it('builds a spec that expands on the preset and the chosen version', () => {
    const spec = specOfForm({ name: 'lr', preset: 'demo-classification', versionId: 2, folder: '', steps: 40, method: 'grid', trials: 4, seed: 0, parameters: 'optimizer.lr = 1e-4, 1e-3\nseed = 0, 1, 2' })
    const s = expandSweep(spec)
    expect(s.trials).toHaveLength(6)
    expect(s.trials[5]!.config).toMatchObject({ steps: 40, data: { kind: 'dataset-version', id: 2 }, model: { demo: 'crater' }, seed: 2, optimizer: { lr: 1e-3 } })
    expect(() => specOfForm({ name: 'x', preset: 'demo-classification', versionId: null, folder: ' ', steps: 4, method: 'grid', trials: 4, seed: 0, parameters: 'seed = 1' })).toThrow(/choose a dataset version/)
    const random = specOfForm({ name: 'r', preset: 'demo-classification', versionId: null, folder: '/data/x', steps: 4, method: 'random', trials: 5, seed: 3, parameters: 'dropout = 0 .. 0.5' })
    expect(expandSweep(random).trials).toHaveLength(5)
  })
})

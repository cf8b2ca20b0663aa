// The sweep spec: grid and random expansion on top of a preset, and a clear error for each
// mistake a user makes in sweep.json (unknown key, fixed key, empty grid, too many trials, a trial
// the runs service would refuse).
import { describe, expect, it } from 'vitest'
import { MAX_TRIALS, SweepSpecError, expandSweep, trialLabel } from '@shared/sweeps/spec'

const base = { preset: 'demo-classification', data: '/data/landmarks', config: { steps: 20 } }

function problemsOf(spec: unknown): string[] {
  try {
    expandSweep(spec)
  } catch (err) {
    if (err instanceof SweepSpecError) return err.problems
    throw err
  }
  throw new Error('expected the spec to be refused')
}

describe('expandSweep', () => {
  it('expands a grid over the preset, the first key slowest, with the best-checkpoint metric', () => {
    const s = expandSweep({ name: 'lr × dropout', base, parameters: { 'optimizer.lr': { values: [1e-4, 3e-4, 1e-3] }, dropout: { values: [0.1, 0.5] } } })
    expect(s.trials).toHaveLength(6)
    expect(s.trials.map((t) => t.params)).toEqual([
      { 'optimizer.lr': 1e-4, dropout: 0.1 },
      { 'optimizer.lr': 1e-4, dropout: 0.5 },
      { 'optimizer.lr': 3e-4, dropout: 0.1 },
      { 'optimizer.lr': 3e-4, dropout: 0.5 },
      { 'optimizer.lr': 1e-3, dropout: 0.1 },
      { 'optimizer.lr': 1e-3, dropout: 0.5 }
    ])
    const t = s.trials[3]!.config
    // The preset's other optimizer settings survive the override of one nested key.
    expect(t.optimizer).toMatchObject({ name: 'adamw', lr: 3e-4, weightDecay: 0.05 })
    expect(t).toMatchObject({ name: 'lr × dropout #4', dropout: 0.5, steps: 20, imgSize: 128, model: { demo: 'crater' }, data: { kind: 'folder', path: '/data/landmarks', layout: 'imagefolder' } })
    expect(s.metric).toBe('val/balanced_accuracy')
    expect(s.goal).toBe('max')
  })

  it("sweeps the head's start (headInit × seed, the README's comparison) and refuses a start that does not exist", () => {
    const s = expandSweep({ name: 'heads', base, parameters: { headInit: { values: ['uniform', 'near-zero', 'linear-probe'] }, seed: { values: [7, 8, 9] } } })
    expect(s.trials).toHaveLength(9)
    expect(s.trials.map((t) => `${t.config.headInit}/${t.config.seed}`).slice(0, 4)).toEqual(['uniform/7', 'uniform/8', 'uniform/9', 'near-zero/7'])
    expect(s.trials[8]!.config).toMatchObject({ headInit: 'linear-probe', seed: 9, pool: 'mean', model: { demo: 'crater' } })
    expect(problemsOf({ name: 'bad', base, parameters: { headInit: { values: ['uniform', 'probe'] } } }).join('\n')).toMatch(/headInit/)
  })

  it('draws random trials reproducibly from the seed, log-uniform and integer ranges inside their bounds', () => {
    const spec = { name: 'r', method: 'random', trials: 20, seed: 5, base, parameters: { 'optimizer.lr': { min: 1e-5, max: 1e-2, log: true }, batchSize: { min: 2, max: 8, integer: true }, seed: { values: [0, 1, 2] } } }
    const a = expandSweep(spec)
    const b = expandSweep(spec)
    expect(a.trials.map((t) => t.params)).toEqual(b.trials.map((t) => t.params))
    expect(expandSweep({ ...spec, seed: 6 }).trials.map((t) => t.params)).not.toEqual(a.trials.map((t) => t.params))
    for (const t of a.trials) {
      const lr = t.params['optimizer.lr'] as number
      expect(lr).toBeGreaterThanOrEqual(1e-5)
      expect(lr).toBeLessThanOrEqual(1e-2)
      expect(Number.isInteger(t.params.batchSize)).toBe(true)
      expect([0, 1, 2]).toContain(t.params.seed)
    }
    // Log-uniform: about as many draws below 3e-4 (the geometric middle) as above.
    const below = a.trials.filter((t) => (t.params['optimizer.lr'] as number) < 3.16e-4).length
    expect(below).toBeGreaterThan(4)
    expect(below).toBeLessThan(16)
  })

  it('takes model shorthands and a dataset version, and a metric with its goal', () => {
    const s = expandSweep({ name: 'backbones', base: { data: 'version:3', config: { task: 'classification', steps: 5, optimizer: { lr: 1e-3 } } }, parameters: { model: { values: ['demo', 'demo-crater', 4] } }, metric: 'val/loss' })
    expect(s.trials.map((t) => t.config.model)).toEqual([{ demo: true }, { demo: 'crater' }, { id: 4 }])
    expect(s.trials[0]!.config.data).toEqual({ kind: 'dataset-version', id: 3 })
    expect(s.goal).toBe('min')
    expect(trialLabel(s.trials[2]!.params)).toBe('model=4')
  })

  it('names every mistake', () => {
    expect(problemsOf({ name: 'x', base, parameters: { 'optimizer.lrr': { values: [1] } } })).toEqual(['parameters.optimizer.lrr: unknown run-config key "optimizer.lrr"'])
    expect(problemsOf({ name: 'x', base, parameters: { learning_rate: { values: [1] } } })[0]).toMatch(/unknown run-config key "learning_rate"/)
    expect(problemsOf({ name: 'x', base, parameters: { data: { values: [1] } } })[0]).toMatch(/fixed by the base run/)
    expect(problemsOf({ name: 'x', base, parameters: { dropout: { values: [] } } })[0]).toMatch(/parameters\.dropout\.values: empty grid/)
    expect(problemsOf({ name: 'x', base, parameters: {} })[0]).toMatch(/at least one key/)
    expect(problemsOf({ name: 'x', base, parameters: { dropout: { min: 0, max: 0.5 } } })[0]).toMatch(/a grid needs a list of values/)
    expect(problemsOf({ name: 'x', method: 'random', base, parameters: { dropout: { min: 0, max: 0.5 } } })[0]).toMatch(/random search needs the number of trials/)
    const wide = Array.from({ length: 17 }, (_, i) => i)
    expect(problemsOf({ name: 'x', base, parameters: { seed: { values: wide }, dropout: { values: wide.map((i) => i / 100) } } })[0]).toBe(`the grid makes 289 trials (17 seed × 17 dropout); at most ${MAX_TRIALS}: fewer values, or random search`)
    expect(problemsOf({ name: 'x', method: 'random', trials: MAX_TRIALS + 1, base, parameters: { dropout: { values: [0.1] } } })[0]).toMatch(/^trials: /)
    // A value the run config refuses names the trial and the field.
    expect(problemsOf({ name: 'x', base, parameters: { dropout: { values: [0.2, 1.5] } } })).toEqual([expect.stringMatching(/^trial 2 \(dropout=1\.5\): dropout: /)])
    expect(problemsOf({ name: 'x', base: { ...base, preset: 'nope' }, parameters: { dropout: { values: [0.2] } } })[0]).toMatch(/unknown preset "nope"/)
    expect(problemsOf({ name: 'x', base, parameters: { dropout: { values: [0.2] } }, extra: 1 })[0]).toMatch(/\(spec\): .*extra/i)
  })
})

// The positive class of a binary task: chosen by name ("crater", never "NoCrater" / "no_crater"),
// else the minority; binary metrics computed for it even when folder order puts it first; the
// imbalance warning; the balanced-accuracy threshold.
import { describe, expect, it } from 'vitest'
import { classImbalance, imbalanceWarning, isCraterName, metricLabel, resolvePositiveClass } from '@shared/training/positive-class'
import { ConfusionMatrix, rocAuc } from '@engine/training/metrics'
import { balancedAccuracyThreshold, metricsAt } from '@shared/inference/threshold'
import { decodeProbabilities, encodeValidation } from '@engine/training/state'
import { bestMetricOf, RunConfig } from '@shared/ipc/schemas/runs'

describe('crater class names', () => {
  it.each(['crater', 'Crater', 'CRATER', 'craters', '1_crater', 'crater_rim', 'volcano_crater', 'impact-crater', 'CraterTiles', 'has_crater', 'ImpactCraters'])('"%s" means crater', (n) => {
    expect(isCraterName(n)).toBe(true)
  })
  it.each(['NoCrater', 'no_crater', 'no-crater', 'No Crater', 'nocrater', 'NOCRATER', 'noncrater', 'non-crater', 'NonCrater', 'not_crater', 'without_craters', 'craterless', 'crater_free', 'CraterFree', 'zero_craters', 'other', '0_other', 'no', 'background'])('"%s" does not', (n) => {
    expect(isCraterName(n)).toBe(false)
  })
})

describe('resolvePositiveClass', () => {
  it('picks the crater class even when it sorts first (Crater < NoCrater)', () => {
    expect(resolvePositiveClass(['Crater', 'NoCrater'], [56, 344])).toEqual({ positiveClass: 'Crater', reason: 'crater-name' })
    expect(resolvePositiveClass(['crater', 'no_crater'], [10, 10]).positiveClass).toBe('crater')
    expect(resolvePositiveClass(['0_other', '1_crater'], [300, 50]).positiveClass).toBe('1_crater')
  })
  it('falls back to the minority class, and to the second name on a tie', () => {
    expect(resolvePositiveClass(['dune', 'streak'], [20, 80])).toEqual({ positiveClass: 'dune', reason: 'minority' })
    expect(resolvePositiveClass(['dune', 'streak'], [80, 20]).positiveClass).toBe('streak')
    expect(resolvePositiveClass(['a', 'b'], [5, 5]).positiveClass).toBe('b')
    // Two "crater" names are no answer: the minority decides.
    expect(resolvePositiveClass(['crater_fresh', 'crater_old'], [9, 3]).positiveClass).toBe('crater_old')
  })
  it('takes a requested class (exact, or case-insensitively) and refuses a stranger', () => {
    expect(resolvePositiveClass(['Crater', 'NoCrater'], [1, 9], 'NoCrater')).toEqual({ positiveClass: 'NoCrater', reason: 'requested' })
    expect(resolvePositiveClass(['Crater', 'NoCrater'], [1, 9], 'crater').positiveClass).toBe('Crater')
    expect(() => resolvePositiveClass(['Crater', 'NoCrater'], [1, 9], 'dune')).toThrow(/"dune" is not one of Crater, NoCrater/)
    expect(() => resolvePositiveClass(['a', 'b', 'c'], [1, 1, 1])).toThrow(/two-class/)
  })
})

describe('binary metrics of the positive class', () => {
  // Folder order: 0 Crater, 1 NoCrater (86 % of images). A model that says NoCrater everywhere.
  const truth = [...new Array<number>(56).fill(0), ...new Array<number>(344).fill(1)]
  const pred = new Array<number>(400).fill(1)
  it('a degenerate majority-class model scores 0 for crater, not F1 0.92 for NoCrater', () => {
    const cm = new ConfusionMatrix(2)
    cm.addAll(truth, pred)
    const crater = cm.summary(0)
    expect(crater.recall).toBe(0)
    expect(crater.precision).toBe(0)
    expect(crater.f1).toBe(0)
    expect(cm.accuracy()).toBeCloseTo(0.86, 5)
    expect(cm.balancedAccuracy()).toBe(0.5)
    // What users saw: the scores of class 1 (NoCrater).
    expect(cm.summary(1).recall).toBe(1)
    expect(cm.summary(1).f1).toBeCloseTo(0.9247, 3)
    expect(() => cm.summary()).toThrow(/positive class/)
  })
  it('AUC of the positive class: scores oriented to it', () => {
    const scores = [0.9, 0.8, 0.3, 0.2]
    expect(rocAuc(scores, [0, 0, 1, 1], 0)).toBe(1)
    expect(rocAuc(scores, [0, 0, 1, 1], 1)).toBe(0)
  })
  it('labels name the positive class', () => {
    expect(metricLabel('val/recall', 'Crater')).toBe('recall (Crater)')
    expect(metricLabel('val/f1', 'crater')).toBe('f1 (crater)')
    expect(metricLabel('val/balanced_accuracy', 'crater')).toBe('balanced accuracy')
    expect(metricLabel('val/accuracy', 'crater')).toBe('accuracy')
  })
})

describe('imbalance', () => {
  it('warns below 30 % minority share, naming the class', () => {
    expect(classImbalance(['Crater', 'NoCrater'], [56, 344])).toMatchObject({ minorityClass: 'Crater', skewed: true })
    expect(imbalanceWarning(['Crater', 'NoCrater'], [56, 344], 'training set')).toMatch(/training set: class "Crater" is only 14\.0 % of 400 images/)
    expect(imbalanceWarning(['a', 'b'], [31, 69], 'x')).toBeNull()
    expect(imbalanceWarning(['a', 'b'], [29, 71], 'x')).not.toBeNull()
  })
  it('the best checkpoint defaults to balanced accuracy (classification), mIoU, loss', () => {
    const base = { name: 'x', model: { demo: true }, data: { kind: 'folder', path: '/d', layout: 'imagefolder' }, steps: 1, optimizer: { lr: 1e-3 } }
    expect(bestMetricOf(RunConfig.parse({ ...base, task: 'classification' }))).toEqual({ bestMetric: 'val/balanced_accuracy', mode: 'max' })
    expect(bestMetricOf(RunConfig.parse({ ...base, task: 'segmentation' }))).toEqual({ bestMetric: 'val/miou', mode: 'max' })
    expect(bestMetricOf(RunConfig.parse({ ...base, task: 'pretrain' }))).toEqual({ bestMetric: 'val/loss', mode: 'min' })
    expect(bestMetricOf(RunConfig.parse({ ...base, task: 'classification', checkpoint: { bestMetric: 'val/auc' } }))).toEqual({ bestMetric: 'val/auc', mode: 'max' })
  })
})

describe('balanced-accuracy threshold', () => {
  it('finds the cut that separates a skewed validation set, not 0.5', () => {
    // Positives all score 0.2-0.3, negatives 0.05-0.15: at 0.5 nothing is positive.
    const probs = [0.2, 0.25, 0.3, 0.05, 0.1, 0.15, 0.12, 0.08, 0.06, 0.14]
    const positive = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    const t = balancedAccuracyThreshold(probs, positive)
    expect(t.balancedAccuracy).toBe(1)
    expect(t.value).toBeCloseTo(0.175, 10)
    const rows = probs.map((p, i) => ({ probabilities: [1 - p, p], label: positive[i]! }))
    expect(metricsAt(rows, 2, t.value)!.balancedAccuracy).toBe(1)
    expect(metricsAt(rows, 2, 0.5)!.balancedAccuracy).toBe(0.5)
    expect(metricsAt(rows, 2, 0.5)!.auc).toBe(1)
  })
  it('is the brute-force optimum on overlapping scores', () => {
    const probs = [0.9, 0.7, 0.6, 0.6, 0.4, 0.35, 0.3, 0.2, 0.1, 0.55, 0.65]
    const positive = [1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1]
    const t = balancedAccuracyThreshold(probs, positive)
    let best = 0
    for (let x = 0; x <= 1.0001; x += 0.001) {
      const rows = probs.map((p, i) => ({ probabilities: [1 - p, p], label: positive[i]! }))
      best = Math.max(best, metricsAt(rows, 2, x)!.balancedAccuracy!)
    }
    expect(t.balancedAccuracy).toBeCloseTo(best, 10)
  })
  it('stores validation probabilities compactly and recomputes the same threshold', () => {
    const probabilities = Array.from({ length: 300 }, (_, i) => ((i * 37) % 300) / 299)
    const positive = probabilities.map((p, i) => (p > 0.6 || i % 17 === 0 ? 1 : 0))
    const v = encodeValidation(40, 'crater', { probabilities, positive })!
    expect(encodeValidation(40, 'crater', { probabilities: [0.1, 0.2], positive: [0, 0] })).toBeNull()
    expect(v.probabilities.length).toBeLessThanOrEqual(Math.ceil((300 * 2) / 3) * 4)
    const back = decodeProbabilities(v.probabilities)
    back.forEach((p, i) => expect(Math.abs(p - probabilities[i]!)).toBeLessThan(1e-5))
    expect(balancedAccuracyThreshold(back, v.positive.split('').map(Number))).toEqual(v.threshold)
  })
})

describe('listDataset', () => {
  it('puts the positive class at index 1 (the BCE logit), whatever the folder order', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { listDataset } = await import('@engine/training/data')
    const root = mkdtempSync(join(tmpdir(), 'marsfm-positive-'))
    try {
      for (const [split, cls, n] of [['train', 'Crater', 2], ['train', 'NoCrater', 6], ['valid', 'Crater', 1], ['valid', 'NoCrater', 3]] as const) {
        mkdirSync(join(root, split, cls), { recursive: true })
        for (let i = 0; i < n; i++) writeFileSync(join(root, split, cls, `${i}.jpg`), '')
      }
      const data = { kind: 'folder', path: root, layout: 'imagefolder' } as const
      const l = listDataset(data)
      expect(l.classes).toEqual(['NoCrater', 'Crater'])
      expect(l.positive).toEqual({ positiveClass: 'Crater', reason: 'crater-name' })
      expect(l.trainCounts).toEqual([6, 2])
      expect(l.valid.filter((s) => s.label === 1).every((s) => s.path.includes('/Crater/'))).toBe(true)
      expect(listDataset(data, { positiveClass: 'NoCrater' }).classes).toEqual(['Crater', 'NoCrater'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('split-time imbalance warnings', () => {
  it('one per skewed split, unlabelled tiles not counted', async () => {
    const { imbalanceWarnings } = await import('@main/datasets/splitter')
    const w = imbalanceWarnings({ train: { crater: 20, 'no-crater': 180, unlabelled: 500 }, valid: { crater: 40, 'no-crater': 60 }, none: { crater: 1 } })
    expect(w).toHaveLength(1)
    expect(w[0]).toMatch(/^train split: class "crater" is only 10\.0 % of 200 images/)
  })
})

describe('config diff', () => {
  it('only the keys that differ, dotted, with model and data by name', async () => {
    const { configDiff } = await import('@shared/training/config-diff')
    const base = { name: 'a', task: 'classification', model: { id: 3 }, data: { kind: 'dataset-version', id: 7 }, steps: 200, optimizer: { name: 'adamw', lr: 3e-4 }, classWeights: 'balanced', checkpoint: { bestMetric: 'val/balanced_accuracy', mode: 'max' } }
    const other = { ...base, name: 'b', optimizer: { name: 'adamw', lr: 1e-4 } }
    const names = { model: (m: unknown) => ((m as { id: number }).id === 3 ? 'Prithvi-100M' : 'other'), data: (d: unknown) => `landmarks v${(d as { id: number }).id}` }
    expect(configDiff([base, other], names)).toEqual([{ key: 'optimizer.lr', values: ['0.0003', '0.0001'] }])
    const third = { ...base, name: 'c', model: { id: 4 }, data: { kind: 'dataset-version', id: 8 }, positiveClass: 'crater' }
    const { classWeights: _, ...noWeights } = base
    expect(configDiff([base, other, third, noWeights], names)).toEqual([
      { key: 'classWeights', values: ['balanced', 'balanced', 'balanced', '–'] },
      { key: 'data', values: ['landmarks v7', 'landmarks v7', 'landmarks v8', 'landmarks v7'] },
      { key: 'model', values: ['Prithvi-100M', 'Prithvi-100M', 'other', 'Prithvi-100M'] },
      { key: 'optimizer.lr', values: ['0.0003', '0.0001', '0.0003', '0.0003'] },
      { key: 'positiveClass', values: ['–', '–', 'crater', '–'] }
    ])
  })
})

describe('marsfm train --preset', () => {
  it('builds a valid run config from a preset, a folder or version:N, --positive and --steps', async () => {
    const { presetConfig } = await import('@main/cli/commands/train')
    const c = RunConfig.parse(presetConfig({ preset: 'demo-classification', data: 'landmarks', positive: 'crater', steps: '40', cwd: '/data' }))
    // The demo preset starts from the model it was made for, the shipped crater encoder; --model overrides it.
    expect(c).toMatchObject({ task: 'classification', model: { demo: 'crater' }, data: { kind: 'folder', path: '/data/landmarks', layout: 'imagefolder' }, positiveClass: 'crater', steps: 40, classWeights: 'balanced', imgSize: 128 })
    expect(c.checkpoint.bestMetric).toBe('val/balanced_accuracy')
    expect(RunConfig.parse(presetConfig({ preset: 'demo-classification', data: '/x', model: 'demo' })).model).toEqual({ demo: true })
    expect(RunConfig.parse(presetConfig({ preset: 'study-classification', data: '/x' })).model).toEqual({ demo: true })
    expect(RunConfig.parse(presetConfig({ preset: 'study-classification', data: '/x', model: 'demo-crater' })).model).toEqual({ demo: 'crater' })
    const v = RunConfig.parse(presetConfig({ preset: 'study-segmentation', data: 'version:3', model: '5' }))
    expect(v).toMatchObject({ task: 'segmentation', data: { kind: 'dataset-version', id: 3 }, model: { id: 5 }, steps: 2000 })
    expect(() => presetConfig({ preset: 'nope', data: '/x' })).toThrow(/unknown preset "nope"; presets: study-classification/)
    expect(() => presetConfig({ preset: 'demo-classification', data: '/x', steps: '0' })).toThrow(/--steps/)
  })
})

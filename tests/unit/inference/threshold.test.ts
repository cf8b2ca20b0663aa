// Classifier results at a threshold, recomputed from stored probabilities: predicted class,
// confusion matrix, accuracy / precision / recall / F1 (checked against hand counts and
// scikit-learn's conventions), histograms, and the CSV table.
import { describe, expect, it } from 'vitest'
import { classScores, confusionAt, histogram, histogramByTrueClass, metricsAt, metricsFromConfusion, predictAt } from '@shared/inference/threshold'
import { predictionsCsv } from '@shared/inference/csv'
import type { Prediction } from '@shared/ipc/schemas/inference'

const bin = (p: number, label: number | null) => ({ probabilities: [1 - p, p], label })

describe('predictAt', () => {
  it('binary: positive when p ≥ threshold; more classes: argmax (first of ties)', () => {
    expect(predictAt([0.4, 0.6])).toBe(1)
    expect(predictAt([0.4, 0.6], 0.7)).toBe(0)
    expect(predictAt([0.5, 0.5], 0.5)).toBe(1)
    expect(predictAt([0.2, 0.5, 0.3], 0.9)).toBe(1)
    expect(predictAt([0.4, 0.2, 0.4])).toBe(0)
  })
})

describe('metrics at a threshold', () => {
  // p(crater) with true labels: 3 craters, 3 others, 1 unlabelled.
  const rows = [bin(0.9, 1), bin(0.7, 1), bin(0.3, 1), bin(0.6, 0), bin(0.2, 0), bin(0.1, 0), bin(0.95, null)]

  it('counts the confusion matrix over labelled rows only', () => {
    expect(confusionAt(rows, 2, 0.5)).toEqual([
      [2, 1],
      [1, 2]
    ])
    expect(confusionAt(rows, 2, 0.25)).toEqual([
      [2, 1],
      [0, 3]
    ])
    expect(confusionAt(rows, 2, 0.95)).toEqual([
      [3, 0],
      [3, 0]
    ])
  })

  it('binary: accuracy and the positive class’s precision / recall / F1', () => {
    const m = metricsAt(rows, 2, 0.25)!
    expect(m.labelled).toBe(6)
    expect(m.accuracy).toBeCloseTo(5 / 6, 12)
    expect(m.precision).toBeCloseTo(3 / 4, 12)
    expect(m.recall).toBe(1)
    expect(m.f1).toBeCloseTo((2 * 0.75) / 1.75, 12)
    expect(m.perClass[0]).toEqual({ precision: 1, recall: 2 / 3, f1: 0.8, support: 3 })
  })

  it('zero_division = 0 where nothing is predicted positive', () => {
    const m = metricsAt(rows, 2, 0.99)!
    expect(m.precision).toBe(0)
    expect(m.recall).toBe(0)
    expect(m.f1).toBe(0)
    expect(m.accuracy).toBe(0.5)
  })

  it('more classes: macro averages over classes', () => {
    const cm = [
      [5, 1, 0],
      [2, 3, 1],
      [0, 0, 4]
    ]
    const m = metricsFromConfusion(cm)!
    const per = [0, 1, 2].map((c) => classScores(cm, c))
    expect(per[1]).toEqual({ precision: 0.75, recall: 0.5, f1: 0.6, support: 6 })
    expect(m.precision).toBeCloseTo((5 / 7 + 0.75 + 0.8) / 3, 12)
    expect(m.recall).toBeCloseTo((5 / 6 + 0.5 + 1) / 3, 12)
    expect(m.accuracy).toBeCloseTo(12 / 16, 12)
  })

  it('is null without labelled rows', () => {
    expect(metricsAt([bin(0.3, null)], 2)).toBeNull()
  })
})

describe('histograms', () => {
  it('bins [0, 1] with 1 in the last bin and skips non-finite values', () => {
    expect(histogram([0, 0.05, 0.1, 0.5, 0.99, 1, NaN], 10)).toEqual([2, 1, 0, 0, 0, 1, 0, 0, 0, 2])
  })

  it('groups one class’s probability by true class, unlabelled last', () => {
    const rows = [bin(0.9, 1), bin(0.1, 0), bin(0.15, 0), bin(0.5, null)]
    const h = histogramByTrueClass(rows, 2, 1, 4)
    expect(h).toEqual([
      { label: 0, counts: [2, 0, 0, 0] },
      { label: 1, counts: [0, 0, 0, 1] },
      { label: null, counts: [0, 0, 1, 0] }
    ])
  })
})

describe('predictionsCsv', () => {
  it('writes one line per image with every probability, the class at the threshold and the truth', () => {
    const rows: Prediction[] = [
      { path: '/d/a.jpg', name: 'crater/a.jpg', probabilities: [0.2, 0.8], predicted: 1, label: 1 },
      { path: '/d/b,c.jpg', name: 'b,c.jpg', probabilities: [0.6, 0.4], predicted: 0, label: null }
    ]
    expect(predictionsCsv(rows, ['other', 'crater'], 0.3)).toBe(
      'name,path,p_other,p_crater,predicted,true,correct\r\ncrater/a.jpg,/d/a.jpg,0.2,0.8,crater,crater,1\r\n"b,c.jpg","/d/b,c.jpg",0.6,0.4,crater,,\r\n'
    )
  })
})

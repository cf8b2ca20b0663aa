// Per-class precision / recall / F1 of a multi-class confusion matrix, checked by hand.
import { describe, expect, it } from 'vitest'
import { perClassScores } from '@shared/training/per-class'

describe('per-class scores', () => {
  it('reads precision from columns and recall from rows', () => {
    // truth other: 5 → 4 other, 1 crater; crater: 3 → 2 crater, 1 dune; dune: 2 → 2 other; streak: none.
    const cm = [
      [4, 1, 0, 0],
      [0, 2, 1, 0],
      [2, 0, 0, 0],
      [0, 0, 0, 0]
    ]
    const s = perClassScores(cm, ['other', 'crater', 'dune', 'streak'])
    expect(s[0]).toEqual({ className: 'other', support: 5, precision: 4 / 6, recall: 4 / 5, f1: (2 * (4 / 6) * (4 / 5)) / (4 / 6 + 4 / 5) })
    expect(s[1]).toMatchObject({ support: 3, precision: 2 / 3, recall: 2 / 3 })
    expect(s[2]).toEqual({ className: 'dune', support: 2, precision: 0, recall: 0, f1: 0 })
    expect(s[3]).toEqual({ className: 'streak', support: 0, precision: null, recall: null, f1: null })
  })
})

import { describe, expect, it } from 'vitest'
import { maskedPatchLoss, patchMse } from '../../../src/shared/stats/patchLoss'
import { expected, maxAbsDiff } from '../../fixtures/imputation/expected'

describe('masked patch losses (Prithvi forward_loss, numpy/torch reference)', () => {
  const m = expected.maeLoss
  const target = Float32Array.from(m.target)
  const pred = Float32Array.from(m.pred)

  it('model loss: per-patch MSE over all six bands, mean over masked patches', () => {
    expect(maskedPatchLoss(target, pred, m.mask, m.patch, m.height, m.width)).toBeCloseTo(m.modelLoss, 12)
  })

  it('RGB loss: the same over bands 0..2', () => {
    expect(maskedPatchLoss(target, pred, m.mask, m.patch, m.height, m.width, [0, 1, 2])).toBeCloseTo(m.rgbLoss, 12)
    expect(maxAbsDiff(patchMse(target, pred, m.patch, m.height, m.width, [0, 1, 2]), m.rgbPatchErrors)).toBeLessThan(1e-6)
  })

  it('hand-checked tiny case and edge cases', () => {
    // one band, 2 x 4, patch 2 → two patches; errors 1 everywhere in patch 0, 2 in patch 1
    const t = new Float32Array(8)
    const p = Float32Array.from([1, 1, 2, 2, 1, 1, 2, 2])
    expect(Array.from(patchMse(t, p, 2, 2, 4))).toEqual([1, 4])
    expect(maskedPatchLoss(t, p, [0, 1], 2, 2, 4)).toBe(4)
    expect(maskedPatchLoss(t, p, [0, 0], 2, 2, 4)).toBeNaN()
    expect(() => patchMse(t, p, 2, 2, 4, [1])).toThrow(/out of range/)
    expect(() => maskedPatchLoss(t, p, [1], 2, 2, 4)).toThrow(/mask has 1 entries/)
  })
})

import { describe, expect, it } from 'vitest'
import { PRITHVI_HLS_STATS as ENGINE_STATS } from '../../../src/engine/model/config'
import { PRITHVI_HLS_STATS, reflectanceFactor, validateBandStats } from '../../../src/shared/bands'
import { expected } from '../../fixtures/imputation/expected'

describe('shared band stats', () => {
  it('are identical to the engine config and the Python reference', () => {
    expect(PRITHVI_HLS_STATS).toEqual(ENGINE_STATS)
    expect(PRITHVI_HLS_STATS.mean).toEqual(expected.stats.mean)
    expect(PRITHVI_HLS_STATS.std).toEqual(expected.stats.std)
  })

  it('reflectance factor maps 255 to mean + 2 std', () => {
    expect(255 * reflectanceFactor(PRITHVI_HLS_STATS, 0)).toBeCloseTo(775.2290211032589 + 2 * 1281.526139861424, 9)
  })

  it('validates stats', () => {
    expect(validateBandStats(PRITHVI_HLS_STATS)).toEqual([])
    const errors = validateBandStats({ bands: [], mean: [1, 2, 3], std: [1, 0, -1, 1, 1, NaN] })
    expect(errors).toContain('stats.mean has 3 values, expected 6')
    expect(errors).toContain('stats.std[1] must be a positive finite number')
    expect(errors).toContain('stats.std[5] must be a positive finite number')
  })
})

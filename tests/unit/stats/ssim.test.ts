import { describe, expect, it } from 'vitest'
import { gaussianWindow, ssim, ssimMap } from '../../../src/shared/stats/ssim'
import { expected } from '../../fixtures/imputation/expected'

describe('ssim', () => {
  // Reference: numpy implementation in make_expected.py (separable 'valid' Gaussian filter,
  // population moments). Both sides use float64, so agreement is to ~1e-12; tolerance 1e-9.
  it.each(expected.ssim)('matches the numpy reference ($name)', (c) => {
    const value = ssim(c.a, c.b, c.height, c.width, { channels: c.channels })
    expect(Math.abs(value - c.expected)).toBeLessThan(1e-9)
  })

  it('is 1 for identical images and symmetric', () => {
    const c = expected.ssim[1]
    expect(ssim(c.a, c.a, c.height, c.width)).toBeCloseTo(1, 12)
    expect(ssim(c.b, c.a, c.height, c.width)).toBeCloseTo(ssim(c.a, c.b, c.height, c.width), 12)
  })

  it('hand-checked constant images: luminance term only', () => {
    // Flat images a = 100, b = 120: variances and covariance 0, so
    // SSIM = (2·100·120 + C1)/(100² + 120² + C1) with C1 = (0.01·255)² = 6.5025.
    const a = new Array(11 * 11).fill(100)
    const b = new Array(11 * 11).fill(120)
    const c1 = 6.5025
    expect(ssim(a, b, 11, 11)).toBeCloseTo((2 * 100 * 120 + c1) / (100 ** 2 + 120 ** 2 + c1), 12)
    expect(ssimMap(a, b, 11, 11)).toHaveLength(1)
  })

  it('uses a normalised 11-tap window with sigma 1.5', () => {
    const g = gaussianWindow()
    expect(g).toHaveLength(11)
    expect(g.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 15)
    expect(g[5] / g[6]).toBeCloseTo(Math.exp(1 / (2 * 1.5 * 1.5)), 12)
  })

  it('rejects images smaller than the window or mismatched sizes', () => {
    expect(() => ssim(new Array(100).fill(0), new Array(100).fill(0), 10, 10)).toThrow(/smaller than/)
    expect(() => ssim([1, 2], [1], 1, 2)).toThrow(/expected two arrays/)
  })
})

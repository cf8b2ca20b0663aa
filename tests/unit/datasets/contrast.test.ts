// The labelling view's contrast stretch: percentile levels and the linear map between them.
import { describe, expect, it } from 'vitest'
import { applyStretch, brightnessHistogram, percentileLevels, stretchTable } from '@shared/datasets/contrast'

/** RGBA pixels of the given greys. */
const grey = (values: number[]) => Uint8ClampedArray.from(values.flatMap((v) => [v, v, v, 255]))

describe('contrast stretch', () => {
  it('takes levels at percentiles of the brightness, ignoring transparent pixels', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 + Math.floor(i / 2)) // 100…149
    const px = grey(values)
    const hist = brightnessHistogram([...px, 0, 0, 0, 0])
    expect(hist.reduce((a, b) => a + b, 0)).toBe(100)
    expect(percentileLevels(hist, 2, 98)).toEqual({ low: 100, high: 148 })
    expect(percentileLevels(hist, 0, 100)).toEqual({ low: 100, high: 149 })
  })

  it('maps low to 0 and high to 255, clipping outside; a flat tile gets a one-level window', () => {
    const lut = stretchTable(100, 150)
    expect([lut[0], lut[100], lut[125], lut[150], lut[255]]).toEqual([0, 0, 128, 255, 255])
    const px = grey([90, 125, 200])
    applyStretch(px, lut)
    expect([...px]).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255])
    expect(percentileLevels(brightnessHistogram(grey([7, 7, 7])), 2, 98)).toEqual({ low: 7, high: 8 })
    expect(percentileLevels(brightnessHistogram(grey([255, 255])), 2, 98)).toEqual({ low: 254, high: 255 })
    expect(percentileLevels(new Uint32Array(256), 2, 98)).toEqual({ low: 0, high: 255 })
  })
})

// The heat map's window grid (edges flush, whole image covered, absurd requests refused), the
// raster of window scores, its colours and the CSV of windows.
import { describe, expect, it } from 'vitest'
import {
  assertHeatmapImageSize,
  fitSize,
  heatColour,
  heatRaster,
  heatRgba,
  HEATMAP_MAX_WINDOWS,
  windowGrid,
  windowScoresCsv,
  type WindowScore
} from '@shared/inference/heatmap'

describe('windowGrid', () => {
  it('steps by the stride and puts one more window flush with each edge the grid falls short of', () => {
    // 2000 px, window 224, stride 224: 0, 224, …, 1568 (8 windows) end at 1792; a ninth at 1776 ends at 2000.
    const grid = windowGrid(2000, 2000, 224, 224)
    const xs = [...new Set(grid.map((w) => w.x))]
    expect(xs).toEqual([0, 224, 448, 672, 896, 1120, 1344, 1568, 1776])
    expect(grid).toHaveLength(81)
    // Row by row: the second window is the next column of the first row.
    expect(grid[1]).toEqual({ x: 224, y: 0 })
    expect(grid[9]).toEqual({ x: 0, y: 224 })
    expect(grid[80]).toEqual({ x: 1776, y: 1776 })
  })

  it('adds no edge window when the grid ends exactly at the border', () => {
    expect(windowGrid(512, 512, 128, 64).map((w) => w.x).filter((x, i, a) => a.indexOf(x) === i)).toEqual([0, 64, 128, 192, 256, 320, 384])
    expect(windowGrid(224, 224, 224, 112)).toEqual([{ x: 0, y: 0 }])
  })

  it('covers every pixel of a long strip and never reads past it', () => {
    const w = 512
    const h = 7589
    const grid = windowGrid(w, h, 256, 128)
    const covered = new Uint8Array(h)
    for (const p of grid) {
      expect(p.x + 256).toBeLessThanOrEqual(w)
      expect(p.y + 256).toBeLessThanOrEqual(h)
      covered.fill(1, p.y, p.y + 256)
    }
    expect(covered.every((c) => c === 1)).toBe(true)
    expect(new Set(grid.map((p) => p.x))).toEqual(new Set([0, 128, 256]))
    expect(Math.max(...grid.map((p) => p.y))).toBe(h - 256)
  })

  it('refuses a window larger than the image, a stride that skips pixels and too many windows, with the numbers', () => {
    expect(() => windowGrid(100, 300, 224, 112)).toThrow(/100×300 image is smaller than the 224 px window/)
    expect(() => windowGrid(1000, 1000, 100, 150)).toThrow(/stride of 150 px skips pixels/)
    expect(() => windowGrid(1000, 1000, 0, 1)).toThrow(/window must be a positive whole number/)
    expect(() => windowGrid(10_000, 10_000, 16, 1)).toThrow(new RegExp(`at most ${HEATMAP_MAX_WINDOWS.toLocaleString('en-US')}`))
  })
})

describe('assertHeatmapImageSize', () => {
  it('accepts a CTX tile and a HiRISE strip and refuses an absurd image before decoding', () => {
    expect(() => assertHeatmapImageSize(2000, 2000, 'a.png')).not.toThrow()
    expect(() => assertHeatmapImageSize(512, 7589, 'strip.jpg')).not.toThrow()
    expect(() => assertHeatmapImageSize(60_000, 60_000, 'huge.png')).toThrow(/huge\.png is 60000×60000 \(3600 megapixels\); a heat map decodes at most 100 megapixels/)
  })
})

describe('heatRaster', () => {
  const windows: WindowScore[] = [
    { x: 0, y: 0, width: 4, height: 4, probability: 0.2 },
    { x: 2, y: 0, width: 4, height: 4, probability: 0.6 }
  ]

  it('averages the windows that cover each pixel, NaN where none does', () => {
    const r = heatRaster(windows, 6, 6, 6, 6)
    expect(r[0]).toBeCloseTo(0.2, 6) // only the first window
    expect(r[2]).toBeCloseTo(0.4, 6) // both
    expect(r[5]).toBeCloseTo(0.6, 6) // only the second
    expect(Number.isNaN(r[4 * 6]!)).toBe(true) // row 4: below both windows
  })

  it('downsamples by pixel centres', () => {
    // 6×6 → 3×3: output pixel i covers source centre 2i + 1.
    const r = heatRaster(windows, 6, 6, 3, 3)
    expect(Array.from(r.subarray(0, 3)).map((v) => +v.toFixed(6))).toEqual([0.2, 0.4, 0.6])
    expect(Number.isNaN(r[6]!)).toBe(true)
  })

  it('colours by the ramp, clamped, and leaves unscored pixels transparent', () => {
    expect(heatColour(0)).toEqual([0, 0, 4])
    expect(heatColour(1)).toEqual([252, 255, 164])
    expect(heatColour(2)).toEqual(heatColour(1))
    const rgba = heatRgba(Float32Array.from([0, NaN]), 128)
    expect(Array.from(rgba)).toEqual([0, 0, 4, 128, 0, 0, 0, 0])
  })

  it('fits a strip into a preview without enlarging a small image', () => {
    expect(fitSize(512, 7589, 1600)).toEqual({ width: 108, height: 1600 })
    expect(fitSize(300, 200, 1600)).toEqual({ width: 300, height: 200 })
  })
})

describe('windowScoresCsv', () => {
  it('writes one row per window with pixel coordinates and the probability', () => {
    const text = windowScoresCsv([
      { x: 0, y: 0, width: 224, height: 224, probability: 0.25 },
      { x: 112, y: 0, width: 224, height: 224, probability: 0.75 }
    ])
    expect(text).toBe('x,y,width,height,probability\r\n0,0,224,224,0.25\r\n112,0,224,224,0.75\r\n')
  })
})

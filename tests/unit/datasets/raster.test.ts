import { describe, expect, it } from 'vitest'
import { maskPixelCount, rasteriseMask } from '../../../src/shared/datasets/rasterise'
import { clipGeometry, ellipseInBox, translateGeometry, type Geometry } from '../../../src/shared/datasets/geometry'
import { gridRects, rectAround } from '../../../src/shared/datasets/tiling'

const square: Geometry = { kind: 'polygon', points: [[2, 2], [6, 2], [6, 6], [2, 6]] }

describe('mask rasterisation', () => {
  it('fills a polygon by pixel centres', () => {
    const m = rasteriseMask([square], 10, 10)
    expect(maskPixelCount(m)).toBe(16)
    expect(m[2 * 10 + 2]).toBe(1)
    expect(m[6 * 10 + 6]).toBe(0)
  })

  it('draws outlines of the chosen width (the study tried 5 and 15 px)', () => {
    const big: Geometry = { kind: 'polygon', points: [[20, 20], [80, 20], [80, 80], [20, 80]] }
    const thin = maskPixelCount(rasteriseMask([big], 100, 100, { mode: 'outline', width: 5 }))
    const thick = maskPixelCount(rasteriseMask([big], 100, 100, { mode: 'outline', width: 15 }))
    expect(thin).toBeGreaterThan(4 * 60 * 4)
    expect(thin).toBeLessThan(4 * 66 * 6)
    expect(thick).toBeGreaterThan(thin * 2.5)
    // The centre of the crater stays background in an outline mask.
    expect(rasteriseMask([big], 100, 100, { mode: 'outline', width: 5 })[50 * 100 + 50]).toBe(0)
  })

  it('fills the ellipse inscribed in a box close to π·a·b', () => {
    const e = ellipseInBox({ x: 10, y: 20, w: 40, h: 20 })
    const n = maskPixelCount(rasteriseMask([e], 64, 64))
    expect(Math.abs(n - Math.PI * 20 * 10) / (Math.PI * 200)).toBeLessThan(0.03)
  })

  it('clips shapes to a tile', () => {
    const moved = translateGeometry(square, -4, -4)
    const clipped = clipGeometry(moved, 10, 10)
    expect(clipped?.kind).toBe('polygon')
    expect(maskPixelCount(rasteriseMask([clipped!], 10, 10))).toBe(4)
    expect(clipGeometry(translateGeometry(square, -20, 0), 10, 10)).toBeNull()
    expect(clipGeometry({ kind: 'box', x: -5, y: 3, w: 10, h: 4 }, 10, 10)).toEqual({ kind: 'box', x: 0, y: 3, w: 5, h: 4 })
  })
})

describe('tile grids', () => {
  it('drops or pads the edges of a 2000² CTX tile at 224', () => {
    expect(gridRects(2000, 2000, { size: 224, edge: 'drop' })).toHaveLength(64)
    expect(gridRects(2000, 2000, { size: 224, edge: 'pad' })).toHaveLength(81)
    expect(gridRects(512, 7589, { size: 512, edge: 'drop' })).toHaveLength(14)
    expect(gridRects(448, 448, { size: 224, stride: 112, edge: 'drop' })).toHaveLength(9)
  })

  it('centres a clicked tile and keeps it inside the image', () => {
    expect(rectAround(100, 100, 50, 1000, 1000)).toEqual({ x: 75, y: 75, width: 50, height: 50 })
    expect(rectAround(5, 995, 224, 1000, 1000)).toEqual({ x: 0, y: 776, width: 224, height: 224 })
  })
})

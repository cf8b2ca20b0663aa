import { describe, expect, it } from 'vitest'
import { PRITHVI_HLS_STATS } from '../../../src/shared/bands'
import {
  centreCrop,
  greyToRgb,
  type HwcImage,
  resizeBilinear,
  rgbaToRgb,
  standardizeTile,
  tileGrid,
  toReflectance,
  toRgbImage
} from '../../../src/shared/imputation/preprocess'
import { expected, maxAbsDiff } from '../../fixtures/imputation/expected'

function image(h: number, w: number, c: number, f: (y: number, x: number, ch: number) => number): HwcImage {
  const data = new Uint8Array(h * w * c)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = f(y, x, ch)
  return { data, height: h, width: w, channels: c }
}

describe('toReflectance', () => {
  it.each(expected.preprocessing)('matches the study uint16 path exactly ($name)', (c) => {
    const refl = toReflectance(Uint8Array.from(c.rgb), c.height, c.width, PRITHVI_HLS_STATS, { truncate: true })
    expect(Array.from(refl)).toEqual(c.reflectanceTruncated)
  })

  it.each(expected.preprocessing)('float variant matches numpy float64 cast to float32 ($name)', (c) => {
    const refl = toReflectance(Uint8Array.from(c.rgb), c.height, c.width, PRITHVI_HLS_STATS, { truncate: false })
    expect(Array.from(refl)).toEqual(c.reflectanceFloat)
  })

  it('orders planes B, G, R and truncates toward zero', () => {
    const rgb = Uint8Array.from([10, 20, 255]) // one pixel: R=10, G=20, B=255
    const refl = toReflectance(rgb, 1, 1, PRITHVI_HLS_STATS, { truncate: true })
    const f = (i: number) => (PRITHVI_HLS_STATS.mean[i] + 2 * PRITHVI_HLS_STATS.std[i]) / 255
    expect(refl[0]).toBe(Math.floor(255 * f(0)))
    expect(refl[1]).toBe(Math.floor(20 * f(1)))
    expect(refl[2]).toBe(Math.floor(10 * f(2)))
  })

  it('accepts Uint8ClampedArray and rejects wrong sizes', () => {
    expect(toReflectance(new Uint8ClampedArray(12), 2, 2, PRITHVI_HLS_STATS, { truncate: true })).toHaveLength(12)
    expect(() => toReflectance(new Uint8Array(11), 2, 2, PRITHVI_HLS_STATS, { truncate: true })).toThrow(/expected 12 bytes/)
  })
})

describe('standardizeTile', () => {
  // After standardisation, the study's scaling and normalisation, bands B, G, R of the tile have
  // mean 0 and std 1 whatever the tile's own brightness and contrast were.
  const normalisedBands = (rgb: ArrayLike<number>, h: number, w: number) => {
    const refl = toReflectance(standardizeTile(rgb, h, w, PRITHVI_HLS_STATS), h, w, PRITHVI_HLS_STATS, { truncate: false })
    return [0, 1, 2].map((b) => {
      const plane = Array.from(refl.subarray(b * h * w, (b + 1) * h * w), (v) => (v - PRITHVI_HLS_STATS.mean[b]!) / PRITHVI_HLS_STATS.std[b]!)
      const mean = plane.reduce((a, v) => a + v, 0) / plane.length
      const std = Math.sqrt(plane.reduce((a, v) => a + (v - mean) ** 2, 0) / plane.length)
      return { mean, std }
    })
  }

  it('maps a dark low-contrast tile and a bright high-contrast one to the same band statistics', () => {
    const dark = image(8, 8, 3, (y, x, c) => 20 + ((x + y + c) % 5))
    const bright = image(8, 8, 3, (y, x, c) => 60 + 40 * ((x * 3 + y + c) % 5))
    for (const t of [dark, bright])
      for (const { mean, std } of normalisedBands(t.data, 8, 8)) {
        expect(Math.abs(mean)).toBeLessThan(1e-4)
        expect(std).toBeCloseTo(1, 4)
      }
  })

  it('is invariant to a tile brightness offset and gain', () => {
    const a = image(6, 6, 3, (y, x, c) => 10 + 7 * ((x + 2 * y + c) % 6))
    const b = image(6, 6, 3, (y, x, c) => 40 + 2 * (10 + 7 * ((x + 2 * y + c) % 6)))
    const sa = standardizeTile(a.data, 6, 6, PRITHVI_HLS_STATS)
    const sb = standardizeTile(b.data, 6, 6, PRITHVI_HLS_STATS)
    for (let i = 0; i < sa.length; i++) expect(sb[i]).toBeCloseTo(sa[i]!, 3)
  })

  it('shifts a flat tile to the band mean without amplifying it, and rejects wrong sizes', () => {
    const flat = standardizeTile(new Uint8Array(4 * 4 * 3).fill(0), 4, 4, PRITHVI_HLS_STATS)
    const refl = toReflectance(flat, 4, 4, PRITHVI_HLS_STATS, { truncate: false })
    for (let b = 0; b < 3; b++) expect(refl[b * 16]).toBeCloseTo(PRITHVI_HLS_STATS.mean[b]!, 2)
    // One grey level of texture (std 0.5) is stretched as if its std were 1, not doubled.
    const faint = standardizeTile(image(4, 4, 3, (y, x) => 100 + ((x + y) % 2)).data, 4, 4, PRITHVI_HLS_STATS)
    const band = 2 // red channel (c = 0) is band B04
    const targetStd = (255 * PRITHVI_HLS_STATS.std[band]!) / (PRITHVI_HLS_STATS.mean[band]! + 2 * PRITHVI_HLS_STATS.std[band]!)
    expect(faint[3]! - faint[0]!).toBeCloseTo(targetStd, 4)
    expect(() => standardizeTile(new Uint8Array(10), 2, 2, PRITHVI_HLS_STATS)).toThrow(/expected 12 bytes/)
  })
})

describe('channel conversion', () => {
  it('copies grey into R, G and B', () => {
    expect(Array.from(greyToRgb(Uint8Array.from([7, 200]), 1, 2))).toEqual([7, 7, 7, 200, 200, 200])
  })

  it('drops alpha from RGBA', () => {
    expect(Array.from(rgbaToRgb(Uint8ClampedArray.from([1, 2, 3, 0, 4, 5, 6, 255]), 1, 2))).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('toRgbImage handles 1 to 4 channels', () => {
    const ga = { data: Uint8Array.from([9, 128]), height: 1, width: 1, channels: 2 }
    expect(Array.from(toRgbImage(ga).data)).toEqual([9, 9, 9])
    const rgb = { data: Uint8Array.from([1, 2, 3]), height: 1, width: 1, channels: 3 }
    expect(toRgbImage(rgb)).toBe(rgb)
    expect(() => toRgbImage({ data: new Uint8Array(5), height: 1, width: 1, channels: 5 })).toThrow(/unsupported/)
  })
})

describe('centreCrop', () => {
  it('takes the floor-centred window', () => {
    const img = image(5, 6, 1, (y, x) => y * 10 + x)
    const crop = centreCrop(img, 2, 3)
    expect(crop.height).toBe(2)
    expect(crop.width).toBe(3)
    expect(Array.from(crop.data)).toEqual([11, 12, 13, 21, 22, 23]) // offset (1, 1)
    expect(Array.from(centreCrop(img, 5, 6).data)).toEqual(Array.from(img.data))
  })

  it('refuses crops larger than the image', () => {
    expect(() => centreCrop(image(4, 4, 3, () => 0), 5)).toThrow(/larger than/)
  })
})

describe('tileGrid', () => {
  const img = image(5, 7, 3, (y, x, c) => (y * 7 + x) * 3 + c)

  it('drops partial edge tiles', () => {
    const grid = tileGrid(img, 3, 'drop')
    expect([grid.rows, grid.cols, grid.tiles.length]).toEqual([1, 2, 2])
    const t = grid.tiles[1]
    expect([t.row, t.col, t.y, t.x, t.validHeight, t.validWidth]).toEqual([0, 1, 0, 3, 3, 3])
    expect(t.image.data[0]).toBe(img.data[3 * 3])
    expect(t.image.data[(1 * 3 + 2) * 3 + 1]).toBe(img.data[(1 * 7 + 5) * 3 + 1])
  })

  it('pads partial edge tiles and records the real extent', () => {
    const grid = tileGrid(img, 3, 'pad', 17)
    expect([grid.rows, grid.cols, grid.tiles.length]).toEqual([2, 3, 6])
    const corner = grid.tiles[5]
    expect([corner.row, corner.col, corner.y, corner.x, corner.validHeight, corner.validWidth]).toEqual([1, 2, 3, 6, 2, 1])
    expect(Array.from(corner.image.data.subarray(0, 3))).toEqual(Array.from(img.data.subarray((3 * 7 + 6) * 3, (3 * 7 + 6) * 3 + 3)))
    expect(corner.image.data[3]).toBe(17) // (0, 1) is padding
    expect(corner.image.data[(2 * 3) * 3]).toBe(17) // row 2 is padding
  })

  it('tiles exactly divisible images identically in both modes', () => {
    const sq = image(6, 6, 1, (y, x) => y * 6 + x)
    expect(tileGrid(sq, 3, 'pad').tiles.map((t) => Array.from(t.image.data))).toEqual(tileGrid(sq, 3, 'drop').tiles.map((t) => Array.from(t.image.data)))
  })
})

describe('resizeBilinear', () => {
  it.each(expected.resize)('matches torch bilinear align_corners=False to %#', (c) => {
    const out = resizeBilinear({ data: Uint8Array.from(c.rgb), height: c.inHeight, width: c.inWidth, channels: 3 }, c.outHeight, c.outWidth)
    expect(out.data).toHaveLength(c.outHeight * c.outWidth * 3)
    // ours is rounded to uint8; torch's float output must lie within half a level
    expect(maxAbsDiff(out.data, c.expectedFloat)).toBeLessThanOrEqual(0.5 + 1e-3)
  })

  it('is the identity at the same size', () => {
    const img = image(4, 5, 3, (y, x, c) => (y * 31 + x * 7 + c * 50) % 256)
    expect(Array.from(resizeBilinear(img, 4, 5).data)).toEqual(Array.from(img.data))
  })
})

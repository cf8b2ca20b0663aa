// How a study cuts images larger than the model: native-resolution tiles by default (a 512² crop
// at 224² gives four non-overlapping tiles; the 64 px edge strips are left out), the older centre
// crop and resize on request; images at the model's size pass through.
import { describe, expect, it } from 'vitest'
import { cutTiles } from '@engine/reconstruction/images'
import { StudySettings } from '@shared/ipc/schemas/reconstruction'
import type { HwcImage } from '@shared/imputation/preprocess'

/** A w×h RGB image whose red channel holds x mod 256 and green y mod 256 (so a tile knows where it came from). */
function ramp(w: number, h: number): HwcImage {
  const data = new Uint8Array(w * h * 3)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x % 256, y % 256, 7], (y * w + x) * 3)
  return { data, width: w, height: h, channels: 3 }
}

describe('study tiling', () => {
  it('tiles by default', () => {
    expect(StudySettings.parse({}).geometry).toBe('tile')
  })

  it('cuts a 512² crop into four 224² tiles at native resolution, edge strips left out', () => {
    const tiles = cutTiles('/x/crop.png', ramp(512, 512), 224, 'tile')
    expect(tiles.map((t) => [t.ref, t.x, t.y, t.width, t.height])).toEqual([
      ['crop.png#r0c0', 0, 0, 224, 224],
      ['crop.png#r0c1', 224, 0, 224, 224],
      ['crop.png#r1c0', 0, 224, 224, 224],
      ['crop.png#r1c1', 224, 224, 224, 224]
    ])
    // Native resolution: the tile's pixels are the image's own, unresampled.
    const t = tiles[3]!
    expect([t.rgb.width, t.rgb.height]).toEqual([224, 224])
    expect(Array.from(t.rgb.data.subarray(0, 3))).toEqual([224, 224, 7])
    expect(Array.from(t.rgb.data.subarray((223 * 224 + 223) * 3, (223 * 224 + 223) * 3 + 3))).toEqual([447 % 256, 447 % 256, 7])
    // 4 · 224² of 512² pixels are used (77 %), against one 224² centre crop (19 %).
    expect((4 * 224 * 224) / (512 * 512)).toBeCloseTo(0.766, 3)
  })

  it('gives a 512² crop at the demo model\'s 64² all of its pixels: 64 tiles', () => {
    const tiles = cutTiles('/x/crop.png', ramp(512, 512), 64, 'tile')
    expect(tiles).toHaveLength(64)
    expect(new Set(tiles.map((t) => `${t.x},${t.y}`)).size).toBe(64)
  })

  it('keeps the centre crop and resize as options, and passes model-sized images through', () => {
    const [crop] = cutTiles('/x/crop.png', ramp(512, 512), 224, 'centre-crop')
    expect([crop!.ref, crop!.x, crop!.y, crop!.width]).toEqual(['crop.png', 144, 144, 224])
    const [whole] = cutTiles('/x/crop.png', ramp(512, 512), 224, 'resize')
    expect([whole!.width, whole!.height, whole!.rgb.width]).toEqual([512, 512, 224])
    expect(cutTiles('/x/small.png', ramp(224, 224), 224, 'tile').map((t) => t.ref)).toEqual(['small.png'])
  })

  it('resizes an image smaller than the model in one direction instead of losing it', () => {
    const tiles = cutTiles('/x/thin.png', ramp(512, 100), 224, 'tile')
    expect(tiles.map((t) => [t.ref, t.width, t.height, t.rgb.width, t.rgb.height])).toEqual([['thin.png', 512, 100, 224, 224]])
  })
})

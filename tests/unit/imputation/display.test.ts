import { describe, expect, it } from 'vitest'
import { PRITHVI_HLS_STATS } from '../../../src/shared/bands'
import {
  applyStretch,
  modelInputToDisplay,
  modelInputToRgb,
  pasteVisiblePatches,
  pastVisiblePatches,
  patchErrorMap,
  rgbToRgba,
  stretchParams,
  toBytes
} from '../../../src/shared/imputation/display'
import { toReflectance } from '../../../src/shared/imputation/preprocess'
import { buildModelInput, PRESET_NAMES, RECIPE_PRESETS } from '../../../src/shared/imputation/recipes'
import { expected, maxAbsDiff } from '../../fixtures/imputation/expected'

describe('display round trip', () => {
  for (const c of expected.preprocessing) {
    const rgb = Uint8Array.from(c.rgb)

    it.each(PRESET_NAMES)(`uint8 → truncated reflectance → %s input → display is the original (${c.name})`, (name) => {
      const input = buildModelInput(toReflectance(rgb, c.height, c.width, PRITHVI_HLS_STATS, { truncate: true }), RECIPE_PRESETS[name])
      const back = modelInputToRgb(input, c.height, c.width)
      // truncation loses < 1 reflectance unit = < 1/factor ≈ 0.08 uint8 levels, always downward
      const diffs = Array.from(back, (v, i) => rgb[i] - v)
      expect(Math.max(...diffs)).toBeLessThan(1 / 13)
      expect(Math.min(...diffs)).toBeGreaterThan(-1e-3)
      expect(Array.from(modelInputToDisplay(input, c.height, c.width))).toEqual(c.rgb)
    })

    it(`float reflectance round trips to float32 precision (${c.name})`, () => {
      const input = buildModelInput(toReflectance(rgb, c.height, c.width, PRITHVI_HLS_STATS, { truncate: false }), RECIPE_PRESETS['postnorm-dup'])
      expect(maxAbsDiff(modelInputToRgb(input, c.height, c.width), rgb)).toBeLessThan(1e-3)
    })
  }

  it('rejects inputs with fewer than three planes', () => {
    expect(() => modelInputToRgb(new Float32Array(8), 2, 2)).toThrow(/C>=3/)
  })

  it('toBytes rounds halves up and clamps', () => {
    expect(Array.from(toBytes([-3, 0.5, 1.5, 2.5, 254.6, 300]))).toEqual([0, 1, 2, 3, 255, 255])
  })
})

describe('percentile stretch', () => {
  it('pools every panel and matches numpy percentiles', () => {
    const v = expected.percentile.values
    const half = Math.floor(v.length / 2)
    const params = stretchParams([v.slice(0, half), v.slice(half)], 2, 98, { channels: 1 })
    expect(params.low[0]).toBeCloseTo(expected.percentile.p2, 10)
    expect(params.high[0]).toBeCloseTo(expected.percentile.p98, 10)
  })

  it('applies the same limits to every panel', () => {
    const a = Float32Array.from([0, 50, 100, 150, 200, 250])
    const b = Float32Array.from([100, 100, 100, 25, 25, 25])
    const params = stretchParams([a, b], 0, 100)
    expect(params.low).toEqual([0, 0, 0])
    expect(params.high).toEqual([250, 250, 250])
    expect(Array.from(applyStretch(a, params))).toEqual([0, 51, 102, 153, 204, 255])
    expect(Array.from(applyStretch(b, params))).toEqual([102, 102, 102, 26, 26, 26])
  })

  it('clips outside the percentiles and supports per-channel limits', () => {
    const img = [10, 0, 5, 20, 100, 5, 30, 200, 5]
    const shared = stretchParams([img], 0, 100)
    expect(shared.low).toEqual([0, 0, 0])
    const per = stretchParams([img], 0, 100, { perChannel: true })
    expect(per.low).toEqual([10, 0, 5])
    expect(per.high).toEqual([30, 200, 5])
    expect(Array.from(applyStretch(img, per))).toEqual([0, 0, 0, 128, 128, 0, 255, 255, 0])
    expect(() => stretchParams([img], 98, 2)).toThrow(/lowPct < highPct/)
  })

  it('rgbToRgba adds opaque alpha', () => {
    expect(Array.from(rgbToRgba(Uint8Array.from([1, 2, 3, 4, 5, 6])))).toEqual([1, 2, 3, 255, 4, 5, 6, 255])
  })
})

describe('visible patches and error maps', () => {
  const c = 2, h = 4, w = 6, patch = 2
  const original = Float32Array.from({ length: c * h * w }, (_, i) => i)
  const recon = Float32Array.from({ length: c * h * w }, (_, i) => -i)

  it('pastes original values into visible (mask 0) patches only', () => {
    const mask = [1, 0, 1, 0, 1, 1] // 2 x 3 patch grid
    const out = pasteVisiblePatches(original, recon, mask, patch, h, w)
    expect(pastVisiblePatches).toBe(pasteVisiblePatches)
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = ch * h * w + y * w + x
          const visible = mask[Math.floor(y / patch) * 3 + Math.floor(x / patch)] === 0
          expect(out[i]).toBe(visible ? original[i] : recon[i])
        }
      }
    }
    expect(recon[1]).toBe(-1) // inputs untouched
    expect(() => pasteVisiblePatches(original, recon, [1, 0], patch, h, w)).toThrow(/mask has 2 entries/)
    expect(() => pasteVisiblePatches(original, recon, mask, 4, h, w)).toThrow(/not divisible/)
  })

  it('patchErrorMap is per-patch RGB MSE (numpy reference)', () => {
    const m = expected.maeLoss
    const map = patchErrorMap(Float32Array.from(m.target), Float32Array.from(m.pred), m.patch, m.height, m.width)
    expect(map).toHaveLength((m.height / m.patch) * (m.width / m.patch))
    expect(maxAbsDiff(map, m.rgbPatchErrors)).toBeLessThan(1e-6)
  })
})

import { describe, expect, it } from 'vitest'
import { PRITHVI_HLS_STATS } from '../../../src/shared/bands'
import { toReflectance } from '../../../src/shared/imputation/preprocess'
import {
  type BandRecipe,
  buildBatch,
  buildModelInput,
  LUMINANCE_WEIGHTS,
  parseRecipe,
  PRESET_NAMES,
  presetRecipe,
  RECIPE_PRESETS,
  validateRecipe
} from '../../../src/shared/imputation/recipes'
import { expected, maxAbsDiff } from '../../fixtures/imputation/expected'

const { mean, std } = PRITHVI_HLS_STATS
const reflOf = (c: (typeof expected.preprocessing)[number]) =>
  toReflectance(Uint8Array.from(c.rgb), c.height, c.width, PRITHVI_HLS_STATS, { truncate: true })

describe('presets reproduce the study (numpy reference)', () => {
  for (const c of expected.preprocessing) {
    it.each(PRESET_NAMES)(`%s on ${c.name}`, (name) => {
      const input = buildModelInput(reflOf(c), RECIPE_PRESETS[name], PRITHVI_HLS_STATS)
      expect(input).toHaveLength(6 * c.height * c.width)
      // float64 arithmetic stored as float32 on both sides: expected bit-identical
      expect(maxAbsDiff(input, c.methods[name])).toBeLessThanOrEqual(1e-6)
      expect(Array.from(input)).toEqual(c.methods[name])
    })
  }
})

describe('preset semantics', () => {
  const c = expected.preprocessing[1]
  const plane = c.height * c.width
  const refl = reflOf(c)

  it('means: bands 4-6 are exactly zero', () => {
    const input = buildModelInput(refl, RECIPE_PRESETS.means)
    expect(input.subarray(3 * plane).every((v) => v === 0)).toBe(true)
  })

  it('means stays exactly zero for other stats', () => {
    const stats = { bands: ['a', 'b', 'c', 'd', 'e', 'f'], mean: [1, 2, 3, 0.1, 0.7, 1 / 3], std: [1, 2, 3, 0.3, 0.9, 7] }
    const input = buildModelInput(refl, presetRecipe('means', stats), stats)
    expect(input.subarray(3 * plane).every((v) => v === 0)).toBe(true)
  })

  it('postnorm-dup: band 4 = (B - mean0)/std0, band 6 = (R - mean2)/std2', () => {
    const input = buildModelInput(refl, RECIPE_PRESETS['postnorm-dup'])
    for (const p of [0, 17, plane - 1]) {
      expect(input[3 * plane + p]).toBe(Math.fround((refl[p] - mean[0]) / std[0]))
      expect(input[5 * plane + p]).toBe(Math.fround((refl[2 * plane + p] - mean[2]) / std[2]))
    }
    expect(Array.from(input.subarray(3 * plane))).toEqual(Array.from(input.subarray(0, 3 * plane)))
  })

  it('prenorm-dup: band 4 = (B - mean3)/std3', () => {
    const input = buildModelInput(refl, RECIPE_PRESETS['prenorm-dup'])
    expect(input[3 * plane + 5]).toBe(Math.fround((refl[5] - mean[3]) / std[3]))
  })

  it('zero-reflectance: bands 4-6 = -mean/std', () => {
    const input = buildModelInput(refl, RECIPE_PRESETS['zero-reflectance'])
    for (const band of [3, 4, 5]) expect(input[band * plane + 2]).toBe(Math.fround(-mean[band] / std[band]))
  })

  it('luminance-dup uses BT.601 weights', () => {
    expect(LUMINANCE_WEIGHTS).toEqual({ R: 0.299, G: 0.587, B: 0.114 })
    const input = buildModelInput(refl, RECIPE_PRESETS['luminance-dup'])
    const lum = 0.299 * refl[2 * plane + 3] + 0.587 * refl[plane + 3] + 0.114 * refl[3]
    expect(input[4 * plane + 3]).toBe(Math.fround((lum - mean[4]) / std[4]))
  })

  it('custom recipe: pre-norm copy with another band\'s stats and post-norm luminance', () => {
    const recipe: BandRecipe = {
      name: 'custom',
      bands: [
        { source: 'B', stage: 'prenorm' },
        { source: 'G', stage: 'prenorm' },
        { source: 'R', stage: 'postnorm' },
        { source: 'R', stage: 'prenorm', statsBand: 2 },
        { source: 'luminance', stage: 'postnorm' },
        { source: 'constant', value: 500, stage: 'prenorm', statsBand: 0 }
      ]
    }
    expect(validateRecipe(recipe)).toEqual([])
    const input = buildModelInput(refl, recipe)
    expect(Array.from(input.subarray(3 * plane, 4 * plane))).toEqual(Array.from(input.subarray(2 * plane, 3 * plane)))
    const p = 9
    const lumNorm = 0.299 * input[2 * plane + p] + 0.587 * input[plane + p] + 0.114 * input[p]
    expect(input[4 * plane + p]).toBeCloseTo(lumNorm, 6)
    expect(input[5 * plane + p]).toBe(Math.fround((500 - mean[0]) / std[0]))
  })
})

describe('buildBatch', () => {
  it('lays tiles out as [B, 6, 1, H, W]', () => {
    const c = expected.preprocessing[1]
    const refl = reflOf(c)
    const other = refl.map((v) => v * 0.5)
    const batch = buildBatch([refl, other], c.height, c.width, RECIPE_PRESETS['prenorm-dup'])
    expect(batch.shape).toEqual([2, 6, 1, c.height, c.width])
    const per = 6 * c.height * c.width
    expect(Array.from(batch.data.subarray(0, per))).toEqual(c.methods['prenorm-dup'])
    expect(Array.from(batch.data.subarray(per))).toEqual(Array.from(buildModelInput(other, RECIPE_PRESETS['prenorm-dup'])))
  })

  it('rejects tiles of the wrong size', () => {
    expect(() => buildBatch([new Float32Array(12)], 2, 3, RECIPE_PRESETS.means)).toThrow(/expected 3x2x3/)
  })
})

describe('validateRecipe', () => {
  it('accepts every preset, including after a JSON round trip', () => {
    for (const name of PRESET_NAMES) {
      expect(validateRecipe(RECIPE_PRESETS[name])).toEqual([])
      expect(parseRecipe(JSON.stringify(RECIPE_PRESETS[name]))).toEqual(RECIPE_PRESETS[name])
    }
    // JSON round trip keeps the means preset exactly zero
    const means = parseRecipe(JSON.stringify(RECIPE_PRESETS.means))
    const input = buildModelInput(new Float32Array(12), means)
    expect(input.subarray(12).every((v) => v === 0)).toBe(true)
  })

  it('reports structural errors', () => {
    expect(validateRecipe(null)).toEqual(['recipe must be an object'])
    expect(validateRecipe({ name: '', bands: 'x' })).toEqual(['name must be a non-empty string', 'bands must be an array'])
    expect(validateRecipe({ name: 'short', bands: RECIPE_PRESETS.means.bands.slice(0, 5) })).toEqual(['bands must have 6 entries, got 5'])
    expect(validateRecipe({ ...RECIPE_PRESETS.means, colour: 'red' })).toEqual(['unknown recipe field "colour"'])
  })

  const withBand = (i: number, entry: unknown) => {
    const bands: unknown[] = [...RECIPE_PRESETS['prenorm-dup'].bands]
    bands[i] = entry
    return { name: 'user', bands }
  }

  it.each([
    [3, { source: 'NIR', stage: 'prenorm' }, 'bands[3].source must be one of B, G, R, luminance, constant'],
    [3, { source: 'B', stage: 'later' }, 'bands[3].stage must be "prenorm" or "postnorm"'],
    [4, { source: 'constant', stage: 'prenorm' }, 'bands[4].value must be a finite reflectance number for a constant band'],
    [4, { source: 'constant', value: Infinity, stage: 'prenorm' }, 'bands[4].value must be a finite reflectance number for a constant band'],
    [4, { source: 'G', value: 3, stage: 'prenorm' }, 'bands[4].value is only allowed when source is "constant"'],
    [5, { source: 'R', stage: 'prenorm', statsBand: 6 }, 'bands[5].statsBand must be an integer from 0 to 5'],
    [5, { source: 'R', stage: 'prenorm', stats_band: 2 }, 'bands[5]: unknown field "stats_band"'],
    [5, { source: 'constant', value: 0, stage: 'postnorm' }, 'bands[5]: a constant is reflectance, so it must be "prenorm" (use statsBand to choose its normalising stats)'],
    [5, { source: 'luminance', stage: 'postnorm', statsBand: 1 }, 'bands[5]: post-norm luminance combines normalised B,G,R and takes no statsBand'],
    [5, { source: 'G', stage: 'postnorm', statsBand: 4 }, "bands[5]: a post-norm copy of G is normalised with band 1's stats; statsBand must be 1 or omitted"],
    [0, { source: 'R', stage: 'prenorm' }, "bands[0] must be B normalised with its own stats (bands 1-3 are the model's B, G, R)"],
    [1, { source: 'G', stage: 'prenorm', statsBand: 4 }, "bands[1] must be G normalised with its own stats (bands 1-3 are the model's B, G, R)"],
    [2, 'R', 'bands[2] must be an object']
  ])('band %i %j → error', (i, entry, message) => {
    expect(validateRecipe(withBand(i, entry))).toEqual([message])
  })

  it('buildModelInput refuses invalid recipes', () => {
    const bad = withBand(3, { source: 'constant', stage: 'prenorm' }) as BandRecipe
    expect(() => buildModelInput(new Float32Array(3), bad)).toThrow(/invalid band recipe: bands\[3\]\.value/)
    expect(() => parseRecipe('{"name":"x"}')).toThrow(/bands must be an array/)
  })
})

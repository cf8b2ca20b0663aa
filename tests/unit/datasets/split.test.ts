import { describe, expect, it } from 'vitest'
import { findLeaks, groupedStratifiedSplit, STUDY_RATIOS, type SplitItem } from '../../../src/shared/datasets/split'
import { parseObservationId, splitGroupKey } from '../../../src/shared/datasets/observation'

function items(groups: number, perGroup: number, craterEvery = 3): SplitItem[] {
  const out: SplitItem[] = []
  let key = 1
  for (let g = 0; g < groups; g++) for (let k = 0; k < perGroup + (g % 4); k++) out.push({ key: key++, group: `ESP_${String(g).padStart(6, '0')}_1225`, stratum: (key + g) % craterEvery === 0 ? 'crater' : 'no-crater' })
  return out
}

describe('observation ids', () => {
  it('parses HiRISE ids from file names', () => {
    expect(parseObservationId('ESP_011472_1225_RED-0032.jpg')).toBe('ESP_011472_1225')
    expect(parseObservationId('PSP_001234_2050_RGB.NOMAP.browse.jpg')).toBe('PSP_001234_2050')
    expect(parseObservationId('crop_esp_060176_2640_MIRB.png')).toBe('ESP_060176_2640')
    expect(parseObservationId('ESP_011472_12250.jpg')).toBeNull()
    expect(parseObservationId('MC11E-A.png')).toBeNull()
    expect(splitGroupKey(null, 'abc')).toBe('image:abc')
  })
})

describe('grouped stratified split', () => {
  const data = items(40, 6)

  it('never puts one observation in two splits', () => {
    const split = groupedStratifiedSplit(data, { train: 0.7, valid: 0.2, test: 0.1 }, 7)
    expect(findLeaks(data.map((i) => ({ group: i.group, split: split.get(i.key)! })))).toEqual([])
    expect(split.size).toBe(data.length)
  })

  it('is reproducible from the seed and changes with it', () => {
    const a = groupedStratifiedSplit(data, STUDY_RATIOS, 42)
    const b = groupedStratifiedSplit([...data].reverse(), STUDY_RATIOS, 42)
    expect([...a].sort()).toEqual([...b].sort())
    const c = groupedStratifiedSplit(data, STUDY_RATIOS, 43)
    expect([...a].sort()).not.toEqual([...c].sort())
  })

  it('follows the ratios overall and per class', () => {
    const split = groupedStratifiedSplit(data, STUDY_RATIOS, 1)
    const n = data.length
    const train = data.filter((i) => split.get(i.key) === 'train')
    expect(train.length / n).toBeGreaterThan(0.75)
    expect(train.length / n).toBeLessThan(0.85)
    const craters = data.filter((i) => i.stratum === 'crater')
    const trainCraters = craters.filter((i) => split.get(i.key) === 'train').length
    expect(trainCraters / craters.length).toBeGreaterThan(0.72)
    expect(trainCraters / craters.length).toBeLessThan(0.88)
    expect(data.some((i) => split.get(i.key) === 'test')).toBe(false)
  })

  it('rejects ratios that do not add up', () => {
    expect(() => groupedStratifiedSplit(data, { train: 0.8, valid: 0.3, test: 0 }, 1)).toThrow(/add up to 1/)
  })

  it('reports leaks with the splits involved', () => {
    const leaks = findLeaks([
      { group: 'A', split: 'train' },
      { group: 'A', split: 'valid' },
      { group: 'B', split: 'train' },
      { group: 'C', split: null }
    ])
    expect(leaks).toEqual([{ group: 'A', splits: ['train', 'valid'], tiles: 2 }])
  })
})

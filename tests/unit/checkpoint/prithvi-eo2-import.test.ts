// Import of Prithvi-EO-2.0 checkpoints without their config.json: the family is detected from the keys
// (TerraTorch's encoder. / decoder. layout, TL scale tensors) and the shapes, the frame count of the
// position buffers and the head counts come from the published model of those sizes, and the card says
// what was read and what was assumed. With the config.json the card says the file gave everything.
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { loadCheckpoint } from '@engine/checkpoint'
import { expectedShapes } from '@engine/checkpoint/key-report'
import { inferConfig } from '@engine/checkpoint/prithvi-config'
import { modelCardLines } from '@shared/models/card-lines'
import { PRITHVI_EO2_STATS, PUBLISHED_PRITHVI, matchPublished } from '@shared/models/prithvi-catalogue'

const dir = (name: string): string => fileURLToPath(new URL(`../../fixtures/prithvi-eo2/${name}`, import.meta.url))
const shapesOf = (m: Map<string, number[]>) => new Map([...m].map(([k, shape]) => [k, { shape }]))

describe('the published Prithvi models, read off their shapes', () => {
  it('recovers every EO-2.0 size with its pre-training frames, patch 14 for 600M, and the heads from the card', () => {
    const eo2 = PUBLISHED_PRITHVI.filter((m) => m.id.startsWith('prithvi-eo2-'))
    expect(eo2.map((m) => m.id)).toEqual(['prithvi-eo2-tiny-tl', 'prithvi-eo2-100m-tl', 'prithvi-eo2-300m', 'prithvi-eo2-300m-tl', 'prithvi-eo2-600m', 'prithvi-eo2-600m-tl'])
    for (const m of eo2) {
      const pretrained = { ...m.config, num_frames: m.pretrainFrames }
      const { config, inferred, assumed } = inferConfig(shapesOf(expectedShapes(pretrained, { decoder: true })), { terratorch: true })
      expect(config, m.id).toEqual(pretrained)
      expect(assumed.join('\n'), m.id).toContain(`taken from ${m.title} (same sizes)`)
      expect(inferred.join('\n'), m.id).toMatch(/Prithvi-EO-2.0/)
      expect(matchPublished(config)?.id).toBe(m.id)
    }
  })

  it('keeps Prithvi-100M’s reading for files in its own layout', () => {
    const v1 = PUBLISHED_PRITHVI[0]!
    const { config } = inferConfig(shapesOf(expectedShapes({ ...v1.config, num_frames: 3 }, { decoder: true })))
    expect(config.pretrain_img_size).toBeUndefined()
    expect(config.num_frames).toBe(3)
    expect(matchPublished(config)?.hfId).toBe('ibm-nasa-geospatial/Prithvi-EO-1.0-100M')
  })
})

describe('the model card', () => {
  it('of the fixture without its config.json: EO-2.0 TL detected, 4 frames read, heads and statistics assumed', async () => {
    const loaded = await loadCheckpoint(dir('Prithvi_EO_V2_tiny_TL.pt'))
    expect(loaded.config).toMatchObject({ img_size: 28, patch_size: 7, num_frames: 1, pretrain_img_size: 28, coords_encoding: ['time', 'location'] })
    expect(loaded.report.unexpected).toEqual([])
    expect(loaded.card).toMatchObject({ family: 'Prithvi-EO-2.0 (TL)', published: null, config: 'inferred', stats: 'default' })
    expect(loaded.card.inferred.join('\n')).toMatch(/TerraTorch's encoder\. \/ decoder\. keys.*time and location encoding \(TL\)/)
    expect(loaded.card.assumed.join('\n')).toMatch(/taking it to hold 4 frame\(s\)/)
    expect(loaded.card.assumed.join('\n')).toMatch(/head counts cannot be read from shapes: assumed num_heads 1/)
  })

  it('of the fixture with its config.json: everything from the file', async () => {
    const loaded = await loadCheckpoint(dir('Prithvi_EO_V2_tiny_TL.pt'), { configPath: dir('config.json') })
    expect(loaded.card).toMatchObject({ family: 'Prithvi-EO-2.0 (TL)', published: null, config: 'file', stats: 'file', assumed: [] })
    const lines = new Map(modelCardLines({ ...loaded, stats: loaded.stats ?? null }))
    expect(lines.get('statistics')).toMatch(/^from its config file: BLUE GREEN RED NIR_NARROW SWIR_1 SWIR_2; mean 1087.0/)
    expect(lines.get('architecture')).toMatch(/position tables from the 28² pre-training grid; time \+ location encoding unused/)
  })

  it('of a published size names its Hugging Face source and pre-training, and says its statistics were assumed', () => {
    const m = PUBLISHED_PRITHVI.find((p) => p.id === 'prithvi-eo2-300m-tl')!
    const lines = new Map(
      modelCardLines({
        config: m.config,
        stats: PRITHVI_EO2_STATS,
        parameterCount: 303_000_000,
        card: { family: 'Prithvi-EO-2.0 (TL)', published: { ...m, id: m.id }, config: 'inferred', stats: 'preset', inferred: [], assumed: ['band statistics taken from Prithvi-EO-2.0-300M-TL (the file has none)'] }
      })
    )
    expect(lines.get('source')).toBe('https://huggingface.co/ibm-nasa-geospatial/Prithvi-EO-2.0-300M-TL (Prithvi_EO_V2_300M_TL.pt); download it yourself, nothing is fetched at run time')
    expect(lines.get('statistics')).toMatch(/^from the published model \(assumed\)/)
    expect(lines.get('pre-training')).toMatch(/Harmonized Landsat and Sentinel-2.*4 frame\(s\)$/)
    expect(lines.get('parameters')).toBe('303,000,000 (303.0 M)')
  })
})

// The marsfm-model/1 JSON the app writes beside an exported model: both families' forms, files
// written before the family was recorded (the shipped demo model's, an MAE model's with HLS-form
// stats), what is refused and why, and that a Prithvi model file reads as before (config and band
// statistics), now from the file beside it.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCheckpoint, modelFileSidecar, parseMaeConfig, parseModelFile } from '@engine/checkpoint/index'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { maeTiny } from '@shared/models/mae'
import { modelFileFamily } from '@shared/models/model-file'
import { prithviTiny } from '@engine/model/config'
import { modelCardLines } from '@shared/models/card-lines'
import { scratchDir } from './tmp'

const ROOT = resolve(__dirname, '../../..')
const DEMO = join(ROOT, 'resources/models/marsfm-demo.safetensors')
const demoJson = readFileSync(DEMO.replace(/\.safetensors$/, '.json'), 'utf8')
const MAE = join(ROOT, 'tests/fixtures/mae')
const scratch = scratchDir('model-file')
const text = (o: Record<string, unknown>) => JSON.stringify({ format: 'marsfm-model/1', ...o })

describe('the marsfm-model/1 JSON', () => {
  it('the writer records each family with its statistics in the family’s own form', () => {
    const mae = maeTiny({ mean: [0.4, 0.5, 0.6], std: [0.1, 0.2, 0.3] })
    expect(modelFileFamily(mae, PRITHVI_HLS_STATS)).toEqual({ family: 'mae', stats: { scale: '0-1', mean: [0.4, 0.5, 0.6], std: [0.1, 0.2, 0.3] } })
    expect(modelFileFamily(prithviTiny(), PRITHVI_HLS_STATS)).toEqual({ family: 'prithvi-mae', stats: PRITHVI_HLS_STATS })
    // and the reader gives back what was written
    const back = parseModelFile(text({ ...modelFileFamily(mae, PRITHVI_HLS_STATS), config: mae }))
    expect(back.config).toEqual(mae)
    expect(back.stats).toBeUndefined()
  })

  it('reads the shipped demo model’s file (written before the family was recorded) as Prithvi with its band statistics', () => {
    const demo = JSON.parse(demoJson) as { config: unknown; stats: unknown }
    const r = parseModelFile(demoJson, 'marsfm-demo.json')
    expect(r.config).toEqual(demo.config)
    expect(r.stats).toEqual(demo.stats)
    expect(r.notes).toEqual(['band statistics from the marsfm-model/1 file written by MarsFM'])
  })

  it('reads an older MAE model file (no family, HLS-form stats) with the mean / std of its config', () => {
    const cfg = maeTiny({ mean: [0.45, 0.45, 0.45], std: [0.2, 0.2, 0.2] })
    const r = parseModelFile(text({ config: cfg, stats: PRITHVI_HLS_STATS }))
    expect(r.config).toEqual(cfg)
    expect(r.stats).toBeUndefined()
    expect(r.notes[0]).toMatch(/from the config of the marsfm-model\/1 file .* older file/)
  })

  it('takes the MAE statistics from `stats` over the config, and refuses what does not fit, naming the field', () => {
    const cfg = maeTiny()
    expect(parseModelFile(text({ family: 'mae', config: cfg, stats: { scale: '0-1', mean: [0.3, 0.3, 0.3], std: [0.2, 0.2, 0.2] } })).config).toMatchObject({ mean: [0.3, 0.3, 0.3], std: [0.2, 0.2, 0.2] })
    const bad = (o: Record<string, unknown>) => () => parseModelFile(text(o), 'm.json')
    expect(bad({ family: 'mae', config: cfg, stats: { scale: '0-1', mean: [0.3, 0.3], std: [0.2, 0.2, 0.2] } })).toThrow('m.json: stats.mean has 2 value(s) but in_chans is 3')
    expect(bad({ family: 'mae', config: cfg, stats: { scale: '0-1', mean: 'x', std: [0.2] } })).toThrow('m.json: stats.mean must be a number on the 0-1 scale, or one per channel')
    expect(bad({ family: 'mae', config: cfg, stats: { scale: '0-1', mean: [120, 120, 120], std: [50, 50, 50] } })).toThrow(/0-1 pixel scale/)
    expect(bad({ family: 'mae', config: prithviTiny() })).toThrow('m.json: family is "mae" but config.family is undefined')
    expect(bad({ family: 'prithvi-mae', config: cfg })).toThrow('m.json: family is "prithvi-mae" but config.family is "mae"')
    expect(bad({ family: 'swin', config: cfg })).toThrow('m.json: unknown model family "swin"')
    expect(bad({ config: prithviTiny(), stats: { bands: ['B02'], mean: [1], std: [1] } })).toThrow('m.json: stats.bands has 1 entries but config.in_chans is 6')
    expect(bad({ config: { ...prithviTiny(), depth: 'two' } })).toThrow(/m\.json: config\.depth: /)
    expect(bad({})).toThrow('m.json: config (the architecture) is missing')
    expect(() => parseModelFile('{"format": "marsfm-model/1",', 'm.json')).toThrow(/m\.json: not valid JSON/)
  })

  it('a Prithvi model file beside its .safetensors: config and band statistics from the file, as named with --config', async () => {
    expect(modelFileSidecar(DEMO)).toBe(DEMO.replace(/\.safetensors$/, '.json'))
    const auto = await loadCheckpoint(DEMO)
    const named = await loadCheckpoint(DEMO, { configPath: DEMO.replace(/\.safetensors$/, '.json') })
    const demo = JSON.parse(demoJson) as { config: unknown; stats: unknown }
    for (const r of [auto, named]) {
      expect(r.config).toEqual(demo.config)
      expect(r.stats).toEqual(demo.stats)
      expect(r.card).toMatchObject({ family: 'Prithvi-EO-1.0 (Prithvi-100M layout)', config: 'file', stats: 'file', assumed: [] })
    }
    // A JSON beside it that is not a model file (a training checkpoint's, anything else) is not taken.
    const lone = scratch.path('lone.safetensors')
    copyFileSync(DEMO, lone)
    writeFileSync(scratch.path('lone.json'), JSON.stringify({ format: 'marsfm-training-checkpoint/1' }))
    expect(modelFileSidecar(lone)).toBeUndefined()
    expect((await loadCheckpoint(lone)).configSource).toBe('inferred')
    // A broken model file beside it is refused, naming the file and the field (--config overrides it).
    const broken = scratch.path('broken.safetensors')
    copyFileSync(DEMO, broken)
    writeFileSync(scratch.path('broken.json'), text({ family: 'swin', config: {} }))
    await expect(loadCheckpoint(broken)).rejects.toThrow(/broken\.json: unknown model family "swin"/)
    expect((await loadCheckpoint(broken, { configPath: DEMO.replace(/\.safetensors$/, '.json') })).configSource).toBe('json')
  })

  it('an MAE model inferred from its weights says its statistics are MOMO’s, assumed; from a config file, from the file', async () => {
    const inferred = await loadCheckpoint(join(MAE, 'tiny_mae_bare.pth'))
    expect(inferred.card.stats).toBe('preset')
    const line = (l: typeof inferred) => new Map(modelCardLines({ config: l.config, stats: l.stats ?? null, parameterCount: l.parameterCount, card: l.card })).get('statistics')
    expect(line(inferred)).toMatch(/\(MOMO's merged statistics, assumed\)$/)
    const fromFile = await loadCheckpoint(join(MAE, 'tiny_mae.pth'), { configPath: join(MAE, 'tiny_mae.json') })
    expect(fromFile.config).toEqual(parseMaeConfig(readFileSync(join(MAE, 'tiny_mae.json'), 'utf8')))
    expect(fromFile.card.stats).toBe('file')
    expect(line(fromFile)).toMatch(/\(from its config file\)$/)
  })
})

// The views' description of a model's input is the selected model's own: EO-2.0's statistics from its
// HF config.json (the presets exactly as the engine builds them for it), Prithvi-100M's HLS ones only
// when a model recorded none, and for the MAE family its one method with its 0-1 mean/std and channels.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseMaeConfig, readModelConfig } from '@engine/checkpoint'
import { resolveRecipe } from '@engine/reconstruction/study'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { PRESET_NAMES, type BandRecipe } from '@shared/imputation/recipes'
import { studyInputOf, tileNormHint } from '@shared/models/input-description'
import type { MaeConfig } from '@shared/models/mae'
import { ROOT } from '../../support/built'

const FIX = resolve(ROOT, 'tests/fixtures')
const MAE = parseMaeConfig(readFileSync(join(FIX, 'mae/tiny_mae.json'), 'utf8'))

describe('study input of a model', () => {
  it('EO-2.0: its own statistics in the scale and in every preset, as the engine builds them', async () => {
    const file = await readModelConfig(join(FIX, 'prithvi-eo2/config.json'))
    expect(file.stats?.bands[0]).toBe('BLUE')
    const input = studyInputOf({ name: 'eo2', config: file.config, stats: file.stats!, card: null })
    if (input.family !== 'prithvi') throw new Error('expected the Prithvi family')
    expect(input.stats).toEqual(file.stats)
    // (1087 + 2·2248)/255 = 21.894: EO-2.0's BLUE, not HLS B02's 13.091.
    expect(input.scale).toContain('BLUE (1087.0 + 2·2248.0)/255 = 21.894')
    expect(input.pipeline).not.toContain('775.2')
    expect(input.presets).toEqual(PRESET_NAMES.map((n) => resolveRecipe(n, file.stats!)))
    const text = Object.fromEntries(input.methods.map((m) => [m.name, m.text]))
    expect(text.means).toContain('NIR_NARROW = 2734.0 → 0.00')
    // Reflectance 0 normalised with EO-2.0's NIR statistics: −2734 / 1850 = −1.48.
    expect(text['zero-reflectance']).toContain('NIR_NARROW = 0.0 → -1.48')
    expect(text['prenorm-dup']).toContain('SWIR_1 = G reflectance, (x − 1958.0) / 1242.0')
    expect(text['postnorm-dup']).toContain('SWIR_2 = normalised RED')
  })

  it('a Prithvi model without statistics says it falls back to Prithvi-100M HLS', () => {
    const eo2Like = { img_size: 28, patch_size: 7, num_frames: 1, tubelet_size: 1, in_chans: 6, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2, mlp_ratio: 4, norm_pix_loss: false }
    const input = studyInputOf({ name: 'bare', config: eo2Like as never, stats: null })
    if (input.family !== 'prithvi') throw new Error('expected the Prithvi family')
    expect(input.stats).toBe(PRITHVI_HLS_STATS)
    expect(input.statsFrom).toContain("Prithvi-100M's HLS statistics")
    expect(input.scale).toContain('B02 (775.2 + 2·1281.5)/255 = 13.091')
  })

  it('describes a saved recipe with the model statistics too', async () => {
    const file = await readModelConfig(join(FIX, 'prithvi-eo2/config.json'))
    const mine: BandRecipe = { name: 'mine', bands: [{ source: 'B', stage: 'prenorm' }, { source: 'G', stage: 'prenorm' }, { source: 'R', stage: 'prenorm' }, { source: 'constant', value: 1000, stage: 'prenorm', statsBand: 0 }, { source: 'luminance', stage: 'postnorm' }, { source: 'luminance', stage: 'prenorm' }] }
    const input = studyInputOf({ name: 'eo2', config: file.config, stats: file.stats!, card: null }, [mine])
    const line = input.methods.find((m) => m.name === 'mine')!.text
    // 1000 normalised with BLUE's statistics: (1000 − 1087)/2248 = −0.04.
    expect(line).toBe('NIR_NARROW = 1000.0 → -0.04; SWIR_1 = luminance of the normalised BLUE, GREEN, RED; SWIR_2 = luminance reflectance, (x − 1363.0) / 1049.0')
  })

  it('an MAE-family model: only native, with its mean/std and channels, and why no recipe', () => {
    const input = studyInputOf({ name: 'tiny mae', config: MAE, stats: PRITHVI_HLS_STATS, card: null })
    if (input.family !== 'mae') throw new Error('expected the MAE family')
    expect(input.methods.map((m) => m.name)).toEqual(['native'])
    expect(input.methods[0]!.text).toContain('x / 255 (0-1 scale), three channels: RGB as it is, a grey tile replicated to R = G = B, then (x − mean) / std with mean 0.5006 (each channel), std 0.1664 (each channel)')
    expect(input.pipeline).toBe("RGB tiles → tiny mae's own input (native: 0-1 scale, its mean / std, three channels) → its MAE, scored with its own loss. One mask per tile.")
    expect(input.whyNoRecipes).toMatch(/six HLS bands .* 3 input channels on the 0-1 scale/)
    const greyConfig: MaeConfig = { ...MAE, in_chans: 1, mean: [0.5052], std: [0.1785] }
    const grey = studyInputOf({ name: 'grey', config: greyConfig, stats: null })
    if (grey.family !== 'mae') throw new Error('expected the MAE family')
    expect(grey.methods[0]!.text).toContain('RGB turned grey (BT.601 luma), one channel, then (x − mean) / std with mean 0.5052, std 0.1785')
    expect(grey.whyNoRecipes).toContain('1 input channel on')
  })

  it('the tile-standardisation hint follows the family', () => {
    expect(tileNormHint(MAE)).toMatch(/mean 0 and std 1 over the tile.*stretched differently/)
    expect(tileNormHint(null)).toMatch(/band statistics before the reflectance scaling.*stretched differently/)
  })
})

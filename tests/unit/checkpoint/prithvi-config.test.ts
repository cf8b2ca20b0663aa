// Prithvi_100M_config.yaml reading (official layout) and architecture inference from shapes.

import { describe, expect, it } from 'vitest'
import { inferConfig, parsePrithviConfig, readPrithviConfig } from '@engine/checkpoint/prithvi-config'
import { expectedShapes } from '@engine/checkpoint/key-report'
import { prithvi100m, prithviTiny } from '@engine/model/config'
import { fixture } from './fixtures'

const OFFICIAL_ARGS = `model_args:
  decoder_depth: 8
  decoder_embed_dim: 512
  decoder_num_heads: 16
  depth: 12
  embed_dim: 768
  img_size: 224
  in_chans: 6
  num_frames: 3
  num_heads: 12
  patch_size: 16
  tubelet_size: 1
`

const shapesOf = (m: Map<string, number[]>) => new Map([...m].map(([k, shape]) => [k, { shape }]))

describe('parsePrithviConfig', () => {
  it('reads the tiny fixture config with its band statistics', async () => {
    const { config, stats } = await readPrithviConfig(fixture('Prithvi_tiny_config.yaml'))
    expect(config).toEqual(prithviTiny({ num_frames: 3 }))
    expect(stats!.bands).toEqual(['blue', 'green', 'red', 'nir', 'swir16', 'swir22'])
    expect(stats!.mean[0]).toBe(775.2290211032589)
    expect(stats!.std[5]).toBe(1154.505683480695)
  })

  it('reads the official layout; mlp_ratio and norm_pix_loss default when absent', () => {
    const { config, stats } = parsePrithviConfig(OFFICIAL_ARGS)
    expect(config).toEqual(prithvi100m({ num_frames: 3 }))
    expect(stats).toBeUndefined()
    expect(parsePrithviConfig(OFFICIAL_ARGS.replace('  depth: 12\n', '  depth: 12\n  mlp_ratio: 2\n  norm_pix_loss: False\n')).config.mlp_ratio).toBe(2)
  })

  it.each([
    [OFFICIAL_ARGS.replace('  embed_dim: 768\n', ''), 'model_args.embed_dim is missing'],
    [OFFICIAL_ARGS.replace('patch_size: 16', 'patch_size: sixteen'), 'model_args.patch_size must be a positive integer, got "sixteen"'],
    [OFFICIAL_ARGS.replace('img_size: 224', 'img_size: 230'), 'img_size 230 is not a multiple of patch_size 16'],
    [OFFICIAL_ARGS.replace('num_heads: 12', 'num_heads: 7'), 'embed_dim 768 does not split into 7 heads'],
    ['train_params: {}\n', 'model_args is missing'],
    ['model_args: [1, 2\n', 'not valid YAML'],
    [OFFICIAL_ARGS + 'train_params:\n  data_mean: [1, 2, 3, 4, 5, 6]\n  bands: [a, b, c, d, e, f]\n', 'train_params.data_std is missing'],
    [OFFICIAL_ARGS + 'train_params:\n  data_mean: [1, 2]\n  data_std: [1, 2]\n  bands: [a, b]\n', 'train_params.bands has 2 entries but model_args.in_chans is 6'],
    [OFFICIAL_ARGS + 'train_params:\n  data_mean: [1, 2, x, 4, 5, 6]\n  data_std: [1, 2, 3, 4, 5, 6]\n  bands: [a, b, c, d, e, f]\n', 'train_params.data_mean must be a list of numbers']
  ])('rejects a bad file, naming the field (%#)', (text, message) => {
    expect(() => parsePrithviConfig(text, 'my.yaml')).toThrow(expect.objectContaining({ code: 'bad-config', message: expect.stringContaining(message) }))
  })

  it('names the file it cannot read', async () => {
    await expect(readPrithviConfig('/nonexistent/Prithvi_100M_config.yaml')).rejects.toMatchObject({ code: 'bad-config', message: expect.stringContaining('ENOENT') })
  })
})

describe('inferConfig', () => {
  it('recovers Prithvi-100M from its shapes (pos_embed of 589 rows = 3 frames of 14×14)', () => {
    const { config, notes } = inferConfig(shapesOf(expectedShapes(prithvi100m({ num_frames: 3 }), { decoder: true })))
    expect(config).toEqual(prithvi100m({ num_frames: 3 }))
    // Heads leave no trace in shapes: they come from the published model of these sizes, said so.
    expect(notes.join('\n')).toMatch(/num_heads 12, decoder_num_heads 16 taken from Prithvi-EO-1.0-100M/)
  })

  it('reads img_size from a single-frame pos_embed (the study)', () => {
    const { config } = inferConfig(shapesOf(expectedShapes(prithvi100m({ num_frames: 1 }), { decoder: false })))
    expect(config.img_size).toBe(224)
    expect(config.num_frames).toBe(1)
  })

  it('infers the tiny model except its head counts, and says heads were assumed', () => {
    const { config, notes } = inferConfig(shapesOf(expectedShapes(prithviTiny({ num_frames: 3 }), { decoder: true })))
    expect(config).toEqual(prithviTiny({ num_frames: 3, num_heads: 1, decoder_num_heads: 1 }))
    expect(notes.some((n) => n.includes('head counts cannot be read from shapes'))).toBe(true)
  })

  it('falls back to 224 without pos_embed and to Prithvi decoder sizes without a decoder', () => {
    const shapes = expectedShapes(prithvi100m({ img_size: 448 }), { decoder: false })
    shapes.delete('pos_embed')
    const { config, notes } = inferConfig(shapesOf(shapes))
    expect(config.img_size).toBe(224)
    expect(config.decoder_embed_dim).toBe(512)
    expect(notes.some((n) => n.startsWith('img_size assumed 224'))).toBe(true)
    expect(notes.some((n) => n.startsWith('no decoder weights'))).toBe(true)
  })

  it('needs patch_embed.proj.weight', () => {
    expect(() => inferConfig(new Map([['cls_token', { shape: [1, 1, 768] }]]))).toThrow(expect.objectContaining({ code: 'bad-config', message: expect.stringContaining('patch_embed.proj.weight') }))
  })
})

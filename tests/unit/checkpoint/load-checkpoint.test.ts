// loadCheckpoint end to end on every fixture: names, config source, report, extras, hashes.

import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { assertLoadable, loadCheckpoint, writeSafetensors } from '@engine/checkpoint/index'
import { expectedShapes } from '@engine/checkpoint/key-report'
import { prithviTiny } from '@engine/model/config'
import { EVIL_MARKER, expectAll, expected, expectTensor, fixture } from './fixtures'
import { scratchDir } from './tmp'

const scratch = scratchDir('load')
const TINY3 = prithviTiny({ num_frames: 3 })
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

describe('loadCheckpoint', () => {
  it('loads the plain float32 checkpoint with an inferred config', async () => {
    const r = await loadCheckpoint(fixture('tiny_prithvi.pt'))
    expect(r.format).toBe('pytorch-zip')
    expect(r.sha256).toBe(sha256(fixture('tiny_prithvi.pt')))
    expect(r.configSource).toBe('inferred')
    // Heads cannot be inferred; frames default to the study's single frame.
    expect(r.config).toEqual(prithviTiny({ num_heads: 1, decoder_num_heads: 1 }))
    expect(r.notes.some((n) => n.includes('head counts'))).toBe(true)
    expect(r.dtype).toBe('float32')
    expect(r.hasDecoder).toBe(true)
    expect(r.stateDictPath).toEqual([])
    expect(r.report).toMatchObject({ missing: [], unexpected: [], wrongShape: [], ignored: ['pos_embed', 'decoder_pos_embed'] })
    const names = [...expectedShapes(r.config, { decoder: true }).keys()].filter((n) => !n.includes('pos_embed'))
    expect([...r.weights.keys()]).toEqual(names)
    expect(r.report.loaded).toEqual(names)
    expect(r.extra.size).toBe(0)
    const want = expected('tiny_prithvi.expected.json')
    expect(r.parameterCount).toBe(Object.entries(want.tensors).filter(([n]) => !n.includes('pos_embed')).reduce((a, [, t]) => a + t.shape.reduce((x, y) => x * y, 1), 0))
    const { pos_embed: _p, decoder_pos_embed: _d, ...rest } = want.tensors
    expectAll(r.weights, { tensors: rest })
    expect(() => assertLoadable(r.report)).not.toThrow()
  })

  it('takes the architecture and band statistics from the yaml', async () => {
    const r = await loadCheckpoint(fixture('tiny_prithvi.pt'), { configPath: fixture('Prithvi_tiny_config.yaml') })
    expect(r.configSource).toBe('yaml')
    expect(r.config).toEqual(prithviTiny({ num_frames: 1 }))
    expect(r.stats?.bands).toHaveLength(6)
    const three = await loadCheckpoint(fixture('tiny_prithvi.pt'), { configPath: fixture('Prithvi_tiny_config.yaml'), numFrames: 3 })
    expect(three.config.num_frames).toBe(3)
  })

  it('uses a given config as is', async () => {
    const r = await loadCheckpoint(fixture('tiny_prithvi.pt'), { config: TINY3 })
    expect(r.configSource).toBe('given')
    expect(r.config).toEqual(TINY3)
    expect(r.config).not.toBe(TINY3)
    expect(r.report.missing).toEqual([])
  })

  it.each([
    ['tiny_prithvi_f16.pt', 'float16'],
    ['tiny_prithvi_bf16.pt', 'bfloat16']
  ])('loads %s and reports its dtype', async (file, dtype) => {
    const r = await loadCheckpoint(fixture(file), { config: TINY3 })
    expect(r.dtype).toBe(dtype)
    expect(r.report.missing).toEqual([])
    const { pos_embed: _p, ...rest } = expected(file.replace('.pt', '.expected.json')).tensors
    expectAll(r.weights, { tensors: rest })
  })

  it('unwraps a Lightning checkpoint (model.encoder_model.*) and keeps the head as extra', async () => {
    const r = await loadCheckpoint(fixture('tiny_lightning.ckpt'), { extra: true })
    expect(r.stateDictPath).toEqual(['state_dict'])
    expect(r.hasDecoder).toBe(false)
    expect(r.config.img_size).toBe(32) // from the single-frame pos_embed
    expect(r.report).toMatchObject({ missing: [], wrongShape: [], ignored: ['pos_embed'], unexpected: ['model.head.weight', 'model.head.bias'] })
    expect(r.weights.size).toBe(expectedShapes(r.config, { decoder: false }).size - 1)
    const want = expected('tiny_lightning.expected.json')
    expectTensor(r.weights.get('cls_token'), want.tensors['model.encoder_model.cls_token']!, 'cls_token')
    expectTensor(r.weights.get('blocks.1.attn.qkv.weight'), want.tensors['model.encoder_model.blocks.1.attn.qkv.weight']!, 'qkv')
    expectTensor(r.extra.get('model.head.weight'), want.tensors['model.head.weight']!, 'head')
    expect(r.extra.get('model.head.bias')!.shape).toEqual([5])
  })

  it('unwraps an MMSegmentation checkpoint (backbone.*) and keeps neck and decode head as extra', async () => {
    const r = await loadCheckpoint(fixture('tiny_mmseg.pth'), { config: TINY3, extra: true })
    expect(r.stateDictPath).toEqual(['state_dict'])
    expect(r.report.missing).toEqual([])
    expect(r.report.unexpected).toEqual(['neck.fpn1.0.weight', 'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'])
    const want = expected('tiny_mmseg.expected.json')
    expectTensor(r.weights.get('patch_embed.proj.weight'), want.tensors['backbone.patch_embed.proj.weight']!, 'patch')
    expectTensor(r.weights.get('norm.bias'), want.tensors['backbone.norm.bias']!, 'norm')
    expectTensor(r.extra.get('decode_head.conv_seg.weight'), want.tensors['decode_head.conv_seg.weight']!, 'seg')
  })

  it('loads non-contiguous and offset views correctly, reporting what is missing', async () => {
    const r = await loadCheckpoint(fixture('tiny_views.pt'), { config: TINY3 })
    const { pos_embed: _p, ...rest } = expected('tiny_views.expected.json').tensors
    expectAll(r.weights, { tensors: rest })
    expect(r.report.loaded).toHaveLength(Object.keys(rest).length)
    expect(r.report.missing).toContain('blocks.1.attn.qkv.weight')
    expect(() => assertLoadable(r.report)).toThrow(expect.objectContaining({ code: 'missing-weights' }))
  })

  it('materialises nothing the model does not use unless asked (extra)', async () => {
    const r = await loadCheckpoint(fixture('tiny_mmseg.pth'), { config: TINY3 })
    expect(r.report.unexpected).toEqual(['neck.fpn1.0.weight', 'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'])
    expect(r.extra.size).toBe(0)
  })

  it('reports a wrong-shape weight, keeps it out of the weights, and assertLoadable names it', async () => {
    const r = await loadCheckpoint(fixture('tiny_wrong_shape.pt'), { config: TINY3, extra: true })
    expect(r.report.wrongShape).toEqual([{ name: 'blocks.1.mlp.fc1.weight', expected: [128, 32], got: [100, 32] }])
    expect(r.report.missing).toEqual([])
    expect(r.report.ignored).toEqual(['pos_embed', 'decoder_pos_embed']) // 1-frame pos_embed is not "wrong"
    expect(r.weights.has('blocks.1.mlp.fc1.weight')).toBe(false)
    expect(r.extra.get('blocks.1.mlp.fc1.weight')!.shape).toEqual([100, 32])
    expect(() => assertLoadable(r.report)).toThrow(
      expect.objectContaining({ code: 'wrong-shape', message: expect.stringContaining('blocks.1.mlp.fc1.weight is [100, 32], expected [128, 32]') })
    )
  })

  it('loads safetensors the same way, prefixes included', async () => {
    const pt = await loadCheckpoint(fixture('tiny_prithvi.pt'), { config: TINY3 })
    const prefixed = new Map([...pt.weights].map(([k, v]) => [`backbone.${k}`, v]))
    const path = scratch.path('tiny.safetensors')
    await writeSafetensors(path, prefixed)
    const st = await loadCheckpoint(path, { config: TINY3 })
    expect(st.format).toBe('safetensors')
    expect(st.sha256).toBe(sha256(path))
    expect(st.report).toMatchObject({ missing: [], unexpected: [], wrongShape: [], ignored: [] })
    for (const [k, w] of pt.weights) expect(st.weights.get(k)!.data).toEqual(w.data)
    const { pos_embed: _p, decoder_pos_embed: _d, ...rest } = expected('tiny_prithvi.expected.json').tensors
    expectAll(st.weights, { tensors: rest })
  })

  it('refuses the hostile checkpoints without running them', async () => {
    rmSync(EVIL_MARKER, { force: true })
    for (const file of ['evil.pt', 'evil_reduce.pt']) {
      await expect(loadCheckpoint(fixture(file))).rejects.toMatchObject({ code: 'unsafe-global' })
    }
    await new Promise((r) => setTimeout(r, 200))
    expect(existsSync(EVIL_MARKER)).toBe(false)
  })

  it('reports a truncated file and a bad config path clearly', async () => {
    await expect(loadCheckpoint(fixture('tiny_prithvi_f16_truncated.pt'))).rejects.toMatchObject({ code: 'truncated', message: expect.stringContaining('file truncated?') })
    await expect(loadCheckpoint(fixture('tiny_prithvi.pt'), { configPath: fixture('nope.yaml') })).rejects.toMatchObject({ code: 'bad-config' })
    await expect(loadCheckpoint(fixture('tiny_prithvi.pt'), { config: TINY3, numFrames: 2 })).resolves.toBeDefined()
    await expect(loadCheckpoint(fixture('tiny_prithvi.pt'), { config: prithviTiny({ tubelet_size: 2 }), numFrames: 3 })).rejects.toMatchObject({ code: 'bad-config' })
  })
})

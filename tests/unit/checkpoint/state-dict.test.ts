// Locating the state dict, stripping wrapper prefixes, expected shapes and the key report.

import { describe, expect, it } from 'vitest'
import { assertLoadable, buildKeyReport, expectedShapes } from '@engine/checkpoint/key-report'
import { findStateDict, mapStateDictNames, toPrithviName } from '@engine/checkpoint/state-dict'
import { prithvi100m, prithviTiny } from '@engine/model/config'

const isNum = (v: unknown): v is number => typeof v === 'number'

describe('findStateDict', () => {
  it('takes the top level when it holds tensors', () => {
    const root = new Map<unknown, unknown>([['a', 1], ['b', 2], ['_note', 'x']])
    expect(findStateDict(root, isNum)).toEqual({ path: [], tensors: new Map([['a', 1], ['b', 2]]) })
  })

  it('looks under state_dict, model and module, a few levels deep', () => {
    const lightning = new Map<unknown, unknown>([['epoch', 'seven'], ['state_dict', new Map([['w', 1]])]])
    expect(findStateDict(lightning, isNum).path).toEqual(['state_dict'])
    const nested = new Map<unknown, unknown>([['model', new Map([['module', new Map([['w', 1]])]])]])
    expect(findStateDict(nested, isNum).path).toEqual(['model', 'module'])
  })

  it('names the top-level keys when there is no state dict', () => {
    const root = new Map<unknown, unknown>([['optimizer', new Map()], ['epoch', 'x']])
    expect(() => findStateDict(root, isNum)).toThrow(expect.objectContaining({ code: 'no-state-dict', message: expect.stringContaining('"optimizer", "epoch"') }))
  })
})

describe('prefix renames', () => {
  it.each([
    ['blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.weight'],
    ['model.encoder_model.blocks.3.mlp.fc1.bias', 'blocks.3.mlp.fc1.bias'],
    ['backbone.patch_embed.proj.weight', 'patch_embed.proj.weight'],
    ['module.backbone.cls_token', 'cls_token'],
    ['encoder.norm.weight', 'norm.weight'],
    ['decoder.decoder_pred.bias', 'decoder_pred.bias'],
    ['model.mask_token', 'mask_token']
  ])('%s → %s', (key, ours) => {
    expect(toPrithviName(key)?.name).toBe(ours)
  })

  it.each(['model.head.weight', 'decode_head.conv_seg.weight', 'neck.fpn1.0.weight', 'decoder.blocks.0.norm1.weight', 'blocks.0.attn.q.weight'])(
    'leaves %s alone',
    (key) => {
      expect(toPrithviName(key)).toBeUndefined()
    }
  )

  it('prefers the key that needed no stripping when two map to one name', () => {
    const m = mapStateDictNames(['module.norm.weight', 'norm.weight', 'head.bias'])
    expect(m.byOurName.get('norm.weight')).toBe('norm.weight')
    expect(m.unmapped).toEqual(['module.norm.weight', 'head.bias'])
  })
})

describe('expectedShapes', () => {
  it('gives the official Prithvi-100M shapes', () => {
    const s = expectedShapes(prithvi100m(), { decoder: true })
    expect(s.get('patch_embed.proj.weight')).toEqual([768, 6, 1, 16, 16])
    expect(s.get('pos_embed')).toEqual([1, 197, 768])
    expect(expectedShapes(prithvi100m({ num_frames: 3 }), { decoder: true }).get('pos_embed')).toEqual([1, 589, 768])
    expect(s.get('blocks.11.mlp.fc1.weight')).toEqual([3072, 768])
    expect(s.get('decoder_blocks.7.attn.qkv.weight')).toEqual([1536, 512])
    expect(s.get('decoder_pred.weight')).toEqual([1536, 512])
    expect(s.get('mask_token')).toEqual([1, 1, 512])
    expect(s.has('blocks.12.norm1.weight')).toBe(false)
    let params = 0
    for (const [name, shape] of s) if (!name.includes('pos_embed')) params += shape.reduce((a, b) => a * b, 1)
    expect(params).toBe(86_237_184 + 26_402_304) // encoder + decoder of the "100M" MAE
  })

  it('drops the decoder when asked', () => {
    const s = expectedShapes(prithviTiny(), { decoder: false })
    expect([...s.keys()].some((n) => n.startsWith('decoder') || n === 'mask_token')).toBe(false)
    expect(s.size).toBe(4 + 2 * 12 + 2)
  })
})

describe('key report', () => {
  const cfg = prithviTiny({ num_frames: 3 })
  const exp = expectedShapes(cfg, { decoder: false })

  function report(entries: [string, number[]][]) {
    const shapes = new Map(entries)
    const keys = [...shapes.keys()]
    return buildKeyReport(keys, mapStateDictNames(keys), (k) => shapes.get(k)!, exp)
  }

  it('sorts keys into loaded, missing, unexpected, wrong-shape and ignored', () => {
    const all = [...exp].filter(([n]) => n !== 'norm.bias' && n !== 'blocks.1.mlp.fc1.weight')
    const r = report([
      ...all.map(([n, s]): [string, number[]] => [`backbone.${n}`, n === 'pos_embed' ? [1, 17, 32] : s]),
      ['backbone.blocks.1.mlp.fc1.weight', [100, 32]],
      ['backbone.blocks.5.norm1.weight', [32]],
      ['decode_head.conv_seg.weight', [2, 8, 1, 1]]
    ])
    expect(r.missing).toEqual(['norm.bias'])
    expect(r.wrongShape).toEqual([{ name: 'blocks.1.mlp.fc1.weight', expected: [128, 32], got: [100, 32] }])
    expect(r.ignored).toEqual(['pos_embed'])
    expect(r.unexpected).toEqual(['backbone.blocks.5.norm1.weight', 'decode_head.conv_seg.weight'])
    expect(r.loaded.length).toBe(exp.size - 1 - 1 - 1)
    expect(r.loaded[0]).toBe('cls_token')
    expect(() => assertLoadable(r)).toThrow(
      expect.objectContaining({
        code: 'wrong-shape',
        message: 'checkpoint does not fit the model: 1 weight(s) have the wrong shape: blocks.1.mlp.fc1.weight is [100, 32], expected [128, 32]; 1 weight(s) are missing: norm.bias'
      })
    )
  })

  it('passes a complete checkpoint', () => {
    const r = report([...exp])
    expect(r.missing).toEqual([])
    expect(r.ignored).toEqual(['pos_embed'])
    expect(() => assertLoadable(r)).not.toThrow()
    expect(() => assertLoadable({ ...r, missing: ['norm.bias'] })).toThrow(expect.objectContaining({ code: 'missing-weights' }))
  })
})

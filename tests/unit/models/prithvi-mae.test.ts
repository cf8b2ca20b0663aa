// The Prithvi family spec against what really exists: the PyTorch fixture state dicts (names,
// shapes, state_dict order, wrapped by Lightning and MMSeg), the tfjs model's variables and the
// ONNX exporter's initializers, for a few configs.

import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { readRawStateDict } from '@engine/checkpoint'
import { mapStateDictNames } from '@engine/checkpoint/state-dict'
import { randomWeights } from '@engine/model/params'
import { PrithviMAE } from '@engine/model/prithvi'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { loadTf, type Tf } from '@engine/tf/backend'
import { checkWeights, shapesByName, stateDictOrder, type WeightSpec } from '@shared/models/family'
import { isPrithviName, prithviMae, prithviTiny, type PrithviConfig } from '@shared/models/prithvi-mae'
import { MODEL_FAMILIES, modelFamily } from '@shared/models/registry'
import { decodeModel } from '../onnx/decode-onnx'

const fixture = (name: string): string => new URL(`../../fixtures/checkpoints/${name}`, import.meta.url).pathname
const expected = JSON.parse(readFileSync(fixture('tiny_prithvi.expected.json'), 'utf8')) as {
  keys: string[]
  config: Omit<PrithviConfig, 'norm_pix_loss' | 'num_frames'> & { num_frames?: number }
  tensors: Record<string, { shape: number[] }>
}
// The fixtures' model: the tiny config written by make_checkpoints.py, pre-trained on 3 frames.
const TINY3 = prithviTiny({ ...expected.config, num_frames: 3 })

const declared = (cfg: PrithviConfig, decoder: boolean): WeightSpec[] => prithviMae.checkpointTensors(cfg, { decoder })

describe('the Prithvi spec against the PyTorch fixtures', () => {
  it('names every tensor of the official state dict, in its order, with its shape', () => {
    const spec = stateDictOrder(declared(TINY3, true))
    expect(spec.map((s) => s.name)).toEqual(expected.keys)
    for (const s of spec) expect(s.torchShape, s.name).toEqual(expected.tensors[s.name]!.shape)
  })

  it.each([
    ['tiny_prithvi.pt', TINY3, true, []],
    ['tiny_prithvi_f16.pt', TINY3, true, []],
    // Lightning fine-tuning: the encoder under model.encoder_model., pos_embed rebuilt for one frame, a head.
    ['tiny_lightning.ckpt', { ...TINY3, num_frames: 1 }, false, ['model.head.weight', 'model.head.bias']],
    // MMSegmentation: backbone., a neck and a decode head.
    ['tiny_mmseg.pth', TINY3, false, ['neck.fpn1.0.weight', 'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']]
  ] as const)('%s: the spec maps every model tensor, shapes included, and nothing else', async (file, cfg, decoder, others) => {
    const raw = await readRawStateDict(fixture(file))
    const mapping = mapStateDictNames(raw.keys(), prithviMae)
    expect(mapping.unmapped).toEqual(others)
    const want = shapesByName(declared(cfg, decoder))
    expect(new Set(mapping.byOurName.keys())).toEqual(new Set(want.keys()))
    for (const [ours, key] of mapping.byOurName) expect(raw.get(key)!.shape, key).toEqual(want.get(ours))
    const weights = new Map([...mapping.byOurName].map(([ours, key]) => [ours, raw.get(key)!]))
    expect(() => checkWeights(prithviMae.weightSpecs(cfg, { decoder }), weights)).not.toThrow()
  })

  it('recognises names at any block index, and not heads or necks', () => {
    for (const s of declared(prithviTiny({ depth: 12, decoder_depth: 8 }), true)) expect(isPrithviName(s.name), s.name).toBe(true)
    expect(isPrithviName('blocks.31.mlp.fc2.bias')).toBe(true)
    expect(prithviMae.isDecoderName('decoder_blocks.7.attn.qkv.weight')).toBe(true)
    expect(prithviMae.isDecoderName('blocks.7.attn.qkv.weight')).toBe(false)
    for (const name of ['head.weight', 'blocks.0.attn.qkv', 'blocks.x.norm1.weight', 'decoder_blocks.0.conv.weight', 'norm.running_mean']) expect(isPrithviName(name), name).toBe(false)
    // Position tables, and EO-2.0's TL scales (kept, never used: Mars tiles have no time or location).
    expect([...prithviMae.fixedBuffers]).toEqual(['pos_embed', 'temporal_embed_enc.scale', 'location_embed_enc.scale', 'decoder_pos_embed', 'temporal_embed_dec.scale', 'location_embed_dec.scale'])
  })

  it('refuses configs with the messages callers show', () => {
    expect(prithviMae.configProblem(TINY3)).toBeUndefined()
    expect(prithviMae.configProblem(prithviTiny({ num_heads: 5 }))).toBe('embed_dim 32 does not split into 5 heads')
    expect(prithviMae.configProblem(prithviTiny({ depth: 1e9 }))).toBe('depth 1000000000 is absurdly large (at most 256)')
    // Sizes that fit but that the sin-cos position tables cannot use: fine to read, not to run.
    expect(prithviMae.configProblem(prithviTiny({ embed_dim: 40, num_heads: 4 }))).toBeUndefined()
    expect(prithviMae.modelProblem(prithviTiny({ embed_dim: 40, num_heads: 4 }))).toBe('embed_dim 40 must be divisible by 16 (3-D sin-cos position embedding)')
  })

  it('is the registered family', () => {
    expect(MODEL_FAMILIES.map((f) => f.id)).toEqual(['prithvi-mae', 'mae'])
    expect(modelFamily('prithvi-mae')).toBe(prithviMae)
    expect(() => modelFamily('prithvi-eo-2')).toThrow('unknown model family "prithvi-eo-2" (known: prithvi-mae, mae)')
    expect(prithviMae.configSchema.parse(TINY3)).toEqual(TINY3)
  })
})

// Two more shapes of the family: tubelets over two frames with a narrow MLP, and a deeper encoder.
const CONFIGS: [string, PrithviConfig][] = [
  ['tiny', prithviTiny()],
  ['2 frames, tubelet 2, mlp_ratio 2', prithviTiny({ num_frames: 2, tubelet_size: 2, mlp_ratio: 2, in_chans: 3 })],
  ['depth 3, 48 wide, 16 px patches', prithviTiny({ img_size: 48, patch_size: 16, embed_dim: 48, num_heads: 3, depth: 3, decoder_depth: 2 })]
]

describe.each(CONFIGS)('spec, tfjs model and ONNX exporter agree: %s', (_name, cfg) => {
  let tf: Tf
  beforeAll(async () => {
    tf = (await loadTf({ prefer: 'cpu' })).tf
  })

  it.each([true, false])('tfjs variables (decoder %s) are the spec weights, in order, in tfjs layout', (decoder) => {
    const model = PrithviMAE.fromWeights(tf, cfg, randomWeights(cfg, 3, { decoder }), { decoder })
    try {
      const vars = model.trainableVariables().map((v) => [v.name.slice(v.name.indexOf('/') + 1), v.shape])
      expect(vars).toEqual(prithviMae.weightSpecs(cfg, { decoder }).map((s) => [s.name, s.tfShape]))
    } finally {
      model.dispose()
    }
  })

  it.each(['mae', 'encoder'] as const)('ONNX %s graph: one initializer per spec tensor, in its layout', (graph) => {
    const decoder = graph === 'mae'
    const weights = randomWeights(cfg, 3, { decoder })
    const inits = new Map(decodeModel(exportPrithviOnnx(cfg, weights, graph)).initializers.map((i) => [i.name, i.dims]))
    const L = cfg.num_frames / cfg.tubelet_size / cfg.patch_size ** 2 * cfg.img_size ** 2
    const fromSpec = new Map<string, number[]>()
    for (const s of declared(cfg, decoder)) {
      if (s.layout === 'linear') fromSpec.set(`${s.name}.T`, s.tfShape)
      else if (s.layout === 'patch') fromSpec.set(`${s.name}.as_matmul`, s.tfShape)
      // The graph's pos_embed leaves out the CLS row, which is zero.
      else if (s.name === 'pos_embed') fromSpec.set(s.name, [1, L, cfg.embed_dim])
      else fromSpec.set(s.name, s.torchShape)
    }
    const weightInits = [...inits].filter(([name]) => isPrithviName(name.replace(/\.(T|as_matmul)$/, '')))
    expect(new Map(weightInits)).toEqual(fromSpec)
  })
})

// The exported tiny Prithvi graphs run in real ONNX Runtime (CPU) and match the independent
// PyTorch reference (tests/fixtures/onnx/make_reference.py) to 1e-4.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { prithviTiny } from '@engine/model/config'
import { exportOnnxFile } from '@engine/onnx/export-file'
import { buildPrithviOnnx, exportPrithviOnnx, type PrithviGraph } from '@engine/onnx/export-prithvi'
import { createSession, run, type FloatTensor, type OnnxSession } from '@engine/onnx/runtime'
import { decodeModel } from './decode-onnx'
import { firstRows, loadReference, maxAbsDiff, type Array32 } from './reference'

const TOL = 1e-4
const cases = loadReference()
const sessions: OnnxSession[] = []
const scratch = mkdtempSync(join(tmpdir(), 'marsfm-onnx-'))

afterAll(async () => {
  for (const s of sessions) await s.release()
  rmSync(scratch, { recursive: true, force: true })
})

async function session(bytes: Uint8Array | string): Promise<OnnxSession> {
  const s = await createSession(bytes, { device: 'cpu', intraOpThreads: 1 })
  sessions.push(s)
  return s
}

function expectClose(got: FloatTensor, want: Array32, what: string): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape)
  expect(maxAbsDiff(got.data, want.data), `${what} max abs diff`).toBeLessThanOrEqual(TOL)
}

describe.each(cases.map((c) => [c.name, c] as const))('reference case %s', (_name, ref) => {
  it('uses a config of the tiny family', () => {
    if (ref.name === 'tiny') expect(ref.config).toEqual(prithviTiny())
  })

  it('encoder features match PyTorch', async () => {
    const s = await session(exportPrithviOnnx(ref.config, ref.weights, 'encoder'))
    const out = await run(s, { pixels: ref.pixels })
    expectClose(out.features, ref.encoderFeatures, 'features')
  })

  it('classifier logits match PyTorch', async () => {
    const s = await session(exportPrithviOnnx(ref.config, ref.weights, 'classifier'))
    const out = await run(s, { pixels: ref.pixels })
    expectClose(out.logits, ref.logits, 'logits')
  })

  it.each(ref.mae.map((r) => [r.maskRatio, r] as const))('MAE at mask ratio %s matches PyTorch', async (ratio, r) => {
    const s = await session(exportPrithviOnnx(ref.config, ref.weights, 'mae', { maskRatio: ratio }))
    const out = await run(s, { pixels: ref.pixels, noise: r.noise })
    expect(out.loss.shape).toEqual([])
    expect(Math.abs(out.loss.data[0] - r.loss)).toBeLessThanOrEqual(TOL)
    expectClose(out.mask, r.mask, 'mask')
    expectClose(out.pred, r.pred, 'pred')
    expectClose(out.target, r.target, 'target')
  })

  it('the batch dimension is dynamic (batch 1 gives the first row of batch 2)', async () => {
    const r = ref.mae[0]
    const s = await session(exportPrithviOnnx(ref.config, ref.weights, 'mae', { maskRatio: r.maskRatio }))
    const out = await run(s, { pixels: firstRows(ref.pixels, 1), noise: firstRows(r.noise, 1) })
    expectClose(out.pred, firstRows(r.pred, 1), 'pred (batch 1)')
    expectClose(out.mask, firstRows(r.mask, 1), 'mask (batch 1)')
  })
})

describe('exported model structure', () => {
  const ref = cases[0]

  it.each<[PrithviGraph, string[], string[]]>([
    ['mae', ['pixels', 'noise'], ['loss', 'pred', 'mask', 'target']],
    ['encoder', ['pixels'], ['features']],
    ['classifier', ['pixels'], ['logits']]
  ])('%s: ir 8, opset 17, declared inputs and outputs', (graph, inputs, outputs) => {
    const m = decodeModel(exportPrithviOnnx(ref.config, ref.weights, graph))
    expect(m.irVersion).toBe(8)
    expect(m.opsets).toEqual([{ domain: '', version: 17 }])
    expect(m.inputs.map((v) => v.name)).toEqual(inputs)
    expect(m.outputs.map((v) => v.name)).toEqual(outputs)
    expect(m.metadata['marsfm.graph']).toBe(graph)
    expect(m.inputs[0].shape).toEqual(['N', 6, 1, 32, 32])
  })

  it('mae shapes: loss is a scalar, pred/target [N, L, tub*p*p*C], mask [N, L]', () => {
    const built = buildPrithviOnnx(ref.config, ref.weights, 'mae', { maskRatio: 0.75 })
    expect(built.outputs).toEqual([
      { name: 'loss', type: 'float32', shape: [] },
      { name: 'pred', type: 'float32', shape: ['N', 16, 384] },
      { name: 'mask', type: 'float32', shape: ['N', 16] },
      { name: 'target', type: 'float32', shape: ['N', 16, 384] }
    ])
    expect(built.inputs[1]).toEqual({ name: 'noise', type: 'float32', shape: ['N', 16] })
    expect(decodeModel(exportPrithviOnnx(ref.config, ref.weights, 'mae', { maskRatio: 0.75 })).metadata['marsfm.mask_ratio']).toBe('0.75')
  })

  it('uses the ops the brief asks for (Erf GELU, LayerNormalization, TopK masking, GatherElements)', () => {
    const ops = new Set(decodeModel(exportPrithviOnnx(ref.config, ref.weights, 'mae')).nodes.map((n) => n.opType))
    for (const op of ['Erf', 'LayerNormalization', 'TopK', 'GatherElements', 'Softmax', 'MatMul']) expect(ops).toContain(op)
  })

  it('stores weights as float32 raw_data initializers under checkpoint names', () => {
    const m = decodeModel(exportPrithviOnnx(ref.config, ref.weights, 'encoder'))
    const qkv = m.initializers.find((t) => t.name === 'blocks.0.attn.qkv.weight.T')
    expect(qkv).toMatchObject({ dims: [32, 96], dataType: 1, rawBytes: 32 * 96 * 4 })
    expect(m.initializers.find((t) => t.name === 'cls_token')?.dims).toEqual([1, 1, 32])
    expect(m.initializers.some((t) => t.name.startsWith('decoder'))).toBe(false)
  })

  it.each(cases.map((c) => [c.name, c] as const))('%s: baked-in sin-cos position tables match the reference', (_n, c) => {
    const inits = buildPrithviOnnx(c.config, c.weights, 'mae').model.graph.initializer
    const table = (name: string): Float32Array => {
      const raw = inits.find((t) => t.name === name)!.rawData!
      return new Float32Array(raw.slice().buffer)
    }
    const D = c.config.embed_dim
    expect(maxAbsDiff(table('pos_embed'), c.posEmbed.data.subarray(D))).toBeLessThanOrEqual(1e-6) // CLS row (zero) omitted
    expect(maxAbsDiff(table('decoder_pos_embed'), c.decoderPosEmbed.data)).toBeLessThanOrEqual(1e-6)
  })

  it('rejects bad mask ratios, missing weights and a classifier without a head', () => {
    expect(() => exportPrithviOnnx(ref.config, ref.weights, 'mae', { maskRatio: 1 })).toThrow(/mask ratio/)
    const partial = new Map(ref.weights)
    partial.delete('blocks.1.mlp.fc2.weight')
    expect(() => exportPrithviOnnx(ref.config, partial, 'encoder')).toThrow(/blocks\.1\.mlp\.fc2\.weight/)
    const headless = new Map(ref.weights)
    headless.delete('classifier.weight')
    expect(() => exportPrithviOnnx(ref.config, headless, 'classifier')).toThrow(/classifier\.weight/)
  })
})

describe('exportOnnxFile', () => {
  it('writes the same bytes as exportPrithviOnnx and the file runs from its path', async () => {
    const ref = cases[0]
    const path = join(scratch, 'nested', 'tiny-encoder.onnx')
    const res = exportOnnxFile(ref.config, ref.weights, 'encoder', path)
    const bytes = readFileSync(path)
    expect(res.bytes).toBe(bytes.length)
    expect(res.opset).toBe(17)
    expect(res.inputs.map((i) => i.name)).toEqual(['pixels'])
    expect(res.outputs).toEqual([{ name: 'features', type: 'float32', shape: ['N', 17, 32] }])
    expect(Buffer.compare(bytes, Buffer.from(exportPrithviOnnx(ref.config, ref.weights, 'encoder')))).toBe(0)
    const out = await run(await session(path), { pixels: ref.pixels })
    expectClose(out.features, ref.encoderFeatures, 'features (from file)')
  })
})

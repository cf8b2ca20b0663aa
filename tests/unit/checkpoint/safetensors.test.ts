// safetensors: float32 round trip with metadata, half-precision input, damaged headers.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readRawStateDict } from '@engine/checkpoint/index'
import { openSafetensors, writeSafetensors } from '@engine/checkpoint/safetensors'
import type { WeightMap } from '@engine/model/weights'
import { expectAll, expected, fixture } from './fixtures'
import { scratchDir } from './tmp'

const scratch = scratchDir('st')

/** A safetensors file from a header object and the raw data section. */
function build(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(json.length))
  return Buffer.concat([len, json, data])
}

async function readAll(path: string): Promise<{ weights: WeightMap; metadata: Record<string, string> }> {
  const f = await openSafetensors(path)
  const weights: WeightMap = new Map()
  for await (const [k, t] of f.read(f.tensors.keys())) weights.set(k, t)
  await f.close()
  return { weights, metadata: f.metadata }
}

describe('safetensors', () => {
  it('round-trips a whole checkpoint as float32 with metadata', async () => {
    const original = await readRawStateDict(fixture('tiny_prithvi.pt'))
    const path = scratch.path('tiny.safetensors')
    await writeSafetensors(path, original, { format: 'pt', source: 'tiny_prithvi.pt' })
    const bytes = readFileSync(path)
    const headerLen = Number(bytes.readBigUInt64LE(0))
    expect(headerLen % 8).toBe(0) // padded so the data section is aligned
    const back = await readAll(path)
    expect(back.metadata).toEqual({ format: 'pt', source: 'tiny_prithvi.pt' })
    expect([...back.weights.keys()]).toEqual([...original.keys()])
    for (const [k, w] of original) {
      expect(back.weights.get(k)!.shape).toEqual(w.shape)
      expect(back.weights.get(k)!.data).toEqual(w.data)
    }
    expectAll(back.weights, expected('tiny_prithvi.expected.json'))
  })

  it('reads F16 and BF16 tensors as float32', async () => {
    const data = new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x3800, 0x3f80, 0xc049, 0x0000).buffer)
    const path = scratch.write('half.safetensors', build({
      __metadata__: { note: 'hand made' },
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      b: { dtype: 'BF16', shape: [1, 3], data_offsets: [6, 12] }
    }, data))
    const { weights, metadata } = await readAll(path)
    expect(metadata.note).toBe('hand made')
    expect(Array.from(weights.get('h')!.data)).toEqual([1, -2, 0.5])
    expect(weights.get('b')!.shape).toEqual([1, 3])
    expect(Array.from(weights.get('b')!.data)).toEqual([1, -3.140625, 0])
  })

  it('refuses unknown dtypes, naming them', async () => {
    const path = scratch.write('f8.safetensors', build({ x: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)))
    await expect(openSafetensors(path)).rejects.toMatchObject({ code: 'unsupported-dtype', message: expect.stringContaining('F8_E4M3') })
  })

  it('reports truncation and damaged headers', async () => {
    const whole = build({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16))
    await expect(openSafetensors(scratch.write('cut.safetensors', whole.subarray(0, whole.length - 5)))).rejects.toMatchObject({ code: 'truncated' })
    await expect(openSafetensors(scratch.write('cut2.safetensors', whole.subarray(0, 20)))).rejects.toMatchObject({ code: 'truncated' })
    const badSize = build({ x: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } }, new Uint8Array(16))
    await expect(openSafetensors(scratch.write('size.safetensors', badSize))).rejects.toMatchObject({ code: 'corrupt' })
    const notJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')])
    await expect(openSafetensors(scratch.write('json.safetensors', notJson))).rejects.toMatchObject({ code: 'corrupt' })
  })

  it('leaves no partial file when writing fails', async () => {
    const bad: WeightMap = new Map([['w', { shape: [3], data: new Float32Array(2) }]])
    await expect(writeSafetensors(scratch.path('bad.safetensors'), bad)).rejects.toMatchObject({ code: 'wrong-shape' })
  })
})

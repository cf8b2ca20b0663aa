// The protobuf writer/reader: varint edge cases, fixed-width and packed fields, nested messages
// linked by reference, and round trips through the reader.

import { describe, expect, it } from 'vitest'
import {
  ProtoReader,
  ProtoWriter,
  WIRE_LEN,
  WIRE_VARINT,
  decodeFields,
  fieldFloat,
  fieldInt,
  fieldString,
  repeatedFloats,
  repeatedInts
} from '@engine/onnx/protobuf'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('ProtoWriter', () => {
  it.each<[number | bigint, string]>([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [0xffffffff, 'ffffffff0f'],
    [2 ** 32, '8080808010'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
    [-1, 'ffffffffffffffffff01'],
    [-2n, 'feffffffffffffffff01'],
    [2n ** 63n, '80808080808080808001']
  ])('varint %s → %s', (value, expected) => {
    expect(hex(new ProtoWriter().varint(value).finish())).toBe(expected)
  })

  it('rejects non-integers in varints', () => {
    expect(() => new ProtoWriter().varint(1.5)).toThrow(/integer/)
  })

  it('writes tags, floats, doubles, strings and bools', () => {
    const w = new ProtoWriter().int(1, 150).float(2, 1.5).double(3, -2).string(4, 'héllo').int(5, true)
    expect(hex(w.finish())).toBe('089601' + '150000c03f' + '19' + '00000000000000c0' + '2206' + '68c3a96c6c6f' + '2801')
  })

  it('packs repeated ints and floats into one length-delimited field', () => {
    expect(hex(new ProtoWriter().packedInts(7, [1, -1, 300]).finish())).toBe('3a0d01ffffffffffffffffff01ac02')
    expect(hex(new ProtoWriter().packedFloats(4, [1.5, -2.25]).finish())).toBe('22080000c03f000010c0')
  })

  it('nests messages with their length and reports the size', () => {
    const child = new ProtoWriter().int(1, 1)
    const parent = new ProtoWriter().message(3, child).int(4, 2)
    expect(parent.length).toBe(6)
    expect(hex(parent.finish())).toBe('1a0208012002')
  })

  it('references large byte payloads instead of copying them until finish()', () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 251)
    const inner = new ProtoWriter().bytes(9, big)
    const outer = new ProtoWriter().string(1, 'w').message(5, inner)
    const chunks = outer.chunks()
    expect(chunks).toContain(big)
    const bytes = outer.finish()
    expect(bytes.length).toBe(outer.length)
    const [name, tensor] = decodeFields(bytes)
    expect(fieldString(name)).toBe('w')
    const payload = decodeFields(tensor.value as Uint8Array)[0].value as Uint8Array
    expect(Buffer.compare(payload, big)).toBe(0)
  })

  it('grows its scratch buffer past the initial size', () => {
    const w = new ProtoWriter()
    for (let i = 0; i < 1000; i++) w.int(1, i)
    expect(repeatedInts(decodeFields(w.finish()), 1)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })
})

describe('ProtoReader', () => {
  it('round-trips every wire type', () => {
    const bytes = new ProtoWriter().int(1, -5).double(2, 3.25).string(3, 'abc').float(4, 0.5).finish()
    const f = decodeFields(bytes)
    expect(f.map((x) => [x.field, x.wire])).toEqual([
      [1, WIRE_VARINT],
      [2, 1],
      [3, WIRE_LEN],
      [4, 5]
    ])
    expect(fieldInt(f[0])).toBe(-5)
    expect(new DataView((f[1].value as Uint8Array).slice().buffer).getFloat64(0, true)).toBe(3.25)
    expect(fieldString(f[2])).toBe('abc')
    expect(fieldFloat(f[3])).toBe(0.5)
  })

  it('reads repeated fields packed or unpacked', () => {
    const packed = decodeFields(new ProtoWriter().packedInts(8, [3, 4]).packedFloats(7, [1, 2]).finish())
    const loose = decodeFields(new ProtoWriter().int(8, 3).int(8, 4).float(7, 1).float(7, 2).finish())
    for (const f of [packed, loose]) {
      expect(repeatedInts(f, 8)).toEqual([3, 4])
      expect(repeatedFloats(f, 7)).toEqual([1, 2])
    }
  })

  it('throws on truncated input', () => {
    expect(() => new ProtoReader(Uint8Array.of(0x08, 0x80)).next()).toThrow(/truncated/)
    expect(() => decodeFields(Uint8Array.of(0x0a, 0x05, 0x01))).toThrow(/truncated/)
  })
})

// Writes torch.save-style checkpoints byte by byte (a protocol-2 pickle of the state dict plus
// one zip entry per storage), so the corpus can hold views, storages and pickles torch itself
// would never write: stride 0 over 16000×16000, negative strides, lying sizes, code references.

import { constants, crc32, deflateRawSync } from 'node:zlib'
import { buildZip, type BuildEntry } from '../unit/checkpoint/zip-builder'

/** A protocol-2 pickle, op by op. */
export class PickleWriter {
  private readonly bytes: number[] = []

  raw(...b: number[]): this {
    for (const x of b) this.bytes.push(x)
    return this
  }
  proto(v = 2): this {
    return this.raw(0x80, v)
  }
  global(module: string, name: string): this {
    this.raw(0x63)
    for (const c of Buffer.from(`${module}\n${name}\n`, 'latin1')) this.bytes.push(c)
    return this
  }
  mark(): this {
    return this.raw(0x28)
  }
  tuple(): this {
    return this.raw(0x74)
  }
  emptyTuple(): this {
    return this.raw(0x29)
  }
  emptyDict(): this {
    return this.raw(0x7d)
  }
  setItems(): this {
    return this.raw(0x75)
  }
  reduce(): this {
    return this.raw(0x52)
  }
  persId(): this {
    return this.raw(0x51)
  }
  stop(): this {
    return this.raw(0x2e)
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89)
  }
  /** BININT for 32-bit values, LONG1 (little-endian two's complement) otherwise. */
  int(v: number | bigint): this {
    const n = BigInt(v)
    if (n >= -(2n ** 31n) && n < 2n ** 31n) {
      const b = Buffer.alloc(4)
      b.writeInt32LE(Number(n))
      return this.raw(0x4a, ...b)
    }
    const out: number[] = []
    let x = n
    for (;;) {
      out.push(Number(x & 0xffn))
      x >>= 8n
      if ((x === 0n && (out[out.length - 1]! & 0x80) === 0) || (x === -1n && (out[out.length - 1]! & 0x80) !== 0)) break
    }
    return this.raw(0x8a, out.length, ...out)
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8')
    const len = Buffer.alloc(4)
    len.writeUInt32LE(b.length)
    return this.raw(0x58, ...len, ...b)
  }
  ints(values: readonly (number | bigint | string)[]): this {
    this.mark()
    for (const v of values) typeof v === 'string' ? this.str(v) : this.int(v)
    return this.tuple()
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes)
  }
}

export interface TensorSpec {
  name: string
  /** The torch storage class, e.g. FloatStorage, LongStorage. */
  storage?: string
  key: string
  /** Elements the persistent id declares (defaults to the data's length). */
  numel?: number
  offset?: number | bigint
  shape: readonly (number | bigint | string)[]
  stride: readonly (number | bigint | string)[]
}

/** Pushes `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
export function writeTensor(p: PickleWriter, t: TensorSpec, numel: number): void {
  p.global('torch._utils', '_rebuild_tensor_v2').mark()
  p.mark().str('storage').global('torch', t.storage ?? 'FloatStorage').str(t.key).str('cpu').int(t.numel ?? numel).tuple().persId()
  p.int(t.offset ?? 0).ints(t.shape).ints(t.stride).bool(false)
  p.global('collections', 'OrderedDict').emptyTuple().reduce()
  p.tuple().reduce()
}

export interface StorageData {
  key: string
  bytes: Uint8Array
  deflate?: boolean
  precompressed?: BuildEntry['precompressed']
}

/**
 * Raw deflate of `mb` MiB of zeros without ever allocating them: one 1 MiB block flushed in full
 * compresses to the same bytes every time, so it is repeated (a deflate bomb of ~1000:1).
 */
export function zeroBomb(mb: number): NonNullable<BuildEntry['precompressed']> {
  const zeros = Buffer.alloc(1 << 20)
  const block = deflateRawSync(zeros, { finishFlush: constants.Z_FULL_FLUSH, level: 9 })
  let crc = 0
  for (let i = 0; i < mb; i++) crc = crc32(zeros, crc)
  return { body: Buffer.concat([...new Array<Buffer>(mb).fill(block), Buffer.from([0x03, 0x00])]), size: mb << 20, crc: crc >>> 0 }
}

const ELEMENT_BYTES: Record<string, number> = { FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4, ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1, ComplexFloatStorage: 8 }

/** An OrderedDict state dict pickle over the given tensors. */
export function stateDictPickle(tensors: readonly TensorSpec[], storages: readonly StorageData[]): Uint8Array {
  const p = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark()
  for (const t of tensors) {
    const s = storages.find((x) => x.key === t.key)
    const numel = s ? s.bytes.length / (ELEMENT_BYTES[t.storage ?? 'FloatStorage'] ?? 1) : 0
    p.str(t.name)
    writeTensor(p, t, numel)
  }
  return p.setItems().stop().toBytes()
}

/** The zip torch.save writes: <root>/data.pkl, <root>/data/<key>..., <root>/version. */
export function torchZip(pkl: Uint8Array, storages: readonly StorageData[], opts: { root?: string; extra?: BuildEntry[]; pklDeflate?: boolean } = {}): Buffer {
  const root = opts.root ?? 'archive'
  return buildZip([
    { name: `${root}/data.pkl`, data: pkl, deflate: opts.pklDeflate },
    ...storages.map((s) => ({ name: `${root}/data/${s.key}`, data: s.bytes, deflate: s.deflate, precompressed: s.precompressed })),
    { name: `${root}/version`, data: Buffer.from('3\n') },
    ...(opts.extra ?? [])
  ])
}

export function f32(values: ArrayLike<number>): Uint8Array {
  const a = Float32Array.from(values)
  return new Uint8Array(a.buffer)
}

/**
 * Patches the declared uncompressed size of one entry in both its local and its central header
 * (the data stays as written): how a zip lies about what it inflates to.
 */
export function patchDeclaredSize(zip: Buffer, entryName: string, size: number): Buffer {
  const out = Buffer.from(zip)
  const name = Buffer.from(entryName, 'utf8')
  for (let i = 0; i + 46 < out.length; i++) {
    const sig = out.readUInt32LE(i)
    if (sig === 0x04034b50 && out.readUInt16LE(i + 26) === name.length && out.subarray(i + 30, i + 30 + name.length).equals(name)) out.writeUInt32LE(size, i + 22)
    if (sig === 0x02014b50 && out.readUInt16LE(i + 28) === name.length && out.subarray(i + 46, i + 46 + name.length).equals(name)) out.writeUInt32LE(size, i + 24)
  }
  return out
}

// Minimal protobuf wire-format writer and reader: enough for ONNX files (varints, 64-bit ints,
// floats, length-delimited fields, packed repeated scalars) and for tests to read them back.

export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LEN = 2
export const WIRE_FIXED32 = 5
export type WireType = typeof WIRE_VARINT | typeof WIRE_FIXED64 | typeof WIRE_LEN | typeof WIRE_FIXED32

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const TWO_POW_32 = 0x1_0000_0000
/** Byte arrays at least this long are kept by reference instead of copied into the scratch buffer. */
const BY_REFERENCE_BYTES = 4096

const utf8 = new TextEncoder()

function toUint64(value: number | bigint): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`)
  return BigInt.asUintN(64, BigInt(value))
}

/** Bytes of a typed array in little-endian order (a view when the host is little-endian). */
export function littleEndianBytes(array: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array): Uint8Array {
  const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  if (LITTLE_ENDIAN_HOST) return view
  const size = array.BYTES_PER_ELEMENT
  const out = new Uint8Array(view.length)
  for (let i = 0; i < view.length; i += size) for (let j = 0; j < size; j++) out[i + j] = view[i + size - 1 - j]
  return out
}

/**
 * Appends encoded fields. Nested messages are written into their own writer and then appended
 * with `message()`, which links the child's chunks rather than copying them, so multi-hundred
 * megabyte weight payloads are copied once, in `finish()` (or never, when streamed via `chunks()`).
 */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = []
  private scratch = new Uint8Array(256)
  private pos = 0
  private flushed = 0

  /** Encoded size so far, in bytes. */
  get length(): number {
    return this.flushed + this.pos
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.scratch.length) return
    this.flush()
    if (extra > this.scratch.length) this.scratch = new Uint8Array(Math.max(extra, this.scratch.length * 2))
  }

  private flush(): void {
    if (this.pos === 0) return
    this.parts.push(this.scratch.slice(0, this.pos))
    this.flushed += this.pos
    this.pos = 0
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length >= BY_REFERENCE_BYTES) {
      this.flush()
      this.parts.push(bytes)
      this.flushed += bytes.length
      return
    }
    this.ensure(bytes.length)
    this.scratch.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /** Raw varint (unsigned; negative numbers are written as 64-bit two's complement, as protobuf does for int32/int64). */
  varint(value: number | bigint): this {
    this.ensure(10)
    if (typeof value === 'number' && value >= 0 && value < TWO_POW_32 && Number.isInteger(value)) {
      let v = value
      while (v > 0x7f) {
        this.scratch[this.pos++] = (v & 0x7f) | 0x80
        v = Math.floor(v / 128)
      }
      this.scratch[this.pos++] = v
      return this
    }
    let v = toUint64(value)
    while (v > 0x7fn) {
      this.scratch[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.scratch[this.pos++] = Number(v)
    return this
  }

  tag(field: number, wire: WireType): this {
    return this.varint(field * 8 + wire)
  }

  /** int32 / int64 / uint64 / enum / bool field. */
  int(field: number, value: number | bigint | boolean): this {
    return this.tag(field, WIRE_VARINT).varint(typeof value === 'boolean' ? (value ? 1 : 0) : value)
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    this.ensure(4)
    new DataView(this.scratch.buffer).setFloat32(this.pos, value, true)
    this.pos += 4
    return this
  }

  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64)
    this.ensure(8)
    new DataView(this.scratch.buffer).setFloat64(this.pos, value, true)
    this.pos += 8
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(value.length)
    this.append(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value))
  }

  /** Appends a finished child message (its chunks are linked, so do not write to `child` afterwards). */
  message(field: number, child: ProtoWriter): this {
    this.tag(field, WIRE_LEN).varint(child.length)
    this.flush()
    child.flush()
    for (const part of child.parts) this.parts.push(part)
    this.flushed += child.flushed
    return this
  }

  /** Packed repeated varints (int32/int64). */
  packedInts(field: number, values: ArrayLike<number | bigint>): this {
    const body = new ProtoWriter()
    for (let i = 0; i < values.length; i++) body.varint(values[i])
    return this.message(field, body)
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = values instanceof Float32Array ? values : Float32Array.from(values)
    return this.bytes(field, littleEndianBytes(data))
  }

  packedDoubles(field: number, values: ArrayLike<number>): this {
    const data = values instanceof Float64Array ? values : Float64Array.from(values)
    return this.bytes(field, littleEndianBytes(data))
  }

  /** The encoded chunks, in order (for streaming to a file without one big copy). */
  chunks(): readonly Uint8Array[] {
    this.flush()
    return this.parts
  }

  finish(): Uint8Array {
    this.flush()
    if (this.parts.length === 1 && this.parts[0].byteOffset === 0) return this.parts[0]
    const out = new Uint8Array(this.flushed)
    let at = 0
    for (const part of this.parts) {
      out.set(part, at)
      at += part.length
    }
    return out
  }
}

// ---------------------------------------------------------------- reader

export interface ProtoField {
  field: number
  wire: WireType
  /** Varint value for WIRE_VARINT; the raw bytes (a view) for the other wire types. */
  value: bigint | Uint8Array
}

export class ProtoReader {
  private pos = 0
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length
  }

  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint')
      const byte = this.buf[this.pos++]
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new Error('varint longer than 10 bytes')
    }
  }

  private take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error('truncated field')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  next(): ProtoField {
    const key = Number(this.varint())
    const field = key >>> 3
    const wire = (key & 7) as WireType
    switch (wire) {
      case WIRE_VARINT:
        return { field, wire, value: this.varint() }
      case WIRE_FIXED64:
        return { field, wire, value: this.take(8) }
      case WIRE_LEN:
        return { field, wire, value: this.take(Number(this.varint())) }
      case WIRE_FIXED32:
        return { field, wire, value: this.take(4) }
      default:
        throw new Error(`unsupported wire type ${wire as number} for field ${field}`)
    }
  }
}

/** All fields of one message, in wire order. */
export function decodeFields(bytes: Uint8Array): ProtoField[] {
  const reader = new ProtoReader(bytes)
  const out: ProtoField[] = []
  while (!reader.done) out.push(reader.next())
  return out
}

export function fieldBytes(f: ProtoField): Uint8Array {
  if (!(f.value instanceof Uint8Array)) throw new Error(`field ${f.field} is a varint, not bytes`)
  return f.value
}

export function fieldString(f: ProtoField): string {
  return new TextDecoder().decode(fieldBytes(f))
}

/** A varint field as a signed 64-bit integer, converted to number (throws beyond 2^53). */
export function fieldInt(f: ProtoField): number {
  if (typeof f.value !== 'bigint') throw new Error(`field ${f.field} is not a varint`)
  const n = BigInt.asIntN(64, f.value)
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('integer beyond 2^53')
  return Number(n)
}

export function fieldFloat(f: ProtoField): number {
  const b = fieldBytes(f)
  if (b.length !== 4) throw new Error(`field ${f.field} is not a 32-bit value`)
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true)
}

/** Repeated varints, whether written packed (one LEN field) or one field per value. */
export function repeatedInts(fields: readonly ProtoField[], field: number): number[] {
  const out: number[] = []
  for (const f of fields) {
    if (f.field !== field) continue
    if (f.wire === WIRE_VARINT) out.push(fieldInt(f))
    else {
      const r = new ProtoReader(fieldBytes(f))
      while (!r.done) out.push(fieldInt({ field, wire: WIRE_VARINT, value: r.varint() }))
    }
  }
  return out
}

/** Repeated float32, packed or not. */
export function repeatedFloats(fields: readonly ProtoField[], field: number): number[] {
  const out: number[] = []
  for (const f of fields) {
    if (f.field !== field) continue
    const b = fieldBytes(f)
    const view = new DataView(b.buffer, b.byteOffset, b.length)
    for (let i = 0; i + 4 <= b.length; i += 4) out.push(view.getFloat32(i, true))
  }
  return out
}

// ONNX protobuf messages (the subset an exporter needs) and their encoding, field numbers as in
// onnx.proto (proto2: fields are written when set, in field-number order, packed only where
// onnx.proto says [packed = true]), so the bytes match what the python `onnx` package writes.

import { ProtoWriter, littleEndianBytes } from './protobuf'

export const IR_VERSION = 8
export const DEFAULT_OPSET = 17

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11
} as const
export type DataTypeCode = (typeof DataType)[keyof typeof DataType]

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8
} as const
export type AttributeTypeCode = (typeof AttributeType)[keyof typeof AttributeType]

export interface TensorProto {
  name?: string
  dims: readonly number[]
  dataType: DataTypeCode
  /** Little-endian element bytes (how initializers are stored). */
  rawData?: Uint8Array
  floatData?: ArrayLike<number>
  int32Data?: ArrayLike<number>
  int64Data?: ArrayLike<number | bigint>
  docString?: string
}

export type AttributeProto =
  | { name: string; type: typeof AttributeType.FLOAT; f: number }
  | { name: string; type: typeof AttributeType.INT; i: number | bigint }
  | { name: string; type: typeof AttributeType.STRING; s: string | Uint8Array }
  | { name: string; type: typeof AttributeType.TENSOR; t: TensorProto }
  | { name: string; type: typeof AttributeType.GRAPH; g: GraphProto }
  | { name: string; type: typeof AttributeType.FLOATS; floats: readonly number[] }
  | { name: string; type: typeof AttributeType.INTS; ints: readonly (number | bigint)[] }
  | { name: string; type: typeof AttributeType.STRINGS; strings: readonly string[] }

export interface NodeProto {
  input: readonly string[]
  output: readonly string[]
  name?: string
  opType: string
  domain?: string
  attribute?: readonly AttributeProto[]
  docString?: string
}

/** A dimension: a fixed size, or a symbolic name such as `N` for a dynamic batch. */
export type Dim = number | string

/** ValueInfoProto restricted to tensor types (all this exporter produces). */
export interface ValueInfoProto {
  name: string
  elemType: DataTypeCode
  /** Omitted: unknown rank. [] is a scalar. */
  shape?: readonly Dim[]
  docString?: string
}

export interface GraphProto {
  name: string
  node: readonly NodeProto[]
  initializer: readonly TensorProto[]
  input: readonly ValueInfoProto[]
  output: readonly ValueInfoProto[]
  valueInfo?: readonly ValueInfoProto[]
  docString?: string
}

export interface OperatorSetId {
  domain?: string
  version: number
}

export interface ModelProto {
  irVersion: number
  opsetImport: readonly OperatorSetId[]
  producerName?: string
  producerVersion?: string
  domain?: string
  modelVersion?: number
  docString?: string
  graph: GraphProto
  metadataProps?: readonly { key: string; value: string }[]
}

// ---------------------------------------------------------------- encoders

export function encodeTensor(t: TensorProto): ProtoWriter {
  const w = new ProtoWriter()
  for (const d of t.dims) w.int(1, d)
  w.int(2, t.dataType)
  if (t.floatData !== undefined) w.packedFloats(4, t.floatData)
  if (t.int32Data !== undefined) w.packedInts(5, t.int32Data)
  if (t.int64Data !== undefined) w.packedInts(7, t.int64Data)
  if (t.name !== undefined) w.string(8, t.name)
  if (t.rawData !== undefined) w.bytes(9, t.rawData)
  if (t.docString !== undefined) w.string(12, t.docString)
  return w
}

export function encodeAttribute(a: AttributeProto): ProtoWriter {
  const w = new ProtoWriter()
  w.string(1, a.name)
  switch (a.type) {
    case AttributeType.FLOAT:
      w.float(2, a.f)
      break
    case AttributeType.INT:
      w.int(3, a.i)
      break
    case AttributeType.STRING:
      if (typeof a.s === 'string') w.string(4, a.s)
      else w.bytes(4, a.s)
      break
    case AttributeType.TENSOR:
      w.message(5, encodeTensor(a.t))
      break
    case AttributeType.GRAPH:
      w.message(6, encodeGraph(a.g))
      break
    case AttributeType.FLOATS:
      for (const f of a.floats) w.float(7, f)
      break
    case AttributeType.INTS:
      for (const i of a.ints) w.int(8, i)
      break
    case AttributeType.STRINGS:
      for (const s of a.strings) w.string(9, s)
      break
  }
  w.int(20, a.type)
  return w
}

export function encodeNode(n: NodeProto): ProtoWriter {
  const w = new ProtoWriter()
  for (const i of n.input) w.string(1, i)
  for (const o of n.output) w.string(2, o)
  if (n.name !== undefined) w.string(3, n.name)
  w.string(4, n.opType)
  for (const a of n.attribute ?? []) w.message(5, encodeAttribute(a))
  if (n.docString !== undefined) w.string(6, n.docString)
  if (n.domain !== undefined) w.string(7, n.domain)
  return w
}

function encodeShape(shape: readonly Dim[]): ProtoWriter {
  const w = new ProtoWriter()
  for (const d of shape) {
    const dim = new ProtoWriter()
    if (typeof d === 'number') dim.int(1, d)
    else dim.string(2, d)
    w.message(1, dim)
  }
  return w
}

export function encodeValueInfo(v: ValueInfoProto): ProtoWriter {
  const tensor = new ProtoWriter().int(1, v.elemType)
  if (v.shape !== undefined) tensor.message(2, encodeShape(v.shape))
  const type = new ProtoWriter().message(1, tensor)
  const w = new ProtoWriter().string(1, v.name).message(2, type)
  if (v.docString !== undefined) w.string(3, v.docString)
  return w
}

export function encodeGraph(g: GraphProto): ProtoWriter {
  const w = new ProtoWriter()
  for (const n of g.node) w.message(1, encodeNode(n))
  w.string(2, g.name)
  for (const t of g.initializer) w.message(5, encodeTensor(t))
  if (g.docString !== undefined) w.string(10, g.docString)
  for (const v of g.input) w.message(11, encodeValueInfo(v))
  for (const v of g.output) w.message(12, encodeValueInfo(v))
  for (const v of g.valueInfo ?? []) w.message(13, encodeValueInfo(v))
  return w
}

export function encodeModel(m: ModelProto): ProtoWriter {
  const w = new ProtoWriter()
  w.int(1, m.irVersion)
  if (m.producerName !== undefined) w.string(2, m.producerName)
  if (m.producerVersion !== undefined) w.string(3, m.producerVersion)
  if (m.domain !== undefined) w.string(4, m.domain)
  if (m.modelVersion !== undefined) w.int(5, m.modelVersion)
  if (m.docString !== undefined) w.string(6, m.docString)
  w.message(7, encodeGraph(m.graph))
  for (const o of m.opsetImport) {
    const op = new ProtoWriter()
    if (o.domain !== undefined) op.string(1, o.domain)
    op.int(2, o.version)
    w.message(8, op)
  }
  for (const { key, value } of m.metadataProps ?? []) w.message(14, new ProtoWriter().string(1, key).string(2, value))
  return w
}

export function encodeModelBytes(m: ModelProto): Uint8Array {
  return encodeModel(m).finish()
}

// ---------------------------------------------------------------- tensor helpers

/** A float32 tensor stored as raw_data (little-endian). The bytes are referenced, not copied. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  checkCount(name, dims, data.length)
  return { name, dims, dataType: DataType.FLOAT, rawData: littleEndianBytes(data) }
}

/** IEEE binary16 bits of each value, rounded to nearest even (overflow → ±Infinity, NaN kept). */
export function toFloat16Bits(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length)
  const f = new Float32Array(1)
  const u = new Uint32Array(f.buffer)
  for (let i = 0; i < data.length; i++) {
    f[0] = data[i]!
    const x = u[0]!
    const sign = (x >>> 16) & 0x8000
    const exp = (x >>> 23) & 0xff
    let mant = x & 0x7fffff
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0)
      continue
    }
    let e = exp - 127 + 15
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00
      continue
    }
    if (e <= 0) {
      // Subnormal half (or zero): shift the implicit 1 in, round to nearest even.
      if (e < -10) {
        out[i] = sign
        continue
      }
      mant |= 0x800000
      const shift = 14 - e
      const half = 1 << (shift - 1)
      const rest = mant & ((1 << shift) - 1)
      let m = mant >>> shift
      if (rest > half || (rest === half && (m & 1))) m++
      out[i] = sign | m
      continue
    }
    let m = mant >>> 13
    const rest = mant & 0x1fff
    if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
      m++
      if (m === 0x400) {
        m = 0
        e++
        if (e >= 0x1f) {
          out[i] = sign | 0x7c00
          continue
        }
      }
    }
    out[i] = sign | (e << 10) | m
  }
  return out
}

/** A float16 tensor (from float32 values) stored as raw_data (little-endian). */
export function float16Tensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  checkCount(name, dims, data.length)
  return { name, dims, dataType: DataType.FLOAT16, rawData: littleEndianBytes(toFloat16Bits(data)) }
}

/** An int64 tensor stored as raw_data (little-endian). */
export function int64Tensor(name: string, dims: readonly number[], values: ArrayLike<number | bigint>): TensorProto {
  checkCount(name, dims, values.length)
  const data = BigInt64Array.from(Array.from(values, (v) => BigInt(v)))
  return { name, dims, dataType: DataType.INT64, rawData: littleEndianBytes(data) }
}

function checkCount(name: string, dims: readonly number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1)
  if (expected !== count) throw new Error(`tensor "${name}": dims [${dims.join(', ')}] need ${expected} values, got ${count}`)
}

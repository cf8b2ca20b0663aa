// Reads back the parts of an ONNX ModelProto the tests check, with the project's protobuf reader
// (ModelProto / GraphProto / NodeProto / ValueInfoProto / TensorProto field numbers from onnx.proto).

import { decodeFields, fieldBytes, fieldInt, fieldString, repeatedInts, type ProtoField } from '@engine/onnx/protobuf'

export interface DecodedValueInfo {
  name: string
  elemType: number
  shape: (number | string)[] | undefined
}

export interface DecodedModel {
  irVersion: number
  opsets: { domain: string; version: number }[]
  producerName?: string
  metadata: Record<string, string>
  graphName: string
  nodes: { opType: string; inputs: string[]; outputs: string[]; attributes: string[] }[]
  initializers: { name: string; dims: number[]; dataType: number; rawBytes: number }[]
  inputs: DecodedValueInfo[]
  outputs: DecodedValueInfo[]
}

const only = (fields: ProtoField[], n: number): ProtoField[] => fields.filter((f) => f.field === n)
const str = (fields: ProtoField[], n: number): string | undefined => {
  const f = only(fields, n).at(-1)
  return f ? fieldString(f) : undefined
}
const int = (fields: ProtoField[], n: number): number | undefined => {
  const f = only(fields, n).at(-1)
  return f ? fieldInt(f) : undefined
}
const sub = (f: ProtoField): ProtoField[] => decodeFields(fieldBytes(f))

function valueInfo(fields: ProtoField[]): DecodedValueInfo {
  const type = sub(only(fields, 2)[0])
  const tensor = sub(only(type, 1)[0])
  const shapeField = only(tensor, 2)[0]
  const shape = shapeField
    ? only(sub(shapeField), 1).map((d) => {
        const dim = sub(d)
        return str(dim, 2) ?? int(dim, 1) ?? 0
      })
    : undefined
  return { name: str(fields, 1) ?? '', elemType: int(tensor, 1) ?? 0, shape }
}

export function decodeModel(bytes: Uint8Array): DecodedModel {
  const m = decodeFields(bytes)
  const g = sub(only(m, 7)[0])
  return {
    irVersion: int(m, 1) ?? 0,
    opsets: only(m, 8).map((f) => {
      const o = sub(f)
      return { domain: str(o, 1) ?? '', version: int(o, 2) ?? 0 }
    }),
    producerName: str(m, 2),
    metadata: Object.fromEntries(only(m, 14).map((f) => [str(sub(f), 1) ?? '', str(sub(f), 2) ?? ''])),
    graphName: str(g, 2) ?? '',
    nodes: only(g, 1).map((f) => {
      const n = sub(f)
      return {
        opType: str(n, 4) ?? '',
        inputs: only(n, 1).map(fieldString),
        outputs: only(n, 2).map(fieldString),
        attributes: only(n, 5).map((a) => str(sub(a), 1) ?? '')
      }
    }),
    initializers: only(g, 5).map((f) => {
      const t = sub(f)
      const raw = only(t, 9)[0]
      return { name: str(t, 8) ?? '', dims: repeatedInts(t, 1), dataType: int(t, 2) ?? 0, rawBytes: raw ? fieldBytes(raw).length : 0 }
    }),
    inputs: only(g, 11).map((f) => valueInfo(sub(f))),
    outputs: only(g, 12).map((f) => valueInfo(sub(f)))
  }
}

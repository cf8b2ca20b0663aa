// ONNX message encoding, byte for byte against the python `onnx` package
// (tests/fixtures/onnx/proto_expected.json, written by make_proto_expected.py).

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  AttributeType,
  DataType,
  encodeAttribute,
  encodeModel,
  encodeNode,
  encodeTensor,
  encodeValueInfo,
  floatTensor,
  int64Tensor,
  type ModelProto
} from '@engine/onnx/onnx-proto'
import type { ProtoWriter } from '@engine/onnx/protobuf'
import { FIXTURE_DIR } from './reference'

const expected = (JSON.parse(readFileSync(resolve(FIXTURE_DIR, 'proto_expected.json'), 'utf8')) as { messages: Record<string, string> }).messages
const hex = (w: ProtoWriter): string => Buffer.from(w.finish()).toString('hex')
const rawW = () => floatTensor('w', [2, 3], Float32Array.from([0, 1, 2, 3, 4, 5]))

describe('ONNX encoding matches python onnx', () => {
  it('TensorProto with raw_data, int64_data and float_data', () => {
    expect(hex(encodeTensor(rawW()))).toBe(expected.tensor_raw_float)
    expect(hex(encodeTensor({ name: 'shape', dims: [3], dataType: DataType.INT64, int64Data: [1, -1, 300] }))).toBe(expected.tensor_int64_data)
    expect(hex(encodeTensor({ dims: [2], dataType: DataType.FLOAT, floatData: [1.5, -2.25] }))).toBe(expected.tensor_float_data)
  })

  it('AttributeProto of each kind', () => {
    expect(hex(encodeAttribute({ name: 'axis', type: AttributeType.INT, i: -1 }))).toBe(expected.attr_int)
    expect(hex(encodeAttribute({ name: 'largest', type: AttributeType.INT, i: 0 }))).toBe(expected.attr_int_zero)
    expect(hex(encodeAttribute({ name: 'epsilon', type: AttributeType.FLOAT, f: 1e-5 }))).toBe(expected.attr_float)
    expect(hex(encodeAttribute({ name: 'perm', type: AttributeType.INTS, ints: [0, 2, 1, 3] }))).toBe(expected.attr_ints)
    expect(hex(encodeAttribute({ name: 'scales', type: AttributeType.FLOATS, floats: [1, 0.5] }))).toBe(expected.attr_floats)
    expect(hex(encodeAttribute({ name: 'mode', type: AttributeType.STRING, s: 'constant' }))).toBe(expected.attr_string)
    expect(hex(encodeAttribute({ name: 'value', type: AttributeType.TENSOR, t: rawW() }))).toBe(expected.attr_tensor)
  })

  it('NodeProto', () => {
    const perm = { name: 'perm', type: AttributeType.INTS, ints: [0, 2, 1] } as const
    expect(hex(encodeNode({ input: ['x'], output: ['y'], name: 't0', opType: 'Transpose', attribute: [perm] }))).toBe(expected.node)
    const topk = encodeNode({
      input: ['noise', 'k'],
      output: ['values', 'indices'],
      name: 'topk',
      opType: 'TopK',
      attribute: [
        { name: 'axis', type: AttributeType.INT, i: -1 },
        { name: 'largest', type: AttributeType.INT, i: 0 },
        { name: 'sorted', type: AttributeType.INT, i: 1 }
      ]
    })
    expect(hex(topk)).toBe(expected.node_multi)
  })

  it('ValueInfoProto with a symbolic batch and a scalar', () => {
    expect(hex(encodeValueInfo({ name: 'pixels', elemType: DataType.FLOAT, shape: ['N', 6, 1, 224, 224] }))).toBe(expected.value_info_dynamic)
    expect(hex(encodeValueInfo({ name: 'loss', elemType: DataType.FLOAT, shape: [] }))).toBe(expected.value_info_scalar)
  })

  it('a whole ModelProto', () => {
    const model: ModelProto = {
      irVersion: 8,
      producerName: 'marsfm-test',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'tiny',
        node: [{ input: ['x', 'w'], output: ['y'], name: 'add', opType: 'Add' }],
        initializer: [rawW()],
        input: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 2, 3] }],
        output: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 2, 3] }],
        docString: 'doc'
      },
      metadataProps: [{ key: 'k', value: 'v' }]
    }
    expect(hex(encodeModel(model))).toBe(expected.model_add)
  })
})

describe('tensor helpers', () => {
  it('int64Tensor stores little-endian raw_data and checks the element count', () => {
    const t = int64Tensor('s', [2], [-1, 7])
    expect(Buffer.from(t.rawData!).toString('hex')).toBe('ffffffffffffffff' + '0700000000000000')
    expect(() => int64Tensor('bad', [3], [1, 2])).toThrow(/need 3 values/)
    expect(() => floatTensor('bad', [2, 2], new Float32Array(3))).toThrow(/need 4 values/)
  })

  it('a scalar has no dims and one value', () => {
    expect(int64Tensor('k', [], [5]).dims).toEqual([])
  })
})

// GraphBuilder: unique scoped names, attribute typing, shared constants, outputs, input checks.

import { describe, expect, it } from 'vitest'
import { GraphBuilder, float, floats } from '@engine/onnx/graph-builder'
import { AttributeType } from '@engine/onnx/onnx-proto'

describe('GraphBuilder', () => {
  it('names values uniquely within scopes', () => {
    const b = new GraphBuilder('g')
    const x = b.input('x', 'float32', ['N', 4])
    const a = b.op('Relu', [x])
    const c = b.op('Relu', [a])
    const d = b.scope('blocks.0', () => b.scope('attn', () => b.op('Relu', [c])))
    expect([a, c, d]).toEqual(['Relu', 'Relu_1', 'blocks.0/attn/Relu'])
  })

  it('types attributes: numbers are ints, float()/floats() are floats', () => {
    const b = new GraphBuilder('g')
    const x = b.input('x', 'float32', [2])
    b.op('Op', [x], { axis: -1, perm: [1, 0], epsilon: float(1e-5), scales: floats([1.5]), mode: 'constant', skipped: undefined })
    const attrs = b.build().node[0].attribute!
    expect(attrs.map((a) => [a.name, a.type])).toEqual([
      ['axis', AttributeType.INT],
      ['perm', AttributeType.INTS],
      ['epsilon', AttributeType.FLOAT],
      ['scales', AttributeType.FLOATS],
      ['mode', AttributeType.STRING]
    ])
    expect(() => b.op('Op', [x], { alpha: 0.5 })).toThrow(/float\(\)/)
  })

  it('shares identical constants and keeps them out of scopes', () => {
    const b = new GraphBuilder('g')
    const s1 = b.scope('a', () => b.int64([0, -1, 4]))
    const s2 = b.int64([0, -1, 4])
    const k = b.int64([3], [])
    const f = b.f32(0.5)
    expect(s1).toBe(s2)
    expect(s1).toBe('const_i64')
    const inits = b.build().initializer
    expect(inits.map((t) => [t.name, t.dims])).toEqual([
      ['const_i64', [3]],
      ['const_i64_1', []],
      ['const_f32', []]
    ])
    expect(k).not.toBe(s1)
    expect(f).toBe('const_f32')
  })

  it('rejects unknown inputs and duplicate names', () => {
    const b = new GraphBuilder('g')
    b.input('x', 'float32', [1])
    expect(() => b.op('Relu', ['nope'])).toThrow(/unknown input "nope"/)
    expect(() => b.initializer('x', [1], new Float32Array(1))).toThrow(/already used/)
  })

  it('multi-output ops and named outputs', () => {
    const b = new GraphBuilder('g')
    const x = b.input('x', 'float32', ['N', 8])
    const [vals, idx] = b.opN('TopK', [x, b.int64([3])], { largest: 0 }, { outputs: 2 })
    expect([vals, idx]).toEqual(['TopK', 'TopK_1'])
    b.output('values', vals, 'float32', ['N', 3])
    const y = b.op('Relu', [x], {}, { outputs: ['y'] })
    b.output('y', y, 'float32', ['N', 8])
    const g = b.build()
    expect(g.output.map((o) => o.name)).toEqual(['values', 'y'])
    expect(g.node.map((n) => n.opType)).toEqual(['TopK', 'Identity', 'Relu'])
    expect(() => b.output('missing', 'missing', 'float32', [])).toThrow(/not produced/)
  })
})

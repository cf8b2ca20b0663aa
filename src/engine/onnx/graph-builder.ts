// A small ONNX graph builder: inputs, initializers, ops and outputs with unique, scoped value
// names, so exporter code reads like the model's stages and never juggles names by hand.

import {
  AttributeType,
  DataType,
  float16Tensor,
  floatTensor,
  int64Tensor,
  type AttributeProto,
  type DataTypeCode,
  type Dim,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto
} from './onnx-proto'

/** A float attribute (plain numbers are ints, to avoid guessing). */
export interface FloatAttr {
  readonly float: number
}
export interface FloatsAttr {
  readonly floats: readonly number[]
}
export const float = (value: number): FloatAttr => ({ float: value })
export const floats = (values: readonly number[]): FloatsAttr => ({ floats: values })

/** number → INT, number[] → INTS, string → STRING, float()/floats() → FLOAT/FLOATS, TensorProto → TENSOR. */
export type AttrValue = number | readonly number[] | string | FloatAttr | FloatsAttr | { tensor: TensorProto }
export type Attrs = Record<string, AttrValue | undefined>

export type ElemType = 'float32' | 'int64' | 'bool'

const ELEM_TYPES: Record<ElemType, DataTypeCode> = { float32: DataType.FLOAT, int64: DataType.INT64, bool: DataType.BOOL }

/**
 * The type of the graph's float values. 'float16' stores every initializer and constant as
 * float16 (half the bytes to upload, fp16 arithmetic where the provider has it); float32 graph
 * inputs and outputs are cast at the boundary (`toCompute`, `output`), so callers still feed and
 * read float32.
 */
export type FloatPrecision = 'float32' | 'float16'

export interface OpOptions {
  /** Number of outputs (default 1), or their exact names. */
  outputs?: number | readonly string[]
}

function toAttribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}=${value}: use float() for non-integers`)
    return { name, type: AttributeType.INT, i: value }
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: value }
  if (Array.isArray(value)) {
    const ints = value as readonly number[]
    if (!ints.every(Number.isInteger)) throw new Error(`attribute ${name}: use floats() for non-integers`)
    return { name, type: AttributeType.INTS, ints }
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float }
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats }
  if ('tensor' in value) return { name, type: AttributeType.TENSOR, t: value.tensor }
  throw new Error(`attribute ${name}: unsupported value`)
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = []
  private readonly initializers: TensorProto[] = []
  private readonly inputs: ValueInfoProto[] = []
  private readonly outputs: ValueInfoProto[] = []
  private readonly used = new Set<string>()
  private readonly counters = new Map<string, number>()
  private readonly constCache = new Map<string, string>()
  private readonly scopes: string[] = []

  constructor(
    readonly name: string,
    readonly precision: FloatPrecision = 'float32'
  ) {}

  /** The ONNX type code of computed float values (Cast's `to`). */
  get floatCode(): DataTypeCode {
    return this.precision === 'float16' ? DataType.FLOAT16 : DataType.FLOAT
  }

  /** A float32 input as the graph computes it (cast to float16 in a float16 graph). */
  toCompute(value: string): string {
    return this.precision === 'float16' ? this.op('Cast', [value], { to: DataType.FLOAT16 }) : value
  }

  /** Runs `body` with `prefix` added to the names it creates ("blocks.3/attn/MatMul"). */
  scope<T>(prefix: string, body: () => T): T {
    this.scopes.push(prefix)
    try {
      return body()
    } finally {
      this.scopes.pop()
    }
  }

  /** A fresh value name under the current scope. */
  fresh(base: string): string {
    const stem = [...this.scopes, base].join('/')
    let n = this.counters.get(stem) ?? 0
    let name = n === 0 ? stem : `${stem}_${n}`
    while (this.used.has(name)) name = `${stem}_${++n}`
    this.counters.set(stem, n + 1)
    this.used.add(name)
    return name
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`value name "${name}" is already used`)
    this.used.add(name)
    return name
  }

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.inputs.push({ name: this.claim(name), elemType: ELEM_TYPES[type], shape })
    return name
  }

  /** A float initializer named exactly `name` (checkpoint names stay readable in the graph), at the graph's precision. */
  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push(this.floatConst(this.claim(name), dims, data))
    return name
  }

  private floatConst(name: string, dims: readonly number[], data: Float32Array): TensorProto {
    return this.precision === 'float16' ? float16Tensor(name, dims, data) : floatTensor(name, dims, data)
  }

  /** A shared int64 constant (shapes, axes, indices); identical values are stored once. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`
    const hit = this.constCache.get(key)
    if (hit) return hit
    const name = this.freshConst('const_i64')
    this.initializers.push(int64Tensor(name, dims, values))
    this.constCache.set(key, name)
    return name
  }

  /** A shared float constant (at the graph's precision); a single number gives a scalar. */
  f32(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length])
    const key = `f32:${shape.join('x')}:${list.join(',')}`
    const hit = this.constCache.get(key)
    if (hit) return hit
    const name = this.freshConst('const_f32')
    this.initializers.push(this.floatConst(name, shape, Float32Array.from(list)))
    this.constCache.set(key, name)
    return name
  }

  private freshConst(base: string): string {
    const saved = this.scopes.splice(0)
    try {
      return this.fresh(base)
    } finally {
      this.scopes.push(...saved)
    }
  }

  /** Adds a node; returns its first output's name. */
  op(type: string, inputs: readonly string[], attrs: Attrs = {}, options: OpOptions = {}): string {
    return this.opN(type, inputs, attrs, options)[0]
  }

  /** Adds a node; returns all its output names. */
  opN(type: string, inputs: readonly string[], attrs: Attrs = {}, options: OpOptions = {}): string[] {
    for (const i of inputs) if (i !== '' && !this.used.has(i)) throw new Error(`${type}: unknown input "${i}"`)
    const spec = options.outputs ?? 1
    const outputs = typeof spec === 'number' ? Array.from({ length: spec }, () => this.fresh(type)) : spec.map((n) => this.claim(n))
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => toAttribute(k, v))
    this.nodes.push({ input: inputs, output: outputs, name: outputs[0], opType: type, attribute })
    return outputs
  }

  /** Declares a graph output called `name`, fed by `value` (an Identity links them when names differ). */
  output(name: string, value: string, type: ElemType, shape: readonly Dim[]): void {
    // A float16 graph still returns float32: one Cast at the boundary.
    if (type === 'float32' && this.precision === 'float16') {
      this.op('Cast', [value], { to: DataType.FLOAT }, { outputs: [name] })
      this.outputs.push({ name, elemType: ELEM_TYPES[type], shape })
      return
    }
    if (value !== name) this.op('Identity', [value], {}, { outputs: [name] })
    else if (!this.used.has(name)) throw new Error(`output "${name}" is not produced by the graph`)
    this.outputs.push({ name, elemType: ELEM_TYPES[type], shape })
  }

  build(docString?: string): GraphProto {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
      ...(docString !== undefined ? { docString } : {})
    }
  }
}

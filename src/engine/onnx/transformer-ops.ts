// ONNX building blocks of a timm-style ViT, emitted from checkpoint weights: Linear (MatMul + Add),
// LayerNorm (opset-17 LayerNormalization), exact-erf GELU, multi-head self-attention, MLP and the
// pre-norm transformer block. Activations are [N, S, dim] with a dynamic batch N.

import { getWeight, type WeightMap } from '../model/weights'
import { float, type GraphBuilder } from './graph-builder'

export const LAYER_NORM_EPS = 1e-5

/** Row-major [rows, cols] → [cols, rows]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    const src = r * cols
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[src + c]
  }
  return out
}

/** PyTorch Linear `${name}.weight` [out, in] and `.bias` [out]: y = x W^T + b. */
export function linear(b: GraphBuilder, weights: WeightMap, name: string, x: string, inDim: number, outDim: number): string {
  const w = getWeight(weights, `${name}.weight`, [outDim, inDim])
  const bias = getWeight(weights, `${name}.bias`, [outDim])
  const wT = b.initializer(`${name}.weight.T`, [inDim, outDim], transpose2d(w.data, outDim, inDim))
  const bName = b.initializer(`${name}.bias`, [outDim], bias.data)
  return b.scope(name, () => b.op('Add', [b.op('MatMul', [x, wT]), bName]))
}

export function layerNorm(b: GraphBuilder, weights: WeightMap, name: string, x: string, dim: number, eps = LAYER_NORM_EPS): string {
  const scale = b.initializer(`${name}.weight`, [dim], getWeight(weights, `${name}.weight`, [dim]).data)
  const bias = b.initializer(`${name}.bias`, [dim], getWeight(weights, `${name}.bias`, [dim]).data)
  return b.scope(name, () => b.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: float(eps) }))
}

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), in the form ORT's GELU fusion recognises. */
export function gelu(b: GraphBuilder, x: string): string {
  return b.scope('gelu', () => {
    const e = b.op('Erf', [b.op('Div', [x, b.f32(Math.SQRT2)])])
    return b.op('Mul', [b.op('Mul', [x, b.op('Add', [e, b.f32(1)])]), b.f32(0.5)])
  })
}

/** timm Attention: fused qkv Linear, softmax(q k^T * head_dim^-0.5) v, output projection. */
export function attention(b: GraphBuilder, weights: WeightMap, name: string, x: string, dim: number, heads: number): string {
  if (dim % heads !== 0) throw new Error(`${name}: dim ${dim} is not divisible by ${heads} heads`)
  const headDim = dim / heads
  const qkv = linear(b, weights, `${name}.qkv`, x, dim, 3 * dim)
  const out = b.scope(name, () => {
    const [q, k, v] = b.opN('Split', [qkv], { axis: -1 }, { outputs: 3 })
    const split = (t: string): string => b.op('Reshape', [t, b.int64([0, -1, heads, headDim])])
    const qh = b.op('Transpose', [split(q)], { perm: [0, 2, 1, 3] }) // [N, H, S, hd]
    const kT = b.op('Transpose', [split(k)], { perm: [0, 2, 3, 1] }) // [N, H, hd, S]
    const vh = b.op('Transpose', [split(v)], { perm: [0, 2, 1, 3] })
    const scores = b.op('MatMul', [b.op('Mul', [qh, b.f32(headDim ** -0.5)]), kT])
    const ctx = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), vh]) // [N, H, S, hd]
    return b.op('Reshape', [b.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.int64([0, -1, dim])])
  })
  return linear(b, weights, `${name}.proj`, out, dim, dim)
}

export function mlp(b: GraphBuilder, weights: WeightMap, name: string, x: string, dim: number, hidden: number): string {
  const h = linear(b, weights, `${name}.fc1`, x, dim, hidden)
  const a = b.scope(name, () => gelu(b, h))
  return linear(b, weights, `${name}.fc2`, a, hidden, dim)
}

/** Pre-norm block: x + attn(norm1(x)), then + mlp(norm2(x)). `name` is e.g. `blocks.3`. */
export function transformerBlock(
  b: GraphBuilder,
  weights: WeightMap,
  name: string,
  x: string,
  dim: number,
  heads: number,
  mlpRatio: number,
  eps = LAYER_NORM_EPS
): string {
  const a = attention(b, weights, `${name}.attn`, layerNorm(b, weights, `${name}.norm1`, x, dim, eps), dim, heads)
  const x1 = b.scope(name, () => b.op('Add', [x, a]))
  const m = mlp(b, weights, `${name}.mlp`, layerNorm(b, weights, `${name}.norm2`, x1, dim, eps), dim, Math.trunc(dim * mlpRatio))
  return b.scope(name, () => b.op('Add', [x1, m]))
}

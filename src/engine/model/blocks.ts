// timm-style pre-norm transformer block of Prithvi (Block / Attention / Mlp, qkv with bias,
// scale head_dim^-0.5, exact GELU, MLP ratio from the config), written with ops.ts primitives.

import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import { attentionCore, bmm, gelu, layerNorm, linear } from './ops'
import { fusedWebGpu } from '../tf/webgpu-kernels'

/** One block's parameters in tfjs layout (linear weights pre-transposed [in, out]). */
export interface BlockParams {
  norm1: { weight: Tensor1D; bias: Tensor1D }
  qkv: { weight: Tensor2D; bias: Tensor1D }
  proj: { weight: Tensor2D; bias: Tensor1D }
  norm2: { weight: Tensor1D; bias: Tensor1D }
  fc1: { weight: Tensor2D; bias: Tensor1D }
  fc2: { weight: Tensor2D; bias: Tensor1D }
}

/**
 * softmax(q @ kT) @ v per head: q [B, S, hd] (already scaled), kT [B, hd, S], v [B, S, hd] -> [B, S, hd].
 * On wasm (slow batched matMul) each head runs as 2-D products, so the [S, S] maps are never unstacked.
 */
function scaledDotProduct(tf: Tf, q: Tensor3D, kt: Tensor3D, v: Tensor3D): Tensor3D {
  if (tf.getBackend() !== 'wasm' || q.shape[0] === 1) {
    const attn = tf.softmax(bmm(tf, q, kt)) as Tensor3D // [B, S, S]
    return bmm(tf, attn, v)
  }
  const ks = tf.unstack(kt) as Tensor2D[]
  const vs = tf.unstack(v) as Tensor2D[]
  const heads = (tf.unstack(q) as Tensor2D[]).map((qi, i) => bmm(tf, tf.softmax(bmm(tf, qi, ks[i]!)) as Tensor2D, vs[i]!)) // each [S, hd]
  return tf.stack(heads) as Tensor3D
}

/** Multi-head self-attention: x [N, S, D] -> [N, S, D]. */
export function attention(tf: Tf, x: Tensor3D, p: BlockParams, numHeads: number): Tensor3D {
  const [n, s, d] = x.shape
  const hd = d / numHeads
  const qkv = linear(tf, x, p.qkv.weight, p.qkv.bias) // [N, S, 3D], columns (3, H, hd)
  if (fusedWebGpu(tf)) return linear(tf, attentionCore(tf, qkv as Tensor3D, numHeads, hd ** -0.5), p.proj.weight, p.proj.bias) as Tensor3D
  const [q, k, v] = tf.split(qkv, 3, 2) as [Tensor3D, Tensor3D, Tensor3D] // each [N, S, D]
  const heads = (t: Tensor, perm: number[], shape: [number, number, number]): Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(t, [n, s, numHeads, hd]), perm), shape) as Tensor3D
  const qh = tf.mul(heads(q, [0, 2, 1, 3], [n * numHeads, s, hd]), hd ** -0.5) as Tensor3D // [N*H, S, hd]
  const kt = heads(k, [0, 2, 3, 1], [n * numHeads, hd, s]) // [N*H, hd, S]
  const vh = heads(v, [0, 2, 1, 3], [n * numHeads, s, hd]) // [N*H, S, hd]
  const out = scaledDotProduct(tf, qh, kt, vh) // [N*H, S, hd]
  const merged = tf.reshape(tf.transpose(tf.reshape(out, [n, numHeads, s, hd]), [0, 2, 1, 3]), [n, s, d]) // [N, S, D]
  return linear(tf, merged, p.proj.weight, p.proj.bias) as Tensor3D
}

/** fc1 -> GELU -> fc2: [N, S, D] -> [N, S, D]. */
export function mlp(tf: Tf, x: Tensor3D, p: BlockParams): Tensor3D {
  const hidden = gelu(tf, linear(tf, x, p.fc1.weight, p.fc1.bias)) // [N, S, D*mlp_ratio]
  return linear(tf, hidden, p.fc2.weight, p.fc2.bias) as Tensor3D
}

/** x + attn(norm1(x)), then + mlp(norm2(x)): [N, S, D] -> [N, S, D]. */
export function transformerBlock(tf: Tf, x: Tensor3D, p: BlockParams, numHeads: number, eps: number): Tensor3D {
  const a = attention(tf, layerNorm(tf, x, p.norm1.weight, p.norm1.bias, eps) as Tensor3D, p, numHeads)
  const x1 = tf.add(x, a) as Tensor3D
  const m = mlp(tf, layerNorm(tf, x1, p.norm2.weight, p.norm2.bias, eps) as Tensor3D, p)
  return tf.add(x1, m) as Tensor3D
}

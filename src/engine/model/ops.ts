// Differentiable building blocks with hand-written gradients (tf.customGrad) that run well on every
// tfjs backend: matMul is only ever called without transpose flags (wasm's transposeA path is ~40x
// slower, transposeB ~10x), batched matMul is split into 2-D calls on wasm (~7x faster there),
// and LayerNorm / exact-erf GELU save only what their backward needs.
// Memory: tfjs runs a customGrad's gradFunc outside any per-node tidy (only kernel gradients get one),
// so every gradFunc here wraps itself in tf.tidy; otherwise each layer's backward temporaries stay
// alive until the whole backward pass ends (for Prithvi-100M, more than wasm's 4 GB heap).

import type { GradSaveFunc, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import { fusedWebGpu, webgpuGatherRows, webgpuGelu, webgpuGeluGrad, webgpuHeadMerge, webgpuHeadSplit, webgpuLayerNorm, webgpuLayerNormGrad, webgpuSoftmaxGrad, webgpuColumnSum } from '../tf/webgpu-kernels'

type Args = Array<Tensor | GradSaveFunc>

function splitArgs(args: Args, n: number): { t: Tensor[]; save: GradSaveFunc } {
  return { t: args.slice(0, n) as Tensor[], save: args[n] as GradSaveFunc }
}

/** Swaps the last two axes with an explicit Transpose kernel. */
export function transposeLast2(tf: Tf, x: Tensor): Tensor {
  const r = x.rank
  const perm = Array.from({ length: r }, (_, i) => i)
  perm[r - 2] = r - 1
  perm[r - 1] = r - 2
  return tf.transpose(x, perm)
}

/**
 * wasm's matMul (XNNPACK) caches a packed copy of its right operand, freed only with that operand's
 * buffer. A right operand that outlives the product (a weight until the optimiser replaces it, an
 * activation or gradient the tape keeps until backprop ends) would pin that copy, so on wasm it is
 * given an exact short-lived copy (b * 1) instead, released with the caller's tidy.
 */
function shortLived<T extends Tensor>(tf: Tf, b: T): T {
  return tf.getBackend() === 'wasm' ? (tf.mul(b, 1) as T) : b
}

/** True while gradients are being recorded on wasm: then weights are not left packed between steps. */
function recordingOnWasm(tf: Tf): boolean {
  return tf.getBackend() === 'wasm' && tf.engine().isTapeOn()
}

let transientWeightScopes = 0

/**
 * Runs `fn` with linear weights given to wasm's matMul as short-lived copies, as while recording:
 * for evaluation between training steps, whose packed weights would otherwise stay pinned until
 * the optimiser replaces the weights, i.e. through the next step's peak. Results are unchanged.
 */
export function withTransientWeights<T>(fn: () => T): T {
  transientWeightScopes++
  try {
    return fn()
  } finally {
    transientWeightScopes--
  }
}

/**
 * [B, M, K] @ [B, K, N] -> [B, M, N] (or 2-D) without transpose flags; per-sample 2-D calls on wasm.
 * `transientB`: `b` outlives the product (see shortLived).
 */
function matMulPlain<T extends Tensor2D | Tensor3D>(tf: Tf, a: T, b: T, transientB = false): T {
  if (a.rank === 2 || a.shape[0] === 1 || tf.getBackend() !== 'wasm') return tf.matMul(a, transientB ? shortLived(tf, b) : b) as T
  const as = tf.unstack(a) as Tensor2D[]
  const bs = tf.unstack(b) as Tensor2D[]
  return tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i]!))) as T
}

/** Matrix product [M, K] @ [K, N] or batched [B, M, K] @ [B, K, N]; backward uses explicit transposes. */
export function bmm<T extends Tensor2D | Tensor3D>(tf: Tf, a: T, b: T): T {
  if (fusedWebGpu(tf)) return bmmWebGpu(tf, a, b)
  const recording = recordingOnWasm(tf)
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 2)
    const [x, y] = t as [T, T]
    save([x, y])
    return {
      value: matMulPlain(tf, x, y, recording),
      gradFunc: (dy: T, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx, sy] = saved as [T, T]
          const dx = matMulPlain(tf, dy, transposeLast2(tf, sy) as T) // [B, M, K]
          const dw = matMulPlain(tf, transposeLast2(tf, sx) as T, dy, true) // [B, K, N]
          return [dx, dw]
        })
    }
  })
  return op(a, b) as T
}

/**
 * y = x @ w + b over the last axis of x [..., in]; w is pre-transposed [in, out], b [out].
 * Backward: dx = dy @ w^T is computed as (w @ dy^T)^T, transposing the activations (M x out) rather
 * than the weight, so no weight-sized copy (nor XNNPACK's packed copy of it) is made per layer; the
 * products are the same sums in the same order (bit-identical on wasm).
 */
export function linear(tf: Tf, x: Tensor, w: Tensor2D, b: Tensor1D): Tensor {
  if (fusedWebGpu(tf)) return linearWebGpu(tf, x, w, b)
  const [inDim, outDim] = w.shape
  const lead = x.shape.slice(0, -1)
  const transientW = recordingOnWasm(tf) || (transientWeightScopes > 0 && tf.getBackend() === 'wasm')
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 3)
    const [xi, wi, bi] = t as [Tensor, Tensor2D, Tensor1D]
    const x2 = tf.reshape(xi, [-1, inDim]) as Tensor2D // [M, in]
    save([x2, wi])
    const y = tf.add(tf.matMul(x2, transientW ? shortLived(tf, wi) : wi), bi) // [M, out]
    return {
      value: tf.reshape(y, [...lead, outDim]),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx, sw] = saved as [Tensor2D, Tensor2D]
          const dy2 = tf.reshape(dy, [-1, outDim]) as Tensor2D // [M, out]
          const dxT = tf.matMul(sw, tf.transpose(dy2)) // [in, M]
          const dx = tf.reshape(tf.transpose(dxT), [...lead, inDim]) // [..., in]
          const dw = tf.matMul(tf.transpose(sx), shortLived(tf, dy2)) // [in, out]
          const db = tf.sum(dy2, 0) // [out]
          return [dx, dw, db]
        })
    }
  })
  return op(x, w, b)
}

/** LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm). */
export function layerNorm(tf: Tf, x: Tensor, weight: Tensor1D, bias: Tensor1D, eps: number): Tensor {
  if (fusedWebGpu(tf)) return layerNormWebGpu(tf, x, weight, bias, eps)
  const d = x.shape[x.rank - 1]!
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 3)
    const [xi, wi, bi] = t as [Tensor, Tensor1D, Tensor1D]
    const mean = tf.mean(xi, -1, true)
    const xc = tf.sub(xi, mean)
    const variance = tf.mean(tf.square(xc), -1, true)
    const rstd = tf.rsqrt(tf.add(variance, eps))
    const xhat = tf.mul(xc, rstd)
    save([xhat, rstd, wi])
    return {
      value: tf.add(tf.mul(xhat, wi), bi),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sxhat, srstd, sw] = saved as [Tensor, Tensor, Tensor1D]
          const g = tf.mul(dy, sw)
          const gMean = tf.mean(g, -1, true)
          const gxMean = tf.mean(tf.mul(g, sxhat), -1, true)
          const dx = tf.mul(tf.sub(tf.sub(g, gMean), tf.mul(sxhat, gxMean)), srstd)
          const dy2 = tf.reshape(dy, [-1, d])
          const dw = tf.sum(tf.mul(dy2, tf.reshape(sxhat, [-1, d])), 0)
          const db = tf.sum(dy2, 0)
          return [dx, dw, db]
        })
    }
  })
  return op(x, weight, bias)
}

/** Exact GELU x * Phi(x) with Phi from tf.erf; backward uses the exact derivative Phi(x) + x * phi(x). */
export function gelu(tf: Tf, x: Tensor): Tensor {
  if (fusedWebGpu(tf)) return geluWebGpu(tf, x)
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 1)
    const [xi] = t as [Tensor]
    save([xi])
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(xi, Math.SQRT1_2)), 1), 0.5)
    return {
      value: tf.mul(xi, cdf),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx] = saved as [Tensor]
          const phi = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), 1 / Math.sqrt(2 * Math.PI))
          const cdfB = tf.mul(tf.add(tf.erf(tf.mul(sx, Math.SQRT1_2)), 1), 0.5)
          return [tf.mul(dy, tf.add(cdfB, tf.mul(sx, phi)))]
        })
    }
  })
  return op(x)
}

// WebGPU: the same functions as fused programs (tf/webgpu-kernels.ts), a few dispatches instead of
// chains of small ops whose per-op CPU cost dominates a training step there.

/**
 * linear on WebGPU: the bias rides in the matMul program (tfjs's fused matMul), and the backward uses
 * the matMul transpose flags (cheap there; explicit transposes were for wasm) and db as one column-sum
 * program: 2 + 7 dispatches -> 1 + 3.
 */
function linearWebGpu(tf: Tf, x: Tensor, w: Tensor2D, b: Tensor1D): Tensor {
  const [inDim, outDim] = w.shape
  const lead = x.shape.slice(0, -1)
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 3)
    const [xi, wi, bi] = t as [Tensor, Tensor2D, Tensor1D]
    const x2 = tf.reshape(xi, [-1, inDim]) as Tensor2D // [M, in]
    save([x2, wi])
    return {
      value: tf.reshape(tf.fused.matMul({ a: x2, b: wi, bias: bi }), [...lead, outDim]),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx, sw] = saved as [Tensor2D, Tensor2D]
          const dy2 = tf.reshape(dy, [-1, outDim]) as Tensor2D // [M, out]
          const dx = tf.reshape(tf.matMul(dy2, sw, false, true), [...lead, inDim]) // [..., in]
          return [dx, tf.matMul(sx, dy2, true, false), webgpuColumnSum(tf, dy2)]
        })
    }
  })
  return op(x, w, b)
}

/** bmm on WebGPU: backward with transpose flags instead of explicit transposes (4 -> 2 dispatches). */
function bmmWebGpu<T extends Tensor2D | Tensor3D>(tf: Tf, a: T, b: T): T {
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 2)
    const [x, y] = t as [T, T]
    save([x, y])
    return {
      value: tf.matMul(x, y) as T,
      gradFunc: (dy: T, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx, sy] = saved as [T, T]
          return [tf.matMul(dy, sy, false, true), tf.matMul(sx, dy, true, false)]
        })
    }
  })
  return op(a, b) as T
}

/** layerNorm on WebGPU: saves x and the row statistics [rows, 2] instead of xhat and rstd. */
function layerNormWebGpu(tf: Tf, x: Tensor, weight: Tensor1D, bias: Tensor1D, eps: number): Tensor {
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 3)
    const [xi, wi, bi] = t as [Tensor, Tensor1D, Tensor1D]
    const { y, stats } = webgpuLayerNorm(tf, xi, wi, bi, eps)
    save([xi, stats, wi])
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx, sstats, sw] = saved as [Tensor, Tensor, Tensor1D]
          return webgpuLayerNormGrad(tf, dy, sx, sstats, sw)
        })
    }
  })
  return op(x, weight, bias)
}

function geluWebGpu(tf: Tf, x: Tensor): Tensor {
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 1)
    const [xi] = t as [Tensor]
    save([xi])
    return {
      value: webgpuGelu(tf, xi),
      gradFunc: (dy: Tensor, saved: Tensor[]) => tf.tidy(() => [webgpuGeluGrad(tf, dy, saved[0]!)])
    }
  })
  return op(x)
}

/**
 * Row permutation x [N, L, D] -> [N, R, D] with out[s, r] = x[s, idx[s, r]] (a zero row where idx is
 * -1), as a gather on WebGPU. `gradIdx` [N, L] is the inverse map (the output row that took input
 * row l, or -1), so the gradient is the gather dx[s, l] = dy[s, gradIdx[s, l]]: each input row is
 * used at most once, as in MAE masking. Equals the one-hot product bmm(onehot, x) exactly.
 */
export function gatherRows(tf: Tf, x: Tensor3D, idx: Int32Array, gradIdx: Int32Array, rows: number): Tensor3D {
  const [n, l] = x.shape
  const op = tf.customGrad((...args: Args) => {
    const { t } = splitArgs(args, 1)
    const [xi] = t as [Tensor3D]
    return {
      value: tf.tidy(() => webgpuGatherRows(tf, xi, tf.tensor2d(idx, [n, rows], 'int32'))),
      gradFunc: (dy: Tensor) => tf.tidy(() => [webgpuGatherRows(tf, dy, tf.tensor2d(gradIdx, [n, l], 'int32'))])
    }
  })
  return op(x) as Tensor3D
}

/**
 * WebGPU only: multi-head softmax(q k^T * scale) v from the qkv projection [N, S, 3D] (columns
 * (part, head, j)) to the merged heads [N, S, D], as one differentiable op whose layout changes and
 * softmax backward are single programs. Saves q (scaled), k, v and the attention map.
 */
export function attentionCore(tf: Tf, qkv: Tensor3D, numHeads: number, scale: number): Tensor3D {
  const d = qkv.shape[2] / 3
  const op = tf.customGrad((...args: Args) => {
    const { t, save } = splitArgs(args, 1)
    const [x] = t as [Tensor3D]
    const q = webgpuHeadSplit(tf, x, numHeads, d, 0, scale) // [N*H, S, hd]
    const k = webgpuHeadSplit(tf, x, numHeads, d, 1)
    const v = webgpuHeadSplit(tf, x, numHeads, d, 2)
    const attn = tf.softmax(tf.matMul(q, k, false, true)) // [N*H, S, S]
    save([q, k, v, attn])
    return {
      value: webgpuHeadMerge(tf, [tf.matMul(attn, v)], numHeads) as Tensor3D,
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sq, sk, sv, sa] = saved as [Tensor3D, Tensor3D, Tensor3D, Tensor3D]
          const dOut = webgpuHeadSplit(tf, dy, numHeads, d, 0) // [N*H, S, hd]
          const dAttn = tf.matMul(dOut, sv, false, true) // [N*H, S, S]
          const dV = tf.matMul(sa, dOut, true, false)
          const dScores = webgpuSoftmaxGrad(tf, sa, dAttn)
          const dQ = tf.matMul(dScores, sk) // w.r.t. the scaled q: times scale in the merge
          const dK = tf.matMul(dScores, sq, true, false)
          return [webgpuHeadMerge(tf, [dQ, dK, dV], numHeads, scale)]
        })
    }
  })
  return op(qkv) as Tensor3D
}

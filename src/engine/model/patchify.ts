// 3-D patchify / unpatchify of Prithvi as tensor ops (reshape + transpose, differentiable everywhere):
// 'b c (t tub) (h p) (w q) -> b (t h w) (tub p q c)' and its inverse. WebGPU transposes at most rank 6:
// one frame needs one rank-6 transpose; more frames do the rank-8 permutation as two (channels last
// first, then the token / in-patch axes). A transpose only moves values: the bits are the same.

import type { Tensor, Tensor3D, Tensor5D } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'

export interface PatchGeometry {
  patchSize: number
  tubeletSize: number
  inChans: number
}

/** imgs [N, C, T, H, W] -> patches [N, L, tub*p*p*C] with L = (T/tub)*(H/p)*(W/p). */
export function patchify(tf: Tf, imgs: Tensor, g: PatchGeometry): Tensor3D {
  const [n, c, T, H, W] = imgs.shape as [number, number, number, number, number]
  const { patchSize: p, tubeletSize: tub } = g
  if (imgs.rank !== 5) throw new Error(`patchify expects [N, C, T, H, W], got [${imgs.shape.join(', ')}]`)
  if (T % tub || H % p || W % p) throw new Error(`image [${imgs.shape.join(', ')}] does not tile into ${tub}x${p}x${p} patches`)
  const [t, h, w] = [T / tub, H / p, W / p]
  if (t === 1 && tub === 1) {
    // One frame (the study's case): drop the unit time axes, one rank-6 transpose.
    const x6 = tf.reshape(imgs, [n, c, h, p, w, p]) // [N, C, h, p, w, q]
    return tf.reshape(tf.transpose(x6, [0, 2, 4, 3, 5, 1]), [n, h * w, p * p * c]) as Tensor3D // [N, h, w, p, q, C]
  }
  const last = tf.transpose(tf.reshape(imgs, [n, c, T * H * W]), [0, 2, 1]) // [N, (t tub h p w q), C]
  const x = tf.reshape(last, [n * t, tub, h, p, w, p * c]) // [N t, tub, h, p, w, (q C)]
  const y = tf.transpose(x, [0, 2, 4, 1, 3, 5]) // [N t, h, w, tub, p, (q C)]
  return tf.reshape(y, [n, t * h * w, tub * p * p * c]) as Tensor3D
}

/** patches [N, L, tub*p*p*C] -> imgs [N, C, T, H, W] for a (t, h, w) token grid. */
export function unpatchify(tf: Tf, x: Tensor, g: PatchGeometry, grid: readonly [number, number, number]): Tensor5D {
  const [n, L, P] = x.shape as [number, number, number]
  const { patchSize: p, tubeletSize: tub, inChans: c } = g
  const [t, h, w] = grid
  if (L !== t * h * w || P !== tub * p * p * c) throw new Error(`unpatchify: [${x.shape.join(', ')}] does not match grid ${t}x${h}x${w}, patch ${tub}x${p}x${p}x${c}`)
  if (t === 1 && tub === 1) {
    // As in patchify: one rank-6 transpose for one frame.
    const y6 = tf.reshape(x, [n, h, w, p, p, c]) // [N, h, w, p, q, C]
    return tf.reshape(tf.transpose(y6, [0, 5, 1, 3, 2, 4]), [n, c, 1, h * p, w * p]) as Tensor5D // [N, C, h, p, w, q]
  }
  const y = tf.reshape(x, [n * t, h, w, tub, p, p * c]) // [N t, h, w, tub, p, (q C)]
  const z = tf.transpose(y, [0, 3, 1, 4, 2, 5]) // [N t, tub, h, p, w, (q C)]
  const first = tf.transpose(tf.reshape(z, [n, t * tub * h * p * w * p, c]), [0, 2, 1]) // [N, C, (t tub h p w q)]
  return tf.reshape(first, [n, c, t * tub, h * p, w * p]) as Tensor5D
}

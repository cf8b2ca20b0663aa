// Fixed 3-D sin-cos position embeddings of Prithvi (computed, never loaded), matching the official
// get_3d_sincos_pos_embed: per token [w-part 6/16 | h-part 6/16 | t-part 4/16] of the dimension,
// tokens ordered (t h w) with w fastest, each 1-D part [sin(pos*omega) | cos(pos*omega)].
// The facebookresearch MAE layout uses a 2-D table instead (sincos2dPosEmbed). `familyPosEmbed`
// is the one place that picks the convention for a config: Prithvi-100M's (float32 omega, computed
// for the run's grid), EO-2.0's (TerraTorch: float64 omega for the pre-training grid at the run's
// frame count, then bicubic with align_corners to the run's grid) or the MAE layout's 2-D one.
import { isMaeConfig, type ModelConfig } from '@shared/models/mae'
import { bicubicResize } from './interpolate'

/**
 * 1-D embedding of integer positions 0..numPositions-1: [M, dim] row-major, float64.
 * omega_i = 1 / 10000^(i / (dim/2)) is rounded to float32 at each step as Prithvi-100M's numpy code
 * does (float32 arange); `float64Omega` keeps it in float64, as TerraTorch (EO-2.0) does.
 */
export function sincos1d(dim: number, numPositions: number, float64Omega = false): Float64Array {
  if (dim % 2 !== 0) throw new Error(`sin-cos embedding dimension must be even, got ${dim}`)
  const half = dim / 2
  const omega = new Float64Array(half)
  for (let i = 0; i < half; i++) {
    if (float64Omega) omega[i] = 1 / Math.pow(10000, i / half)
    else omega[i] = Math.fround(1 / Math.fround(Math.pow(10000, Math.fround(i / half))))
  }
  const out = new Float64Array(numPositions * dim) // [M, D]
  for (let m = 0; m < numPositions; m++) {
    for (let i = 0; i < half; i++) {
      const a = m * omega[i]!
      out[m * dim + i] = Math.sin(a)
      out[m * dim + half + i] = Math.cos(a)
    }
  }
  return out
}

/**
 * Position embedding for a (t, h, w) token grid: [(cls ? 1 : 0) + t*h*w, dim] row-major float32.
 * Token l = (ti*h + hi)*w + wi; the CLS row (first, if requested) is all zeros.
 */
export function sincos3dPosEmbed(dim: number, grid: readonly [number, number, number], cls = true, float64Omega = false): Float32Array {
  if (dim % 16 !== 0) throw new Error(`3-D sin-cos embedding needs a dimension divisible by 16, got ${dim}`)
  const [t, h, w] = grid
  const dw = (dim / 16) * 6
  const dh = (dim / 16) * 6
  const dt = (dim / 16) * 4
  const ew = sincos1d(dw, w, float64Omega) // [w, dw]
  const eh = sincos1d(dh, h, float64Omega) // [h, dh]
  const et = sincos1d(dt, t, float64Omega) // [t, dt]
  const offset = cls ? 1 : 0
  const out = new Float32Array((offset + t * h * w) * dim) // [1+L, D]
  for (let ti = 0; ti < t; ti++) {
    for (let hi = 0; hi < h; hi++) {
      for (let wi = 0; wi < w; wi++) {
        const row = (offset + (ti * h + hi) * w + wi) * dim
        out.set(ew.subarray(wi * dw, (wi + 1) * dw), row)
        out.set(eh.subarray(hi * dh, (hi + 1) * dh), row + dw)
        out.set(et.subarray(ti * dt, (ti + 1) * dt), row + dw + dh)
      }
    }
  }
  return out
}

/**
 * EO-2.0's table [1 + t*h*w, dim] (CLS row first, zeros): sin-cos for the pre-training grid
 * (`preGrid` x `preGrid`) at `t` frames, each frame's spatial grid resized bicubically to h x w.
 */
export function resizedPosEmbed(dim: number, t: number, preGrid: number, grid: readonly [number, number]): Float32Array {
  const table = sincos3dPosEmbed(dim, [t, preGrid, preGrid], true, true) // [1 + t*pre*pre, D]
  const [h, w] = grid
  if (h === preGrid && w === preGrid) return table
  const pre2 = preGrid * preGrid
  const out = new Float32Array((1 + t * h * w) * dim) // the CLS row stays zeros
  const planes = new Float32Array(dim * pre2) // one frame as [D, pre, pre]
  for (let ti = 0; ti < t; ti++) {
    for (let l = 0; l < pre2; l++) for (let d = 0; d < dim; d++) planes[d * pre2 + l] = table[(1 + ti * pre2 + l) * dim + d]!
    const resized = bicubicResize(planes, dim, preGrid, preGrid, h, w) // [D, h, w]
    for (let l = 0; l < h * w; l++) for (let d = 0; d < dim; d++) out[(1 + ti * h * w + l) * dim + d] = resized[d * h * w + l]!
  }
  return out
}

/**
 * 2-D position embedding of the facebookresearch MAE (util/pos_embed.py get_2d_sincos_pos_embed):
 * [(cls ? 1 : 0) + g*g, dim] row-major float32, token l = hi*g + wi. The grid's first coordinate
 * is w (meshgrid(grid_w, grid_h)), so each row is [w-part | h-part], dim/2 each; omega in float64.
 */
export function sincos2dPosEmbed(dim: number, gridSize: number, cls = true): Float32Array {
  if (dim % 4 !== 0) throw new Error(`2-D sin-cos embedding needs a dimension divisible by 4, got ${dim}`)
  const half = dim / 2
  const quarter = dim / 4
  const omega = new Float64Array(quarter)
  for (let i = 0; i < quarter; i++) omega[i] = 1 / Math.pow(10000, i / quarter)
  const offset = cls ? 1 : 0
  const out = new Float32Array((offset + gridSize * gridSize) * dim) // [1+L, D]
  for (let hi = 0; hi < gridSize; hi++) {
    for (let wi = 0; wi < gridSize; wi++) {
      const row = (offset + hi * gridSize + wi) * dim
      for (let i = 0; i < quarter; i++) {
        out[row + i] = Math.sin(wi * omega[i]!)
        out[row + quarter + i] = Math.cos(wi * omega[i]!)
        out[row + half + i] = Math.sin(hi * omega[i]!)
        out[row + half + quarter + i] = Math.cos(hi * omega[i]!)
      }
    }
  }
  return out
}

/**
 * The position table of a config's family for width `dim` ([(cls ? 1 : 0) + L, dim]): Prithvi's
 * 3-D table over (t, h, w) (EO-2.0's resized from its pre-training grid), or the MAE layout's 2-D one.
 */
export function familyPosEmbed(cfg: ModelConfig, dim: number, cls = true): Float32Array {
  if (isMaeConfig(cfg)) return sincos2dPosEmbed(dim, cfg.img_size / cfg.patch_size, cls)
  const g = cfg.img_size / cfg.patch_size
  const t = cfg.num_frames / cfg.tubelet_size
  const table = cfg.pretrain_img_size === undefined ? sincos3dPosEmbed(dim, [t, g, g], true) : resizedPosEmbed(dim, t, cfg.pretrain_img_size / cfg.patch_size, [g, g])
  return cls ? table : table.subarray(dim)
}

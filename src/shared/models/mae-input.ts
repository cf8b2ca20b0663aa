// The facebookresearch MAE family's own preprocessing ('native'): an 8-bit tile on the 0-1 scale,
// grey replicated to three channels or RGB turned to grey as in_chans asks, then (x - mean) / std
// per channel with the model's statistics. Not the Prithvi imputation recipes: MOMO was pre-trained
// on grey HiRISE / CTX / THEMIS tiles replicated to RGB, the original MAE on ImageNet RGB.
import type { MaeConfig } from './mae'

/** The name studies, runs and embeddings record for this preprocessing. */
export const MAE_NATIVE_METHOD = 'native'

/** ITU-R BT.601 luma, the weights of PIL's convert('L'), for RGB tiles fed to a one-channel model. */
const LUMA = [0.299, 0.587, 0.114] as const

type InputStats = Pick<MaeConfig, 'in_chans' | 'mean' | 'std'>

/**
 * RGB bytes (HWC, 3 channels; grey tiles arrive with R = G = B) of size s×s → model input
 * [in_chans, s, s] written at `offset` of `out` (or a new array).
 */
export function maeNativeInput(rgb: ArrayLike<number>, s: number, cfg: InputStats, out?: Float32Array, offset = 0): Float32Array {
  const plane = s * s
  if (rgb.length !== plane * 3) throw new Error(`expected an RGB tile of ${s}×${s} (${plane * 3} values), got ${rgb.length}`)
  const target = out ?? new Float32Array(cfg.in_chans * plane)
  if (cfg.in_chans === 1) {
    const mean = cfg.mean[0]!
    const std = cfg.std[0]!
    for (let p = 0; p < plane; p++) {
      const grey = (LUMA[0] * rgb[p * 3]! + LUMA[1] * rgb[p * 3 + 1]! + LUMA[2] * rgb[p * 3 + 2]!) / 255
      target[offset + p] = (grey - mean) / std
    }
    return target
  }
  for (let c = 0; c < 3; c++) {
    const mean = cfg.mean[c]!
    const std = cfg.std[c]!
    for (let p = 0; p < plane; p++) target[offset + c * plane + p] = (Math.fround(rgb[p * 3 + c]! / 255) - mean) / std
  }
  return target
}

/**
 * The same with per-tile standardisation ('standardize'): each channel of the tile is given the
 * model's mean and std over the tile before normalising, i.e. (x - tile mean) / tile std, so that
 * brightness and contrast of the product say nothing. A flat tile (std under one grey level) is
 * only shifted, never amplified.
 */
export function maeStandardizedInput(rgb: ArrayLike<number>, s: number, cfg: InputStats, out?: Float32Array, offset = 0): Float32Array {
  const target = maeNativeInput(rgb, s, cfg, out, offset)
  const plane = s * s
  for (let c = 0; c < cfg.in_chans; c++) {
    const at = offset + c * plane
    let sum = 0
    let sumSq = 0
    for (let p = 0; p < plane; p++) {
      const v = target[at + p]!
      sum += v
      sumSq += v * v
    }
    const mean = sum / plane
    const std = Math.sqrt(Math.max(0, sumSq / plane - mean * mean))
    const oneLevel = 1 / 255 / cfg.std[c]! // one grey level in model units
    const gain = 1 / Math.max(std, oneLevel)
    for (let p = 0; p < plane; p++) target[at + p] = (target[at + p]! - mean) * gain
  }
  return target
}

/** Model-space [in_chans, s, s] → display RGB (HWC, 0-255 floats; grey models shown grey). */
export function maeNativeToRgb(values: Float32Array, s: number, cfg: InputStats): Float32Array {
  const plane = s * s
  const out = new Float32Array(plane * 3)
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      const c = cfg.in_chans === 1 ? 0 : k
      out[p * 3 + k] = (values[c * plane + p]! * cfg.std[c]! + cfg.mean[c]!) * 255
    }
  }
  return out
}

/** Mean squared error per pixel over the channels of [C, s, s] planes, averaged within each patch ([g*g]). */
export function maePatchErrors(target: Float32Array, pred: Float32Array, channels: number, patch: number, s: number): Float32Array {
  const g = s / patch
  const out = new Float32Array(g * g)
  const plane = s * s
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane; p++) {
      const d = pred[c * plane + p]! - target[c * plane + p]!
      out[Math.floor(Math.floor(p / s) / patch) * g + Math.floor((p % s) / patch)]! += (d * d) / (channels * patch * patch)
    }
  }
  return out
}

/**
 * The MAE's norm_pix_loss target: each patch vector [L, P] standardised by its own mean and
 * unbiased variance (+1e-6), as forward_loss does. Returns a new array; `n` samples of L patches.
 */
export function normalisePatches(patches: Float32Array, n: number, L: number, P: number): Float32Array {
  const out = new Float32Array(patches.length)
  for (let r = 0; r < n * L; r++) {
    const base = r * P
    let mean = 0
    for (let k = 0; k < P; k++) mean += patches[base + k]!
    mean /= P
    let ss = 0
    for (let k = 0; k < P; k++) ss += (patches[base + k]! - mean) ** 2
    const sd = Math.sqrt(ss / (P - 1) + 1e-6)
    for (let k = 0; k < P; k++) out[base + k] = (patches[base + k]! - mean) / sd
  }
  return out
}

/** Undoes normalisePatches for display, with the target patch's own mean and spread. */
export function denormalisePatches(pred: Float32Array, raw: Float32Array, n: number, L: number, P: number): Float32Array {
  const out = new Float32Array(pred.length)
  for (let r = 0; r < n * L; r++) {
    const base = r * P
    let mean = 0
    for (let k = 0; k < P; k++) mean += raw[base + k]!
    mean /= P
    let ss = 0
    for (let k = 0; k < P; k++) ss += (raw[base + k]! - mean) ** 2
    const sd = Math.sqrt(ss / (P - 1) + 1e-6)
    for (let k = 0; k < P; k++) out[base + k] = pred[base + k]! * sd + mean
  }
  return out
}

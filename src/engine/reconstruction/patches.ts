// The MAE's patch layout on the CPU: per-sample losses exactly as Prithvi's forward_loss computes
// them (norm_pix_loss off), and the conversions between [C, H, W] planes and [L, tub·p·p·C] patches.
// Token l = gy·(W/p) + gx (T = 1); within a patch, value k = (py·p + px)·C + c.

export interface PatchLayout {
  size: number
  patch: number
  channels: number
}

function dims({ size, patch, channels }: PatchLayout) {
  const g = size / patch
  return { g, L: g * g, P: patch * patch * channels }
}

/**
 * Per-patch MSE averaged over the removed patches of sample `s`, over all bands (model loss) and
 * over bands 0..2 (the study's RGB loss). pred/target [N, L, P], mask [N, L] (1 = removed).
 */
export function sampleLosses(pred: Float32Array, target: Float32Array, mask: Float32Array, s: number, layout: PatchLayout): { model: number; rgb: number } {
  const { L, P } = dims(layout)
  const C = layout.channels
  let model = 0
  let rgb = 0
  let weight = 0
  for (let l = 0; l < L; l++) {
    const m = mask[s * L + l]!
    if (m === 0) continue
    const base = (s * L + l) * P
    let all = 0
    let first3 = 0
    for (let k = 0; k < P; k++) {
      const d = pred[base + k]! - target[base + k]!
      all += d * d
      if (k % C < 3) first3 += d * d
    }
    model += (m * all) / P
    rgb += (m * first3) / ((P / C) * 3)
    weight += m
  }
  return weight === 0 ? { model: NaN, rgb: NaN } : { model: model / weight, rgb: rgb / weight }
}

/** Sample `s` of [N, L, P] → [C, H, W]. */
export function unpatchifySample(patches: Float32Array, s: number, layout: PatchLayout): Float32Array {
  const { g, L, P } = dims(layout)
  const { size, patch: p, channels: C } = layout
  const out = new Float32Array(C * size * size)
  for (let l = 0; l < L; l++) {
    const y0 = Math.floor(l / g) * p
    const x0 = (l % g) * p
    const base = (s * L + l) * P
    for (let py = 0; py < p; py++) {
      for (let px = 0; px < p; px++) {
        const k = base + (py * p + px) * C
        const pix = (y0 + py) * size + x0 + px
        for (let c = 0; c < C; c++) out[c * size * size + pix] = patches[k + c]!
      }
    }
  }
  return out
}

/** [N, C, 1, H, W] → [N, L, P] (the loss target). */
export function patchifyBatch(pixels: Float32Array, n: number, layout: PatchLayout): Float32Array {
  const { g, L, P } = dims(layout)
  const { size, patch: p, channels: C } = layout
  const plane = size * size
  const out = new Float32Array(n * L * P)
  for (let s = 0; s < n; s++) {
    for (let l = 0; l < L; l++) {
      const y0 = Math.floor(l / g) * p
      const x0 = (l % g) * p
      const base = (s * L + l) * P
      for (let py = 0; py < p; py++) {
        for (let px = 0; px < p; px++) {
          const pix = (y0 + py) * size + x0 + px
          const k = base + (py * p + px) * C
          for (let c = 0; c < C; c++) out[k + c] = pixels[(s * C + c) * plane + pix]!
        }
      }
    }
  }
  return out
}

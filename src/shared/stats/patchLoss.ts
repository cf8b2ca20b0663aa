// Per-patch errors and the masked-autoencoder losses over [C, h, w] planes (T = 1).
//
// Patch index l = gy·(w/patch) + gx, row-major, matching Prithvi's patchify
// 'b c (t tub) (h p) (w q) -> b (t h w) (tub p q c)'. A mask holds 1 for masked (hidden)
// patches and 0 for visible ones, as the MAE's `mask` output does.
// The model loss is Prithvi's forward_loss with norm_pix_loss = false: per-patch MSE over all
// bands, averaged over masked patches. The study's RGB loss is the same over bands 0..2.

/** Per-patch MSE over the chosen bands (default: all), Float32Array of (h/patch)·(w/patch). */
export function patchMse(
  target: ArrayLike<number>,
  pred: ArrayLike<number>,
  patch: number,
  h: number,
  w: number,
  bands?: readonly number[]
): Float32Array {
  return Float32Array.from(patchMse64(target, pred, patch, h, w, bands))
}

/** Mean of per-patch MSE over the masked patches (mask[l] = 1); NaN when nothing is masked. */
export function maskedPatchLoss(
  target: ArrayLike<number>,
  pred: ArrayLike<number>,
  mask: ArrayLike<number>,
  patch: number,
  h: number,
  w: number,
  bands?: readonly number[]
): number {
  const perPatch = patchMse64(target, pred, patch, h, w, bands)
  if (mask.length !== perPatch.length) throw new Error(`maskedPatchLoss: mask has ${mask.length} entries, expected ${perPatch.length} patches`)
  // (loss · mask).sum() / mask.sum(), as forward_loss computes it.
  let sum = 0
  let weight = 0
  for (let l = 0; l < perPatch.length; l++) {
    sum += perPatch[l] * mask[l]
    weight += mask[l]
  }
  return weight === 0 ? NaN : sum / weight
}

function patchMse64(target: ArrayLike<number>, pred: ArrayLike<number>, patch: number, h: number, w: number, bands?: readonly number[]): Float64Array {
  const { gh, gw, channels, plane } = patchGeometry(target.length, patch, h, w)
  if (pred.length !== target.length) throw new Error(`patch error: prediction has ${pred.length} values, target ${target.length}`)
  const used = bands ?? Array.from({ length: channels }, (_, c) => c)
  for (const c of used) if (!(Number.isInteger(c) && c >= 0 && c < channels)) throw new Error(`patch error: band ${c} out of range 0..${channels - 1}`)
  const sums = new Float64Array(gh * gw)
  for (const c of used) {
    for (let y = 0; y < h; y++) {
      const rowBase = c * plane + y * w
      const patchRow = Math.floor(y / patch) * gw
      for (let x = 0; x < w; x++) {
        const d = target[rowBase + x] - pred[rowBase + x]
        sums[patchRow + Math.floor(x / patch)] += d * d
      }
    }
  }
  const count = used.length * patch * patch
  for (let l = 0; l < sums.length; l++) sums[l] /= count
  return sums
}

/** Patch grid and channel count for [C, h, w] data; throws when patches do not tile the plane. */
export function patchGeometry(length: number, patch: number, h: number, w: number): { gh: number; gw: number; channels: number; plane: number } {
  if (!Number.isInteger(patch) || patch <= 0) throw new Error(`invalid patch size ${patch}`)
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) throw new Error(`invalid size ${h}x${w}`)
  if (h % patch !== 0 || w % patch !== 0) throw new Error(`${h}x${w} is not divisible into ${patch}x${patch} patches`)
  const plane = h * w
  if (length === 0 || length % plane !== 0) throw new Error(`${length} values are not whole ${h}x${w} planes`)
  return { gh: h / patch, gw: w / patch, channels: length / plane, plane }
}

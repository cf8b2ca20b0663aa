// MAE random masking planned on the CPU: per-sample argsort of noise (ascending: the smallest
// int(L*(1-ratio)) are kept), the binary mask (0 keep, 1 remove) and ids_restore, plus the one-hot
// permutation matrices that apply keep/restore with matMul (no gather, so every backend has gradients).

import { uniformArray, type Rng } from '@shared/random'

export interface MaskPlan {
  n: number
  numPatches: number
  lenKeep: number
  /** [N, L] token indices sorted by noise; the first lenKeep are kept. */
  idsShuffle: Int32Array
  /** [N, L] inverse permutation of idsShuffle. */
  idsRestore: Int32Array
  /** [N, L] 0 = keep, 1 = remove. */
  mask: Float32Array
  /** True when tokens keep their order and none is removed (no permutation needed). */
  identity: boolean
}

/** Python's int(L * (1 - ratio)) in float64. */
export function keepCount(numPatches: number, maskRatio: number): number {
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new Error(`mask ratio must be in [0, 1), got ${maskRatio}`)
  return Math.trunc(numPatches * (1 - maskRatio))
}

function argsortRow(noise: ArrayLike<number>, start: number, length: number): number[] {
  const ids = Array.from({ length }, (_, i) => i)
  ids.sort((a, b) => noise[start + a]! - noise[start + b]! || a - b)
  return ids
}

/**
 * Plans masking for N samples of L tokens. `noise` is [N, L] row-major; without it, random noise is
 * drawn from `rng` (or Math.random), except for maskRatio 0 where the identity order is used: the
 * encoder output then equals the official one up to its (random) row permutation.
 */
export function planMasking(n: number, numPatches: number, maskRatio: number, noise?: ArrayLike<number>, rng?: Rng): MaskPlan {
  const L = numPatches
  const lenKeep = keepCount(L, maskRatio)
  if (noise && noise.length !== n * L) throw new Error(`noise has ${noise.length} values, expected N*L = ${n}*${L}`)
  const idsShuffle = new Int32Array(n * L)
  const idsRestore = new Int32Array(n * L)
  const mask = new Float32Array(n * L)
  const identity = !noise && lenKeep === L
  let source = noise
  if (!source && !identity) {
    source = rng ? uniformArray(rng, n * L) : Float32Array.from({ length: n * L }, () => Math.random())
  }
  for (let s = 0; s < n; s++) {
    const order = source ? argsortRow(source, s * L, L) : Array.from({ length: L }, (_, i) => i)
    for (let r = 0; r < L; r++) {
      const tok = order[r]!
      idsShuffle[s * L + r] = tok
      idsRestore[s * L + tok] = r
      mask[s * L + tok] = r < lenKeep ? 0 : 1
    }
  }
  return { n, numPatches: L, lenKeep, idsShuffle, idsRestore, mask, identity }
}

/** Rebuilds a plan from ids_restore [N, L] and the number of kept tokens (as forward_decoder needs). */
export function planFromIdsRestore(idsRestore: ArrayLike<number>, n: number, numPatches: number, lenKeep: number): MaskPlan {
  const L = numPatches
  if (idsRestore.length !== n * L) throw new Error(`ids_restore has ${idsRestore.length} values, expected ${n}*${L}`)
  const idsShuffle = new Int32Array(n * L)
  const restore = new Int32Array(n * L)
  const mask = new Float32Array(n * L)
  let identity = lenKeep === L
  for (let s = 0; s < n; s++) {
    for (let tok = 0; tok < L; tok++) {
      const r = idsRestore[s * L + tok]!
      if (!(r >= 0 && r < L)) throw new Error(`ids_restore[${s}, ${tok}] = ${r} is out of range`)
      restore[s * L + tok] = r
      idsShuffle[s * L + r] = tok
      mask[s * L + tok] = r < lenKeep ? 0 : 1
      if (r !== tok) identity = false
    }
  }
  return { n, numPatches: L, lenKeep, idsShuffle, idsRestore: restore, mask, identity }
}

/** One-hot [N, lenKeep, L]: row r selects token idsShuffle[r] (x_masked = K @ x). */
export function keepMatrix(plan: MaskPlan): Float32Array {
  const { n, numPatches: L, lenKeep: K } = plan
  const out = new Float32Array(n * K * L)
  for (let s = 0; s < n; s++) {
    for (let r = 0; r < K; r++) out[(s * K + r) * L + plan.idsShuffle[s * L + r]!] = 1
  }
  return out
}

/** One-hot [N, L, lenKeep]: row `tok` picks its kept token, all-zero rows for removed tokens (x = R @ x_kept). */
export function restoreMatrix(plan: MaskPlan): Float32Array {
  const { n, numPatches: L, lenKeep: K } = plan
  const out = new Float32Array(n * L * K)
  for (let s = 0; s < n; s++) {
    for (let tok = 0; tok < L; tok++) {
      const r = plan.idsRestore[s * L + tok]!
      if (r < K) out[(s * L + tok) * K + r] = 1
    }
  }
  return out
}

/**
 * Gather indices for the keep / restore permutations (fused WebGPU path, model/ops.ts gatherRows):
 * `kept` [N, lenKeep] is the token each kept row takes (idsShuffle's first lenKeep); `restored` [N, L]
 * is the kept row each token takes back, -1 for removed tokens. Keep gathers with `kept` and its
 * gradient with `restored`; restore the other way round.
 */
export function maskIndices(plan: MaskPlan): { kept: Int32Array; restored: Int32Array } {
  const { n, numPatches: L, lenKeep: K } = plan
  const kept = new Int32Array(n * K)
  const restored = new Int32Array(n * L)
  for (let s = 0; s < n; s++) {
    for (let r = 0; r < K; r++) kept[s * K + r] = plan.idsShuffle[s * L + r]!
    for (let tok = 0; tok < L; tok++) {
      const r = plan.idsRestore[s * L + tok]!
      restored[s * L + tok] = r < K ? r : -1
    }
  }
  return { kept, restored }
}

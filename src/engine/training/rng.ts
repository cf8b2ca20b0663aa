// Randomness of a run, derived from (seed, stream, step) instead of a running generator: the data
// order of epoch e, the masking noise and dropout of step s and the augmentation of sample i are
// pure functions of the seed, so a run resumed at any step draws exactly what it would have drawn.
import { seededRandom, type Rng } from '@shared/random'

export { uniformArray } from '@shared/random'

/** FNV-1a over the parts' text, then mixed: a 32-bit seed per (seed, stream, indices). */
export function deriveSeed(seed: number, stream: string, ...indices: number[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0)
  const text = `${stream}:${indices.join(',')}`
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= seed >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

export function streamRandom(seed: number, stream: string, ...indices: number[]): Rng {
  return seededRandom(deriveSeed(seed, stream, ...indices))
}

/** Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

/** Inverted-dropout keep mask scaled by 1/(1-p): 0 or 1/(1-p) per element. */
export function dropoutMask(rng: Rng, n: number, p: number): Float32Array {
  const out = new Float32Array(n)
  const scale = 1 / (1 - p)
  for (let i = 0; i < n; i++) out[i] = rng() < p ? 0 : scale
  return out
}

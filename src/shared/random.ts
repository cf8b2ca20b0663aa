// The app's one seeded random-number generator: reproducible statistics (bootstrap, synthetic
// data), dataset splits, random model weights, masking noise and a run's data order and dropout.
//
// Generator: xoshiro128** 1.0 (Blackman & Vigna, 2018): 128-bit state, period 2^128 − 1,
// passes BigCrush, 32-bit integer output, cheap in JavaScript's 32-bit integer ops.
// Seeding: the 32-bit seed is expanded into the four state words with a SplitMix32-style
// mixer (golden-ratio increment, then the MurmurHash3 fmix32 finaliser), so nearby seeds
// give unrelated streams and the state can never be all zero.
// tests/fixtures/imputation/make_expected.py re-implements both in Python as a reference.

/** A source of uniform doubles in [0, 1). */
export type Rng = () => number

/** Raw xoshiro128** over an explicit state; returns the next unsigned 32-bit output. */
export function xoshiro128ss(state: readonly [number, number, number, number]): () => number {
  let s0 = state[0] >>> 0
  let s1 = state[1] >>> 0
  let s2 = state[2] >>> 0
  let s3 = state[3] >>> 0
  if ((s0 | s1 | s2 | s3) === 0) throw new Error('xoshiro128** state must not be all zero')
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = (s1 << 9) >>> 0
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    s0 >>>= 0
    s1 >>>= 0
    s2 >>>= 0
    s3 >>>= 0
    return result
  }
}

/** The four xoshiro state words derived from a seed (taken modulo 2^32). */
export function seedState(seed: number): [number, number, number, number] {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`)
  let x = Math.trunc(seed) >>> 0
  const next = (): number => {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  return [next(), next(), next(), next()]
}

/** Uniform doubles in [0, 1) with 32 bits of resolution, reproducible from `seed`. */
export function seededRandom(seed: number): Rng {
  const nextU32 = xoshiro128ss(seedState(seed))
  return () => nextU32() / 4294967296
}

/** Normal deviates N(mean, sd²) by the Box–Muller transform over `seededRandom(seed)`. */
export function seededNormal(seed: number, mean = 0, sd = 1): Rng {
  const standard = normalFrom(seededRandom(seed))
  return () => mean + sd * standard()
}

/**
 * Standard normal deviates by the Box–Muller transform, drawing from `uniform`: a caller that
 * needs both uniform and normal values (random weights) keeps one stream for both.
 */
export function normalFrom(uniform: Rng): Rng {
  let spare: number | null = null
  return () => {
    if (spare !== null) {
      const z = spare
      spare = null
      return z
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()))
    const angle = 2 * Math.PI * uniform()
    spare = radius * Math.sin(angle)
    return radius * Math.cos(angle)
  }
}

/** `n` uniform [0, 1) values from `rng`, e.g. masking noise [N, L]. */
export function uniformArray(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rng()
  return out
}

/** A uniform integer in [0, n) drawn from `rng` (floor of rng()·n). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.floor(rng() * n)
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

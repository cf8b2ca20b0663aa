// Masking noise for a tile: a seeded random permutation of the patches written as distinct
// values (rank + 0.5)/L, so argsort has no ties in float32 (ONNX TopK, tfjs and torch then agree
// on the mask). The same noise, hence the same mask, is used for every method of the tile.
import { seededRandom } from '@shared/random'

/** Noise [L] for tile `tileIndex` under mask seed `seed`. */
export function tileNoise(numPatches: number, seed: number, tileIndex: number): Float32Array {
  const rng = seededRandom(((seed >>> 0) ^ Math.imul(tileIndex + 1, 0x9e3779b9)) >>> 0)
  const order = Array.from({ length: numPatches }, (_, i) => i)
  for (let i = numPatches - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  const noise = new Float32Array(numPatches)
  order.forEach((patch, rank) => (noise[patch] = (rank + 0.5) / numPatches))
  return noise
}

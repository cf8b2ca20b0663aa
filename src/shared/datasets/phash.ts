// Perceptual hashes for the near-duplicate finder: a 32×32 grey thumbnail, its 2-D DCT, and
// the sign of the 8×8 lowest frequencies (DC left out) against their median: 64 bits that
// survive re-encoding, small shifts in brightness and resizing.

/** Area-averaged grey `size`×`size` image from interleaved 8-bit pixels (1–4 channels). */
export function greyThumbnail(data: Uint8Array, width: number, height: number, channels: number, size = 32): Float64Array {
  const out = new Float64Array(size * size)
  const colourChannels = channels >= 3 ? 3 : 1
  for (let ty = 0; ty < size; ty++) {
    const y0 = Math.floor((ty * height) / size)
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * height) / size))
    for (let tx = 0; tx < size; tx++) {
      const x0 = Math.floor((tx * width) / size)
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * width) / size))
      let sum = 0
      let n = 0
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * channels
          sum += colourChannels === 3 ? (data[i]! + data[i + 1]! + data[i + 2]!) / 3 : data[i]!
          n++
        }
      }
      out[ty * size + tx] = n ? sum / n : 0
    }
  }
  return out
}

const N = 32
const COS = (() => {
  const t = new Float64Array(N * N)
  for (let k = 0; k < N; k++) for (let n = 0; n < N; n++) t[k * N + n] = Math.cos((Math.PI * (2 * n + 1) * k) / (2 * N))
  return t
})()

/** 64-bit perceptual hash as 16 hex digits, from a 32×32 grey image. */
export function perceptualHash(grey32: Float64Array): string {
  if (grey32.length !== N * N) throw new Error(`perceptualHash needs a 32×32 image, got ${grey32.length} values`)
  // Only the 8×8 low-frequency corner is needed: rows first, then columns.
  const rows = new Float64Array(N * 8)
  for (let y = 0; y < N; y++) for (let k = 0; k < 8; k++) {
    let s = 0
    for (let x = 0; x < N; x++) s += grey32[y * N + x]! * COS[k * N + x]!
    rows[y * 8 + k] = s
  }
  const coeffs: number[] = []
  for (let ky = 0; ky < 8; ky++) for (let kx = 0; kx < 8; kx++) {
    let s = 0
    for (let y = 0; y < N; y++) s += rows[y * 8 + kx]! * COS[ky * N + y]!
    coeffs.push(s)
  }
  const ac = coeffs.slice(1)
  const median = [...ac].sort((a, b) => a - b)[Math.floor(ac.length / 2)]!
  let hi = 0
  let lo = 0
  for (let i = 0; i < 64; i++) {
    const bit = i > 0 && coeffs[i]! > median ? 1 : 0
    if (i < 32) hi = (hi | (bit << (31 - i))) >>> 0
    else lo = (lo | (bit << (63 - i))) >>> 0
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')
}

export function hammingDistance(a: string, b: string): number {
  return popcount(parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) + popcount(parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16))
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
}

export interface HashedTile {
  id: number
  phash: string
  split: string | null
}

export interface DuplicatePair {
  a: number
  b: number
  distance: number
  /** The two tiles sit in different splits: evaluation sees a copy of training data. */
  crossSplit: boolean
}

/** Pairs of tiles within `maxDistance` bits of each other (all pairs; 10,000 tiles take < 1 s). */
export function findNearDuplicates(tiles: readonly HashedTile[], maxDistance = 4): DuplicatePair[] {
  const hi = Uint32Array.from(tiles, (t) => parseInt(t.phash.slice(0, 8), 16))
  const lo = Uint32Array.from(tiles, (t) => parseInt(t.phash.slice(8), 16))
  const out: DuplicatePair[] = []
  for (let i = 0; i < tiles.length; i++) {
    for (let j = i + 1; j < tiles.length; j++) {
      const d = popcount(hi[i]! ^ hi[j]!) + popcount(lo[i]! ^ lo[j]!)
      if (d <= maxDistance) {
        const a = tiles[i]!
        const b = tiles[j]!
        out.push({ a: a.id, b: b.id, distance: d, crossSplit: !!a.split && !!b.split && a.split !== b.split })
      }
    }
  }
  return out
}

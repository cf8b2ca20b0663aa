// Contrast stretch for the labelling view: HiRISE tiles are often a narrow band of greys, so
// faint rims and shadows vanish. Levels are taken at percentiles of the tile's brightness
// histogram and mapped linearly onto 0–255 (display only: labels, masks and exports never see it).

/** A 256-bin histogram of brightness ((r + g + b) / 3) over the RGBA pixels with any opacity. */
export function brightnessHistogram(rgba: ArrayLike<number>): Uint32Array {
  const hist = new Uint32Array(256)
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    if (rgba[i + 3] === 0) continue
    hist[Math.round((rgba[i]! + rgba[i + 1]! + rgba[i + 2]!) / 3)]!++
  }
  return hist
}

/**
 * The grey levels at the `lowPct` and `highPct` percentiles (0–100) of a histogram; `high` is
 * always above `low` (a flat tile gets a one-level window instead of a division by zero).
 */
export function percentileLevels(hist: ArrayLike<number>, lowPct: number, highPct: number): { low: number; high: number } {
  let total = 0
  for (let v = 0; v < 256; v++) total += hist[v]!
  if (!total) return { low: 0, high: 255 }
  const find = (pct: number) => {
    const target = (Math.min(100, Math.max(0, pct)) / 100) * total
    let seen = 0
    for (let v = 0; v < 256; v++) {
      seen += hist[v]!
      if (seen >= target && seen > 0) return v
    }
    return 255
  }
  const low = find(lowPct)
  const high = Math.max(find(highPct), low + 1)
  return high > 255 ? { low: 254, high: 255 } : { low, high }
}

/** A lookup table mapping `low` to 0 and `high` to 255, clipped outside. */
export function stretchTable(low: number, high: number): Uint8Array {
  const lut = new Uint8Array(256)
  const span = Math.max(1, high - low)
  for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round(((v - low) / span) * 255)))
  return lut
}

/** Applies a lookup table to the RGB channels of RGBA pixels, in place. */
export function applyStretch(rgba: { length: number; [i: number]: number }, lut: Uint8Array): void {
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    rgba[i] = lut[rgba[i]!]!
    rgba[i + 1] = lut[rgba[i + 1]!]!
    rgba[i + 2] = lut[rgba[i + 2]!]!
  }
}

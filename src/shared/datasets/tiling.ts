// Tile rectangles: a regular grid (224 for Prithvi, 512 for the study's crops) with a stride,
// edges dropped or padded, or one tile centred where the user clicked.

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export type EdgeMode = 'drop' | 'pad'

export interface GridOptions {
  size: number
  stride?: number
  edge: EdgeMode
}

/**
 * Grid tiles over a width×height image, row by row. `drop` keeps only whole tiles; `pad` also
 * keeps the partial ones at the right and bottom edges, which exports pad with black.
 */
export function gridRects(width: number, height: number, opts: GridOptions): Rect[] {
  const size = opts.size
  const stride = opts.stride ?? size
  if (!(size >= 1 && stride >= 1)) throw new Error(`tile size and stride must be positive, got ${size} and ${stride}`)
  const starts = (extent: number): number[] => {
    const out: number[] = []
    for (let s = 0; s + size <= extent; s += stride) out.push(s)
    if (opts.edge === 'pad') {
      const next = out.length ? out[out.length - 1]! + stride : 0
      if (next < extent) out.push(next)
    }
    return out
  }
  const rects: Rect[] = []
  for (const y of starts(height)) for (const x of starts(width)) rects.push({ x, y, width: size, height: size })
  return rects
}

/** A size×size tile centred at (cx, cy), moved inside the image where the image is big enough. */
export function rectAround(cx: number, cy: number, size: number, width: number, height: number): Rect {
  const place = (c: number, extent: number) => {
    const start = Math.round(c - size / 2)
    if (extent <= size) return start
    return Math.min(Math.max(0, start), extent - size)
  }
  return { x: place(cx, width), y: place(cy, height), width: size, height: size }
}

/** The part of a rectangle that lies inside the image (null if none). */
export function intersectImage(r: Rect, width: number, height: number): Rect | null {
  const x0 = Math.max(0, r.x)
  const y0 = Math.max(0, r.y)
  const x1 = Math.min(width, r.x + r.width)
  const y1 = Math.min(height, r.y + r.height)
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null
}

// Crater masks from annotations: filled, or outlines of a chosen width (the study tried 5 and
// 15 px). A pixel belongs to a shape when its centre does, so the same geometry gives the same
// mask in the preview and in every export.
import { geometryToPolygon, type Geometry, type Point } from './geometry'

export type MaskMode = 'filled' | 'outline'

export interface MaskRule {
  mode: MaskMode
  /** Outline width in pixels (ignored for filled masks). */
  width: number
}

export const DEFAULT_MASK_RULE: MaskRule = { mode: 'filled', width: 5 }

/** A w×h mask, one byte a pixel: 1 crater, 0 background. */
export function rasteriseMask(shapes: readonly Geometry[], w: number, h: number, rule: MaskRule = DEFAULT_MASK_RULE): Uint8Array {
  const mask = new Uint8Array(w * h)
  for (const g of shapes) {
    if (rule.mode === 'filled') {
      if (g.kind === 'ellipse') fillEllipse(mask, w, h, g)
      else fillPolygon(mask, w, h, geometryToPolygon(g))
    } else {
      strokePolygon(mask, w, h, geometryToPolygon(g), rule.width)
    }
  }
  return mask
}

/** Even-odd scanline fill, sampled at pixel centres. */
export function fillPolygon(mask: Uint8Array, w: number, h: number, points: readonly Point[]): void {
  if (points.length < 3) return
  // A loop, not Math.min(...ys): spreading a user-sized list overflows the stack.
  let top = Infinity
  let bottom = -Infinity
  for (const p of points) {
    if (p[1] < top) top = p[1]
    if (p[1] > bottom) bottom = p[1]
  }
  const y0 = Math.max(0, Math.floor(top))
  const y1 = Math.min(h - 1, Math.ceil(bottom))
  const xs: number[] = []
  for (let y = y0; y <= y1; y++) {
    const sy = y + 0.5
    xs.length = 0
    for (let i = 0; i < points.length; i++) {
      const [ax, ay] = points[i]!
      const [bx, by] = points[(i + 1) % points.length]!
      // Half-open rule: an edge counts for ay <= sy < by (or the reverse), so vertices count once.
      if ((ay <= sy && sy < by) || (by <= sy && sy < ay)) xs.push(ax + ((sy - ay) * (bx - ax)) / (by - ay))
    }
    xs.sort((a, b) => a - b)
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixels whose centre x + 0.5 lies in [xs[k], xs[k+1]).
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5))
      const to = Math.min(w - 1, Math.ceil(xs[k + 1]! - 0.5) - 1)
      for (let x = from; x <= to; x++) mask[y * w + x] = 1
    }
  }
}

export function fillEllipse(mask: Uint8Array, w: number, h: number, e: { cx: number; cy: number; rx: number; ry: number }): void {
  if (e.rx <= 0 || e.ry <= 0) return
  const y0 = Math.max(0, Math.floor(e.cy - e.ry))
  const y1 = Math.min(h - 1, Math.ceil(e.cy + e.ry))
  const x0 = Math.max(0, Math.floor(e.cx - e.rx))
  const x1 = Math.min(w - 1, Math.ceil(e.cx + e.rx))
  for (let y = y0; y <= y1; y++) {
    const dy = (y + 0.5 - e.cy) / e.ry
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - e.cx) / e.rx
      if (dx * dx + dy * dy <= 1) mask[y * w + x] = 1
    }
  }
}

/** Pixels whose centre lies within width/2 of the closed outline. */
export function strokePolygon(mask: Uint8Array, w: number, h: number, points: readonly Point[], width: number): void {
  const r = Math.max(0.5, width / 2)
  const r2 = r * r
  for (let i = 0; i < points.length; i++) {
    const [ax, ay] = points[i]!
    const [bx, by] = points[(i + 1) % points.length]!
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r))
    const x1 = Math.min(w - 1, Math.ceil(Math.max(ax, bx) + r))
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r))
    const y1 = Math.min(h - 1, Math.ceil(Math.max(ay, by) + r))
    const vx = bx - ax
    const vy = by - ay
    const len2 = vx * vx + vy * vy
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5 - ax
        const py = y + 0.5 - ay
        const t = len2 > 0 ? Math.max(0, Math.min(1, (px * vx + py * vy) / len2)) : 0
        const dx = px - t * vx
        const dy = py - t * vy
        if (dx * dx + dy * dy <= r2) mask[y * w + x] = 1
      }
    }
  }
}

export function maskPixelCount(mask: Uint8Array): number {
  let n = 0
  for (let i = 0; i < mask.length; i++) n += mask[i]!
  return n
}

// Crater annotations in tile pixel coordinates (origin top-left, x right, y down; a pixel's
// centre sits at +0.5). Polygons come from the polygon tool and COCO, boxes from YOLO and VOC,
// ellipses are the crater outline inscribed in a box.

export type Point = [number, number]

export type Geometry =
  | { kind: 'polygon'; points: Point[] }
  | { kind: 'box'; x: number; y: number; w: number; h: number }
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number }

export type GeometryKind = Geometry['kind']

/** The ellipse inscribed in a box: the study's coarse crater outline for box-only labels. */
export function ellipseInBox(box: { x: number; y: number; w: number; h: number }): Geometry {
  return { kind: 'ellipse', cx: box.x + box.w / 2, cy: box.y + box.h / 2, rx: box.w / 2, ry: box.h / 2 }
}

/** An ellipse as a closed polygon (for outlines and COCO export). */
export function ellipseToPolygon(e: { cx: number; cy: number; rx: number; ry: number }, vertices = 48): Point[] {
  const out: Point[] = []
  for (let i = 0; i < vertices; i++) {
    const a = (2 * Math.PI * i) / vertices
    out.push([round3(e.cx + e.rx * Math.cos(a)), round3(e.cy + e.ry * Math.sin(a))])
  }
  return out
}

export function geometryToPolygon(g: Geometry): Point[] {
  switch (g.kind) {
    case 'polygon':
      return g.points
    case 'box':
      return [[g.x, g.y], [g.x + g.w, g.y], [g.x + g.w, g.y + g.h], [g.x, g.y + g.h]]
    case 'ellipse':
      return ellipseToPolygon(g)
  }
}

export function boundingBox(g: Geometry): { x: number; y: number; w: number; h: number } {
  if (g.kind === 'box') return { x: g.x, y: g.y, w: g.w, h: g.h }
  if (g.kind === 'ellipse') return { x: g.cx - g.rx, y: g.cy - g.ry, w: 2 * g.rx, h: 2 * g.ry }
  // A loop, not Math.min(...xs): spreading a user-sized list overflows the stack past ~100k points.
  let x0 = Infinity
  let y0 = Infinity
  let x1 = -Infinity
  let y1 = -Infinity
  for (const [px, py] of g.points) {
    if (px < x0) x0 = px
    if (px > x1) x1 = px
    if (py < y0) y0 = py
    if (py > y1) y1 = py
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}

/** Twice the signed area (shoelace); 0 for a degenerate polygon. */
export function polygonArea(points: readonly Point[]): number {
  let a = 0
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i]!
    const [x2, y2] = points[(i + 1) % points.length]!
    a += x1 * y2 - x2 * y1
  }
  return Math.abs(a) / 2
}

export function geometryArea(g: Geometry): number {
  if (g.kind === 'box') return g.w * g.h
  if (g.kind === 'ellipse') return Math.PI * g.rx * g.ry
  return polygonArea(g.points)
}

/** Moves a geometry by (dx, dy): from image to tile coordinates and back. */
export function translateGeometry(g: Geometry, dx: number, dy: number): Geometry {
  switch (g.kind) {
    case 'polygon':
      return { kind: 'polygon', points: g.points.map(([x, y]) => [x + dx, y + dy] as Point) }
    case 'box':
      return { ...g, x: g.x + dx, y: g.y + dy }
    case 'ellipse':
      return { ...g, cx: g.cx + dx, cy: g.cy + dy }
  }
}

/**
 * The part of a geometry inside a w×h tile, or null if nothing is left. Boxes are clipped to
 * the tile, polygons by Sutherland–Hodgman; an ellipse is kept whole (its mask is clipped when
 * rasterised) if its centre lies inside the tile.
 */
export function clipGeometry(g: Geometry, w: number, h: number): Geometry | null {
  if (g.kind === 'ellipse') return g.cx >= 0 && g.cx < w && g.cy >= 0 && g.cy < h ? g : null
  if (g.kind === 'box') {
    const x0 = Math.max(0, g.x)
    const y0 = Math.max(0, g.y)
    const x1 = Math.min(w, g.x + g.w)
    const y1 = Math.min(h, g.y + g.h)
    return x1 - x0 >= 1 && y1 - y0 >= 1 ? { kind: 'box', x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null
  }
  let pts: Point[] = g.points
  const edges: [(p: Point) => boolean, (a: Point, b: Point) => Point][] = [
    [(p) => p[0] >= 0, (a, b) => lerpAt(a, b, 0, 0)],
    [(p) => p[0] <= w, (a, b) => lerpAt(a, b, 0, w)],
    [(p) => p[1] >= 0, (a, b) => lerpAt(a, b, 1, 0)],
    [(p) => p[1] <= h, (a, b) => lerpAt(a, b, 1, h)]
  ]
  for (const [inside, cut] of edges) {
    const next: Point[] = []
    for (let i = 0; i < pts.length; i++) {
      const cur = pts[i]!
      const prev = pts[(i + pts.length - 1) % pts.length]!
      if (inside(cur)) {
        if (!inside(prev)) next.push(cut(prev, cur))
        next.push(cur)
      } else if (inside(prev)) next.push(cut(prev, cur))
    }
    pts = next
    if (!pts.length) return null
  }
  return pts.length >= 3 && polygonArea(pts) >= 0.5 ? { kind: 'polygon', points: pts.map(([x, y]) => [round3(x), round3(y)] as Point) } : null
}

function lerpAt(a: Point, b: Point, axis: 0 | 1, at: number): Point {
  const t = (at - a[axis]) / (b[axis] - a[axis])
  const p: Point = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
  p[axis] = at
  return p
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000
}

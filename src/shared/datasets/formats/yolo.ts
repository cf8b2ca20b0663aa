// YOLO box labels: one `<class> <cx> <cy> <w> <h>` line per box, normalised to [0, 1]; an empty
// file means "no crater". Boxes are kept as boxes; the importer may add inscribed ellipses.
import { FormatError } from './format-error'

export interface YoloBox {
  classIndex: number
  cx: number
  cy: number
  w: number
  h: number
}

export function parseYolo(source: string, file: string): YoloBox[] {
  const boxes: YoloBox[] = []
  source.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const parts = line.split(/\s+/)
    if (parts.length !== 5) throw new FormatError('yolo', file, `line ${i + 1}: expected "class cx cy w h" (5 fields), got ${parts.length}`)
    const [cls, ...rest] = parts.map(Number) as [number, number, number, number, number]
    if (!Number.isInteger(cls) || cls < 0) throw new FormatError('yolo', file, `line ${i + 1}: the class is not a non-negative integer`)
    rest.forEach((v, k) => {
      if (!Number.isFinite(v) || v < 0 || v > 1) throw new FormatError('yolo', file, `line ${i + 1}: ${['cx', 'cy', 'w', 'h'][k]} is not a number in [0, 1]`)
    })
    const [cx, cy, w, h] = rest as [number, number, number, number]
    if (w === 0 || h === 0) throw new FormatError('yolo', file, `line ${i + 1}: empty box`)
    boxes.push({ classIndex: cls, cx, cy, w, h })
  })
  return boxes
}

/** A normalised box in pixels of a width×height image. */
export function yoloToPixels(b: YoloBox, width: number, height: number): { x: number; y: number; w: number; h: number } {
  return { x: (b.cx - b.w / 2) * width, y: (b.cy - b.h / 2) * height, w: b.w * width, h: b.h * height }
}

// Pascal VOC XML annotations (the CTX crater catalogue): one file per image, or per annotator
// per image. Boxes stay boxes; `<confidence>` (how many annotators agreed) is kept when present.
import { FormatError } from './format-error'
import { child, childText, parseXml, XmlError } from './xml'

export interface VocObject {
  name: string
  xmin: number
  ymin: number
  xmax: number
  ymax: number
  confidence: number | null
}

export interface VocAnnotation {
  /** `<filename>` as written (with or without extension). */
  filename: string
  width: number | null
  height: number | null
  depth: number | null
  objects: VocObject[]
}

export function parseVoc(source: string, file: string): VocAnnotation {
  let root
  try {
    root = parseXml(source)
  } catch (err) {
    if (err instanceof XmlError) throw new FormatError('voc', file, `not well-formed XML: ${err.message}`)
    throw err
  }
  if (root.name !== 'annotation') throw new FormatError('voc', file, 'the root element is not <annotation>')
  const filename = childText(root, 'filename')
  if (!filename) throw new FormatError('voc', file, '<filename> is missing')
  const size = child(root, 'size')
  const num = (el: ReturnType<typeof child>, name: string) => {
    const t = el ? childText(el, name) : undefined
    return t === undefined || t === '' ? null : Number(t)
  }
  const objects: VocObject[] = []
  root.children
    .filter((c) => c.name === 'object')
    .forEach((o, i) => {
      const where = `object ${i + 1}`
      const name = childText(o, 'name')
      if (!name) throw new FormatError('voc', file, `${where} has no <name>`)
      const box = child(o, 'bndbox')
      if (!box) throw new FormatError('voc', file, `${where} has no <bndbox>`)
      const coords = ['xmin', 'ymin', 'xmax', 'ymax'].map((k) => {
        const t = childText(box, k)
        const v = t === undefined ? NaN : Number(t)
        if (!Number.isFinite(v)) throw new FormatError('voc', file, `${where}: <${k}> is ${t === undefined ? 'missing' : 'not a number'}`)
        return v
      }) as [number, number, number, number]
      const [xmin, ymin, xmax, ymax] = coords
      if (xmax <= xmin || ymax <= ymin) throw new FormatError('voc', file, `${where}: empty box (xmin ${xmin}, xmax ${xmax}, ymin ${ymin}, ymax ${ymax})`)
      const conf = childText(o, 'confidence')
      objects.push({ name, xmin, ymin, xmax, ymax, confidence: conf !== undefined && conf !== '' && Number.isFinite(Number(conf)) ? Number(conf) : null })
    })
  return { filename, width: num(size, 'width'), height: num(size, 'height'), depth: num(size, 'depth'), objects }
}

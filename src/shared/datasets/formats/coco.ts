// COCO segmentation JSON, as Roboflow exports it (`train|valid|test/_annotations.coco.json`).
// Annotations are joined to images by `image_id` → `images[].id`, never by list position:
// Roboflow's lists are not aligned, and a positional join silently pairs masks with the wrong image.
import type { Point } from '../geometry'
import { FormatError, jsonSyntaxDetail } from './format-error'

export interface CocoImage {
  id: number
  fileName: string
  width: number
  height: number
}

export interface CocoAnnotation {
  id: number
  imageId: number
  categoryId: number
  category: string
  /** Polygons in pixels; empty when the annotation only has a box. */
  polygons: Point[][]
  bbox: [number, number, number, number] | null
}

export interface CocoDataset {
  images: CocoImage[]
  annotations: CocoAnnotation[]
  categories: { id: number; name: string }[]
}

type Json = Record<string, unknown>

export function parseCoco(source: string, file: string): CocoDataset {
  let doc: unknown
  try {
    doc = JSON.parse(source)
  } catch (err) {
    throw new FormatError('coco', file, jsonSyntaxDetail(source, err))
  }
  if (!isObject(doc)) throw new FormatError('coco', file, 'the top level is not a JSON object')
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(doc[key])) throw new FormatError('coco', file, `"${key}" is missing or not an array`)
  }
  const categories = (doc.categories as unknown[]).map((c, i) => {
    if (!isObject(c) || typeof c.id !== 'number' || typeof c.name !== 'string') throw new FormatError('coco', file, `categories[${i}] needs a numeric "id" and a string "name"`)
    return { id: c.id, name: c.name }
  })
  const categoryById = new Map(categories.map((c) => [c.id, c.name]))
  const images = (doc.images as unknown[]).map((im, i): CocoImage => {
    if (!isObject(im)) throw new FormatError('coco', file, `images[${i}] is not an object`)
    if (typeof im.id !== 'number') throw new FormatError('coco', file, `images[${i}] has no numeric "id"`)
    if (typeof im.file_name !== 'string' || !im.file_name) throw new FormatError('coco', file, `images[${i}] (id ${im.id}) has no "file_name"`)
    if (typeof im.width !== 'number' || typeof im.height !== 'number') throw new FormatError('coco', file, `images[${i}] (id ${im.id}) has no numeric "width"/"height"`)
    return { id: im.id, fileName: im.file_name, width: im.width, height: im.height }
  })
  const imageIds = new Set<number>()
  for (const im of images) {
    if (imageIds.has(im.id)) throw new FormatError('coco', file, `image id ${im.id} appears twice in "images"`)
    imageIds.add(im.id)
  }
  const annotations = (doc.annotations as unknown[]).map((a, i): CocoAnnotation => {
    if (!isObject(a)) throw new FormatError('coco', file, `annotations[${i}] is not an object`)
    const where = typeof a.id === 'number' ? `annotations[${i}] (id ${a.id})` : `annotations[${i}]`
    if (typeof a.image_id !== 'number') throw new FormatError('coco', file, `${where} has no numeric "image_id"`)
    if (!imageIds.has(a.image_id)) throw new FormatError('coco', file, `${where} refers to image_id ${a.image_id}, which is not in "images"`)
    const category = categoryById.get(a.category_id as number)
    if (category === undefined) throw new FormatError('coco', file, `${where} refers to category_id ${typeof a.category_id === 'number' ? a.category_id : '(not a number)'}, which is not in "categories"`)
    let polygons: Point[][] = []
    if (a.segmentation !== undefined && a.segmentation !== null) {
      if (!Array.isArray(a.segmentation)) throw new FormatError('coco', file, `${where}: RLE segmentation is not supported (export polygons from Roboflow)`)
      polygons = (a.segmentation as unknown[]).map((poly, k) => {
        // Finite values and the point limit are the importer's per-annotation checks (the contract's rules).
        if (!Array.isArray(poly) || poly.length < 6 || poly.length % 2 || poly.some((v) => typeof v !== 'number')) {
          throw new FormatError('coco', file, `${where}: segmentation[${k}] must be a flat list of at least 3 x,y number pairs`)
        }
        const pts: Point[] = []
        for (let j = 0; j < poly.length; j += 2) pts.push([poly[j] as number, poly[j + 1] as number])
        return pts
      })
    }
    let bbox: CocoAnnotation['bbox'] = null
    if (a.bbox !== undefined) {
      if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || a.bbox.some((v) => typeof v !== 'number')) throw new FormatError('coco', file, `${where}: "bbox" must be [x, y, width, height]`)
      bbox = a.bbox as [number, number, number, number]
    }
    if (!polygons.length && !bbox) throw new FormatError('coco', file, `${where} has neither a segmentation nor a bbox`)
    return { id: typeof a.id === 'number' ? a.id : i, imageId: a.image_id, categoryId: a.category_id as number, category, polygons, bbox }
  })
  return { images, annotations, categories }
}

/** Annotations grouped by the image they belong to (by id). */
export function annotationsByImage(coco: CocoDataset): Map<number, CocoAnnotation[]> {
  const map = new Map<number, CocoAnnotation[]>(coco.images.map((im) => [im.id, []]))
  for (const a of coco.annotations) map.get(a.imageId)!.push(a)
  return map
}

export interface CocoExportImage {
  fileName: string
  width: number
  height: number
  annotations: { category: string; /** null for a box-only annotation */ polygon: Point[] | null; bbox: [number, number, number, number]; area: number }[]
}

/** A COCO document with stable ids and key order, so the same version always writes the same bytes. */
export function writeCoco(images: readonly CocoExportImage[], classes: readonly string[]): string {
  const categories = classes.map((name, i) => ({ id: i + 1, name, supercategory: 'none' }))
  const catId = new Map(categories.map((c) => [c.name, c.id]))
  let annId = 0
  const doc = {
    info: { description: 'MarsFM Workstation dataset export' },
    categories,
    images: images.map((im, i) => ({ id: i + 1, file_name: im.fileName, width: im.width, height: im.height })),
    annotations: images.flatMap((im, i) =>
      im.annotations.map((a) => ({
        id: ++annId,
        image_id: i + 1,
        category_id: catId.get(a.category) ?? 1,
        segmentation: a.polygon ? [a.polygon.flat()] : [],
        bbox: a.bbox,
        area: a.area,
        iscrowd: 0
      }))
    )
  }
  return `${JSON.stringify(doc, null, 1)}\n`
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

// The study's annotation formats in: Roboflow COCO segmentation exports, ImageFolder class
// layouts, YOLO boxes, Pascal VOC XML (one file per annotator too) and the landmark label list.
// Each file is parsed by the pure readers in src/shared/datasets/formats; a malformed file is
// reported with its specific error and the rest of the import goes on. Re-importing replaces
// the same annotator's shapes instead of doubling them.
import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { ClassName, Geometry as GeometrySchema, type ClassMapping, type ImportFormatRequest, type ImportSummary } from '@shared/ipc/schemas/datasets'
import { appliedMapping, describeMapping, mapClass, mappedClasses, type ClassMappingSpec, type SourceClass } from '@shared/datasets/class-mapping'
import { CancelledError } from '@shared/ipc/errors'
import { describeIoError } from '@shared/io-errors'
import { classFromFolder } from '@shared/datasets/classes'
import { ellipseInBox, type Geometry } from '@shared/datasets/geometry'
import { annotationsByImage, parseCoco } from '@shared/datasets/formats/coco'
import { FormatError } from '@shared/datasets/formats/format-error'
import { isCraterName } from '@shared/training/positive-class'
import { landmarkClassName, parseLandmarkLabels } from '@shared/datasets/formats/landmarks'
import { parseVoc } from '@shared/datasets/formats/voc'
import { parseYolo, yoloToPixels } from '@shared/datasets/formats/yolo'
import type { SplitName } from '@shared/datasets/split'
import { emptySummary, forEachConcurrent, importImageFile, record, type DatasetDeps, type FileOutcome } from './importer'
import { replaceAnnotations } from './repository/annotations'
import { getDataset, recordClassMapping, updateDataset } from './repository/datasets'
import { getImage } from './repository/images'
import { setLabels } from './repository/labels'
import { insertTile, setSplits } from './repository/tiles'
import { collectImageFiles, isImageFile } from './store'

type Progress = (done: number, total: number, message?: string) => void
interface RunOptions {
  signal?: AbortSignal
  progress?: Progress
}

/** Whatever a format says about one image. */
interface Entry {
  path: string
  split?: SplitName
  label?: string
  shapes?: { className: string; geometry: Geometry }[]
  annotator: string
  /** Listed by the labels but absent: reported only if its class is kept. */
  missing?: boolean
  /** YOLO: the tile label follows the boxes that remain after the class mapping. */
  labelFromShapes?: boolean
}

const ALL_WHOLE = { wholeTiles: true, wholeTileMax: Number.MAX_SAFE_INTEGER }

export async function importFormat(deps: DatasetDeps, req: ImportFormatRequest, opts: RunOptions = {}): Promise<ImportSummary> {
  const summary = emptySummary()
  const all = await formatEntries(req, summary)
  const found = classesOf(all)
  const spec = req.classMapping ?? defaultClassMapping(req.format)
  const unknown = (spec.drop ?? []).filter((c) => !found.classes.some((f) => f.name === c))
  if (unknown.length) summary.notes.push(`--drop / dropped class${unknown.length > 1 ? 'es' : ''} not in the source: ${unknown.join(', ')}`)
  const entries = mapEntries(all, spec, summary)
  const labelledBefore = (deps.db.prepare('SELECT COUNT(*) AS n FROM labels l JOIN tiles t ON t.id = l.tile_id WHERE t.dataset_id = ?').get(req.datasetId) as { n: number }).n
  // A dataset without labels whose import brings classes it does not declare (a 7-class list kept)
  // takes the import's classes instead of keeping an empty "no-crater" beside them.
  const produced = mappedClasses(spec, found.classes).map((c) => c.name)
  const declared = getDataset(deps.db, req.datasetId).classes
  const fresh = labelledBefore === 0 && found.unit === 'labels' && produced.some((c) => !declared.includes(c)) ? orderedClasses(produced) : null
  await applyEntries(deps, req.datasetId, entries, summary, opts, fresh)
  if (found.classes.length) {
    const applied = appliedMapping(spec, found.classes, req.format, req.path)
    summary.notes.push(`classes (${found.unit}) ${describeMapping(applied)}`)
    if (summary.imported || summary.duplicates.length) recordClassMapping(deps.db, req.datasetId, applied)
  }
  if (!summary.scanned && !summary.failed.length) summary.notes.push(`no images found in ${req.path}`)
  capFailures(summary)
  return summary
}

/** Crater first (digit 1 in the labelling view), then by name. */
function orderedClasses(names: string[]): string[] {
  return [...names].sort((a, b) => Number(isCraterName(b)) - Number(isCraterName(a)) || a.localeCompare(b))
}

/** What an import without a choice does: the landmark list crater vs rest without edge (the data's README), others keep their classes. */
export function defaultClassMapping(format: ImportFormatRequest['format']): ClassMapping {
  return format === 'landmarks' ? { mode: 'crater-vs-rest', drop: ['edge'] } : { mode: 'keep', drop: [] }
}

/** The classes a source holds, with counts, read without importing an image (the mapping step). */
export async function importClasses(req: Pick<ImportFormatRequest, 'format' | 'path' | 'imagesDir'>) {
  const entries = await formatEntries({ ...req, datasetId: 1, boxesAsEllipses: false }, emptySummary())
  const found = classesOf(entries)
  return { classes: found.classes, unit: found.unit, defaultMapping: defaultClassMapping(req.format) }
}

async function formatEntries(req: ImportFormatRequest, summary: ImportSummary): Promise<Entry[]> {
  // ELOOP, EACCES, … are reported as what they are, not as "does not exist".
  const info = await stat(req.path).catch((err: unknown) => {
    throw new Error(describeIoError(err, 'reading', req.path))
  })
  switch (req.format) {
    case 'coco':
      return cocoEntries(req, info.isDirectory(), summary)
    case 'imagefolder':
      if (!info.isDirectory()) throw new Error(`an ImageFolder import needs a folder, ${req.path} is a file`)
      return imageFolderEntries(req, summary)
    case 'yolo':
      if (!info.isDirectory()) throw new Error(`a YOLO import needs a folder, ${req.path} is a file`)
      return yoloEntries(req, summary)
    case 'voc':
      return vocEntries(req, info.isDirectory(), summary)
    case 'landmarks':
      if (info.isDirectory()) throw new Error(`a landmarks import needs the label list (labels-map-proj.txt), ${req.path} is a folder`)
      return landmarkEntries(req, summary)
  }
}

/** Source classes with counts: of tile labels where the format labels tiles, else of shapes. */
function classesOf(entries: readonly Entry[]): { classes: SourceClass[]; unit: 'labels' | 'shapes' } {
  const labels = new Map<string, number>()
  const shapes = new Map<string, number>()
  for (const e of entries) {
    if (e.label && !e.labelFromShapes) labels.set(e.label, (labels.get(e.label) ?? 0) + 1)
    for (const sh of e.shapes ?? []) shapes.set(sh.className, (shapes.get(sh.className) ?? 0) + 1)
  }
  const unit = labels.size ? 'labels' : 'shapes'
  return { classes: [...(unit === 'labels' ? labels : shapes)].map(([name, count]) => ({ name, count })), unit }
}

/** Entries with the mapping applied: a dropped label drops the image, a dropped shape class its shapes. */
function mapEntries(entries: readonly Entry[], spec: ClassMappingSpec, summary: ImportSummary): Entry[] {
  const out: Entry[] = []
  const droppedImages = new Map<string, number>()
  let droppedShapes = 0
  for (const e of entries) {
    let label = e.label
    if (label && !e.labelFromShapes) {
      const to = mapClass(spec, label)
      if (to === null) {
        droppedImages.set(label, (droppedImages.get(label) ?? 0) + 1)
        continue
      }
      label = to
    }
    if (e.missing) {
      summary.failed.push({ path: e.path, reason: 'listed in the labels but not found' })
      continue
    }
    let shapes = e.shapes
    if (shapes) {
      const kept: { className: string; geometry: Geometry }[] = []
      for (const sh of shapes) {
        const to = mapClass(spec, sh.className)
        if (to === null) droppedShapes++
        else kept.push({ className: to, geometry: sh.geometry })
      }
      shapes = kept
      if (e.labelFromShapes) label = kept.some((k) => k.className === 'crater') ? 'crater' : 'no-crater'
    }
    out.push({ ...e, label, shapes })
  }
  const nDropped = [...droppedImages.values()].reduce((a, b) => a + b, 0)
  if (nDropped) summary.notes.push(`${nDropped} image${nDropped === 1 ? '' : 's'} of dropped classes left out (${[...droppedImages].map(([c, n]) => `${c} ${n}`).join(', ')})`)
  if (droppedShapes) summary.notes.push(`${droppedShapes} shapes of dropped classes left out`)
  return out
}

/** A summary stays a readable size: the first 1000 failures are listed, the rest counted. */
export function capFailures(summary: ImportSummary, max = 1000): void {
  if (summary.failed.length <= max) return
  summary.notes.push(`${summary.failed.length - max} more failures not listed`)
  summary.failed.length = max
}

// --- the contract's own rules, applied to every imported shape and label --------------------

/** AnnotationsSaveRequest's limit: shapes one annotator may have on one tile. */
const MAX_SHAPES = 5000
/** Far above any real annotation file (Roboflow's largest are tens of MiB): refused unread. */
const MAX_ANNOTATION_FILE = 256 * 2 ** 20

/** Why a class name breaks the contract's rule, or null (the message never echoes the name). */
function classProblem(className: string): string | null {
  return ClassName.safeParse(className).success ? null : 'its class name is not usable (lower-case letters, digits and dashes, at most 64 characters)'
}

/** Why a shape breaks the contract (the rules the annotation editor's saves pass), or null. */
export function geometryProblem(g: Geometry): string | null {
  if (g.kind === 'polygon') {
    if (g.points.length > 10_000) return `the polygon has ${g.points.length} points (at most 10,000)`
    if (g.points.length < 3) return `the polygon has ${g.points.length} points (at least 3)`
    for (const [x, y] of g.points) if (!Number.isFinite(x) || !Number.isFinite(y)) return 'a polygon point is not a finite number'
  } else if (g.kind === 'box') {
    if (![g.x, g.y, g.w, g.h].every(Number.isFinite)) return 'a box coordinate is not a finite number'
    if (g.w <= 0 || g.h <= 0) return 'the box has a width or height that is not positive'
  } else {
    if (![g.cx, g.cy, g.rx, g.ry].every(Number.isFinite)) return 'an ellipse coordinate is not a finite number'
    if (g.rx <= 0 || g.ry <= 0) return 'the ellipse has a radius that is not positive'
  }
  // The contract's schema decides in the end, so a rule added there applies here too.
  const parsed = GeometrySchema.safeParse(g)
  return parsed.success ? null : `the shape breaks the annotation rules (${parsed.error.issues[0]?.path.join('.') || 'shape'}: ${parsed.error.issues[0]?.message})`
}

/** `name` resolved inside `dir`, or null when it points outside it (`../`, an absolute path). */
export function insideFolder(dir: string, name: string): string | null {
  if (name.includes('\0')) return null
  const p = resolve(dir, name)
  const rel = relative(dir, p)
  if (!rel || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null
  return p
}

/**
 * Adds a shape if it keeps the contract's rules; otherwise lists it (by file and where in it)
 * as skipped, and the rest of the file goes on.
 */
function keepShape(summary: ImportSummary, file: string, where: string, className: string, geometry: Geometry, into: { className: string; geometry: Geometry }[]): void {
  const problem = classProblem(className) ?? geometryProblem(geometry)
  if (problem) summary.failed.push({ path: file, reason: `${where} skipped: ${problem}` })
  else into.push({ className, geometry })
}

/** An annotation file's text; a file too large to be an annotation list is refused before reading. */
async function readAnnotationFile(path: string): Promise<string> {
  const info = await stat(path)
  if (!info.isFile()) throw new Error(`${path} is not a regular file`)
  if (info.size > MAX_ANNOTATION_FILE) throw new Error(`${path} is ${Math.round(info.size / 2 ** 20)} MiB, larger than an annotation file can be (${MAX_ANNOTATION_FILE / 2 ** 20} MiB)`)
  return readFile(path, 'utf8')
}

/** One bad annotation file never sinks the batch: any error is listed against that file. */
function fileFailure(file: string, err: unknown): { path: string; reason: string } {
  if (err instanceof CancelledError) throw err
  if (err instanceof FormatError) return { path: file, reason: err.message }
  const code = (err as { code?: string }).code
  if (code) return { path: file, reason: describeIoError(err, 'reading', file) }
  if (err instanceof RangeError) return { path: file, reason: `${file}: could not be parsed (${err.message})` }
  const message = (err as Error).message ?? String(err)
  return { path: file, reason: message.includes(file) ? message : `${file}: ${message}` }
}

/** Imports the images (one whole-image tile each) and applies labels, shapes and splits. */
async function applyEntries(deps: DatasetDeps, datasetId: number, entries: Entry[], summary: ImportSummary, opts: RunOptions, freshClasses: string[] | null): Promise<void> {
  const dataset = getDataset(deps.db, datasetId)
  // A dataset without labels takes the import's classes (a 7-class import makes a 7-class dataset).
  const fresh = freshClasses?.length && entries.some((e) => e.label) ? freshClasses : null
  const newClasses = new Set<string>()
  // Several entries may name one image (one VOC file per annotator): import each file once.
  const byPath = new Map<string, Entry[]>()
  for (const e of entries) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e])
  const paths = [...byPath.keys()]
  const splits = new Map<number, SplitName>()
  await forEachConcurrent(
    paths,
    async (path) => {
      const outcome: FileOutcome = await importImageFile(deps, datasetId, path, ALL_WHOLE)
      record(summary, path, outcome)
      if (outcome.status === 'failed') return
      const tileId = outcome.tileId ?? ensureWholeTile(deps, outcome.imageId, summary)
      for (const e of byPath.get(path)!) {
        if (e.label) {
          summary.labelsSet += setLabels(deps.db, [tileId], e.label, e.annotator, 'import')
          if (!(fresh ?? dataset.classes).includes(e.label)) newClasses.add(e.label)
        }
        if (e.shapes) {
          const mine = byPath.get(path)!.filter((x) => x.annotator === e.annotator).flatMap((x) => x.shapes ?? [])
          if (e === byPath.get(path)!.find((x) => x.annotator === e.annotator)) {
            if (mine.length > MAX_SHAPES) {
              summary.failed.push({ path, reason: `${mine.length - MAX_SHAPES} of its ${mine.length} shapes by ${e.annotator} skipped: at most ${MAX_SHAPES} shapes per annotator on one tile` })
              mine.length = MAX_SHAPES
            }
            replaceAnnotations(deps.db, tileId, e.annotator, mine)
            summary.annotationsAdded += mine.length
          }
        }
        if (e.split) splits.set(tileId, e.split)
      }
    },
    { signal: opts.signal, progress: (d, t) => opts.progress?.(d, t, `${d} / ${t} images`) }
  )
  if (splits.size) setSplits(deps.db, splits, true)
  if (fresh && summary.labelsSet) {
    updateDataset(deps.db, datasetId, { classes: [...fresh, ...[...newClasses].sort()] })
    if (fresh.join() !== dataset.classes.join()) summary.notes.push(`dataset classes: ${fresh.join(', ')}`)
  } else if (newClasses.size) {
    updateDataset(deps.db, datasetId, { classes: [...dataset.classes, ...[...newClasses].sort()] })
    summary.notes.push(`added classes: ${[...newClasses].sort().join(', ')}`)
  }
}

/** A whole-image tile for an image imported earlier without one. */
function ensureWholeTile(deps: DatasetDeps, imageId: number, summary: ImportSummary): number {
  const im = getImage(deps.db, imageId)
  const existing = deps.db.prepare("SELECT id FROM tiles WHERE image_id = ? AND origin = 'whole'").get(imageId) as { id: number } | undefined
  if (existing) return existing.id
  const thumb = (deps.db.prepare('SELECT thumbnail FROM images WHERE id = ?').get(imageId) as { thumbnail: Buffer | null }).thumbnail
  const id = insertTile(deps.db, { datasetId: im.datasetId, imageId, x: 0, y: 0, width: im.width, height: im.height, observationId: im.observationId, origin: 'whole', thumbnail: thumb, phash: null, colour: im.colour })
  if (id === null) return (deps.db.prepare('SELECT id FROM tiles WHERE image_id = ? AND x = 0 AND y = 0 AND width = ? AND height = ?').get(imageId, im.width, im.height) as { id: number }).id
  summary.tilesCreated++
  return id
}

function splitFromFolder(name: string): SplitName | undefined {
  const n = name.toLowerCase()
  if (n === 'train' || n === 'training') return 'train'
  if (n === 'valid' || n === 'val' || n === 'validation') return 'valid'
  if (n === 'test' || n === 'testing') return 'test'
  return undefined
}

async function subfolders(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue
    if ((await stat(join(dir, name))).isDirectory()) out.push(name)
  }
  return out
}

// --- COCO -------------------------------------------------------------------------------------

async function cocoEntries(req: ImportFormatRequest, isDir: boolean, summary: ImportSummary): Promise<Entry[]> {
  const files: string[] = []
  if (!isDir) files.push(req.path)
  else {
    const direct = join(req.path, '_annotations.coco.json')
    if (existsSync(direct)) files.push(direct)
    for (const sub of await subfolders(req.path)) {
      const f = join(req.path, sub, '_annotations.coco.json')
      if (existsSync(f)) files.push(f)
    }
    if (!files.length) throw new Error(`no _annotations.coco.json in ${req.path} or its train/valid/test folders`)
  }
  const annotator = req.annotator ?? 'coco'
  const entries: Entry[] = []
  for (const file of files) {
    let coco
    try {
      coco = parseCoco(await readAnnotationFile(file), file)
    } catch (err) {
      summary.failed.push(fileFailure(file, err))
      continue
    }
    const dir = dirname(file)
    const split = splitFromFolder(basename(dir))
    const byImage = annotationsByImage(coco)
    // A category whose name breaks the class rule is reported once, with its annotations.
    const badCategories = new Map<number, number[]>()
    for (const im of coco.images) {
      const path = insideFolder(dir, im.fileName)
      if (!path) {
        summary.failed.push({ path: file, reason: `image id ${im.id} skipped with its annotations: its "file_name" points outside ${dir}` })
        continue
      }
      const shapes: { className: string; geometry: Geometry }[] = []
      for (const a of byImage.get(im.id)!) {
        const className = classFromFolder(a.category)
        if (classProblem(className)) {
          badCategories.set(a.categoryId, [...(badCategories.get(a.categoryId) ?? []), a.id])
          continue
        }
        const geometries: Geometry[] = a.polygons.length ? a.polygons.map((points) => ({ kind: 'polygon', points })) : [{ kind: 'box', x: a.bbox![0], y: a.bbox![1], w: a.bbox![2], h: a.bbox![3] }]
        geometries.forEach((g, k) => keepShape(summary, file, `annotation id ${a.id}${geometries.length > 1 ? ` (polygon ${k + 1})` : ''}`, className, g, shapes))
      }
      entries.push({ path, split, shapes, annotator })
    }
    for (const [categoryId, ids] of badCategories) {
      summary.failed.push({ path: file, reason: `category id ${categoryId}: ${classProblem('')}; its ${ids.length} annotation(s) skipped (ids ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})` })
    }
  }
  return entries
}

// --- ImageFolder ------------------------------------------------------------------------------

async function imageFolderEntries(req: ImportFormatRequest, summary: ImportSummary): Promise<Entry[]> {
  const annotator = req.annotator ?? 'imagefolder'
  const top = await subfolders(req.path)
  const splitDirs = top.filter((d) => splitFromFolder(d))
  const roots: { dir: string; split?: SplitName }[] = splitDirs.length ? splitDirs.map((d) => ({ dir: join(req.path, d), split: splitFromFolder(d) })) : [{ dir: req.path }]
  const entries: Entry[] = []
  for (const root of roots) {
    const classes = await subfolders(root.dir)
    if (!classes.length) summary.notes.push(`${root.dir} has no class folders`)
    for (const cls of classes) {
      const label = classFromFolder(cls)
      if (classProblem(label)) {
        summary.failed.push({ path: join(root.dir, cls), reason: `class folder skipped: ${classProblem(label)}` })
        continue
      }
      const { images, skipped } = await collectImageFiles([join(root.dir, cls)], true, { reportOthers: true })
      for (const s of skipped) summary.failed.push(s)
      for (const path of images) entries.push({ path, split: root.split, label, annotator })
    }
  }
  if (!entries.length) throw new FormatError('imagefolder', req.path, 'no images found in <split>/<Class>/ or <Class>/ folders')
  return entries
}

// --- YOLO -------------------------------------------------------------------------------------

async function yoloEntries(req: ImportFormatRequest, summary: ImportSummary): Promise<Entry[]> {
  const annotator = req.annotator ?? 'yolo'
  const imagesRoot = existsSync(join(req.path, 'images')) ? join(req.path, 'images') : req.path
  const labelsRoot = existsSync(join(req.path, 'labels')) ? join(req.path, 'labels') : null
  const { images, skipped } = await collectImageFiles([imagesRoot], true)
  for (const s of skipped) summary.failed.push(s) // a loop: spreading 200k items overflows the stack
  const { default: sharp } = await import('sharp')
  const entries: Entry[] = []
  let noLabelFile = 0
  for (const path of images) {
    const rel = path.slice(imagesRoot.length + 1)
    const stem = rel.slice(0, rel.length - extname(rel).length)
    const labelPath = labelsRoot ? join(labelsRoot, `${stem}.txt`) : `${path.slice(0, path.length - extname(path).length)}.txt`
    const split = splitFromFolder(rel.split(/[\\/]/)[0] ?? '')
    if (!existsSync(labelPath)) {
      noLabelFile++
      entries.push({ path, split, annotator })
      continue
    }
    let boxes
    try {
      boxes = parseYolo(await readAnnotationFile(labelPath), labelPath)
    } catch (err) {
      summary.failed.push(fileFailure(labelPath, err))
      continue
    }
    const meta = await sharp(path).metadata().catch(() => null)
    if (!meta?.width || !meta.height) {
      entries.push({ path, split, annotator }) // the image import reports why it cannot be read
      continue
    }
    const shapes: { className: string; geometry: Geometry }[] = []
    boxes.forEach((b, i) => {
      const className = b.classIndex === 0 ? 'crater' : `class-${b.classIndex}`
      const box = yoloToPixels(b, meta.width!, meta.height!)
      const before = shapes.length
      keepShape(summary, labelPath, `box ${i + 1}`, className, { kind: 'box', ...box }, shapes)
      if (req.boxesAsEllipses && shapes.length > before) shapes.push({ className, geometry: ellipseInBox(box) })
    })
    // An empty label file means the picture has no crater; the label follows the boxes kept by the class mapping.
    entries.push({ path, split, shapes, label: boxes.length ? 'crater' : 'no-crater', labelFromShapes: true, annotator })
  }
  if (noLabelFile) summary.notes.push(`${noLabelFile} images have no label file (imported unlabelled)`)
  return entries
}

// --- Pascal VOC -------------------------------------------------------------------------------

async function vocEntries(req: ImportFormatRequest, isDir: boolean, summary: ImportSummary): Promise<Entry[]> {
  const files: string[] = []
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      if (name.startsWith('.')) continue
      const p = join(dir, name)
      if ((await stat(p)).isDirectory()) await walk(p)
      else if (extname(name).toLowerCase() === '.xml') files.push(p)
    }
  }
  if (isDir) await walk(req.path)
  else files.push(req.path)
  if (!files.length) throw new Error(`no .xml files under ${req.path}`)
  const entries: Entry[] = []
  let confidences = 0
  for (const file of files) {
    let voc
    try {
      voc = parseVoc(await readAnnotationFile(file), file)
    } catch (err) {
      // Any error (a RangeError from a bad character reference, too deep nesting) names this file only.
      summary.failed.push(fileFailure(file, err))
      continue
    }
    const image = findVocImage(voc.filename, file, req.imagesDir)
    if (!image) {
      summary.failed.push({ path: file, reason: `image "${voc.filename}" not found${req.imagesDir ? ` in ${req.imagesDir}` : ' beside the XML (set the images folder)'}` })
      continue
    }
    // raw/<image>/<annotator>.xml: one file per annotator; otherwise the folder names the source.
    const stem = basename(image, extname(image))
    const parent = basename(dirname(file))
    const annotator = parent === stem ? basename(file, '.xml') : (req.annotator ?? parent)
    if (voc.objects.some((o) => o.confidence !== null)) confidences++
    const shapes: { className: string; geometry: Geometry }[] = []
    voc.objects.forEach((o, i) => {
      const className = classFromFolder(o.name)
      const box = { x: o.xmin, y: o.ymin, w: o.xmax - o.xmin, h: o.ymax - o.ymin }
      const before = shapes.length
      keepShape(summary, file, `object ${i + 1}`, className, { kind: 'box', ...box }, shapes)
      if (req.boxesAsEllipses && shapes.length > before) shapes.push({ className, geometry: ellipseInBox(box) })
    })
    entries.push({ path: image, shapes, annotator })
  }
  if (confidences) summary.notes.push(`${confidences} files carry <confidence> (annotators agreeing per box); boxes are kept, the count is not`)
  return entries
}

function findVocImage(filename: string, xmlFile: string, imagesDir: string | undefined): string | null {
  const name = basename(filename)
  const dirs = [imagesDir, dirname(xmlFile)].filter((d): d is string => !!d)
  for (const dir of dirs) {
    const candidates = isImageFile(name) ? [name] : ['.png', '.jpg', '.jpeg', '.tif', '.tiff'].map((e) => name + e)
    for (const c of candidates) if (existsSync(join(dir, c))) return join(dir, c)
  }
  return null
}

// --- landmark label list ----------------------------------------------------------------------

async function landmarkEntries(req: ImportFormatRequest, summary: ImportSummary): Promise<Entry[]> {
  const annotator = req.annotator ?? 'landmarks'
  const labels = parseLandmarkLabels(await readAnnotationFile(req.path), req.path)
  const imagesDir = req.imagesDir ?? (existsSync(join(dirname(req.path), 'map-proj')) ? join(dirname(req.path), 'map-proj') : dirname(req.path))
  const entries: Entry[] = []
  for (const l of labels) {
    const path = insideFolder(imagesDir, l.fileName)
    if (!path) {
      summary.failed.push({ path: req.path, reason: `an entry skipped: its file name points outside ${imagesDir}` })
      continue
    }
    // The class mapping decides first: a missing file of a dropped class is no failure.
    entries.push({ path, label: landmarkClassName(l.classIndex), annotator, missing: !existsSync(path) })
  }
  return entries
}


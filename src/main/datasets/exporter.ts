// Exports of a frozen version in the study's layouts. Everything is read from the version's
// manifest and the content-addressed image copies, in a fixed order, so exporting the same
// version twice writes the same bytes.
//   imagefolder: <out>/<split>/<Class>/<tile>.jpg
//   mmseg:       <out>/images/<split>/<tile>.jpg  and  <out>/annotations/<split>/<tile>_gtmask.png
//   coco:        <out>/<split>/<tile>.jpg  and  <out>/<split>/_annotations.coco.json (Roboflow's layout)
import { existsSync } from 'node:fs'
import { readdir, rename, rm, writeFile } from 'node:fs/promises'
import { makeDirs } from '../app/make-dirs'
import { dirname, join, resolve } from 'node:path'
import type { ExportRequest } from '@shared/ipc/schemas/datasets'
import { folderFromClass } from '@shared/datasets/classes'
import { boundingBox, geometryArea, geometryToPolygon } from '@shared/datasets/geometry'
import { exportNames, type DatasetManifest, type ManifestTile } from '@shared/datasets/manifest'
import { rasteriseMask } from '@shared/datasets/rasterise'
import { writeCoco, type CocoExportImage } from '@shared/datasets/formats/coco'
import { SPLIT_NAMES } from '@shared/datasets/split'
import type { Db } from '../ledger/ledger'
import { cropRgb, encodeMaskPng, encodeTileJpeg } from './image-io'
import { forEachConcurrent } from './importer'
import { getVersion, versionManifest } from './versions'
import { storedPath } from './store'

export const EXPORT_MARKER = 'dataset-version.json'

export interface ExportResult {
  outDir: string
  format: ExportRequest['format']
  files: number
  tiles: number
  skipped: { reason: string; tiles: number }[]
}

export async function exportVersion(
  deps: { db: Db; dataDir: string },
  req: ExportRequest,
  opts: { signal?: AbortSignal; progress?: (done: number, total: number) => void } = {}
): Promise<ExportResult> {
  const version = getVersion(deps.db, req.versionId)
  const manifest = versionManifest(deps.db, req.versionId)
  req = { ...req, outDir: resolve(req.outDir) } // no trailing slash: the temp folder goes beside it
  await checkOutDir(req.outDir)
  // Everything is written into a temp folder beside the target and renamed into place at the
  // end: a failed or cancelled export leaves no half-written folder (and an earlier export intact).
  const work = `${req.outDir}.tmp-${process.pid}-${Date.now()}`
  try {
    const result = await writeExport(deps, req, version, manifest, work, opts)
    await moveIntoPlace(work, req.outDir)
    return { ...result, outDir: req.outDir }
  } catch (err) {
    await rm(work, { recursive: true, force: true }).catch(() => {})
    throw err
  }
}

async function writeExport(
  deps: { db: Db; dataDir: string },
  req: ExportRequest,
  version: ReturnType<typeof getVersion>,
  manifest: DatasetManifest,
  outDir: string,
  opts: { signal?: AbortSignal; progress?: (done: number, total: number) => void }
): Promise<ExportResult> {
  await makeDirs(outDir)
  const names = exportNames(manifest.tiles)
  const skipped = new Map<string, number>()
  const skip = (reason: string) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1)
  const chosen = manifest.tiles.filter((t) => {
    if (!t.split) return skip('not in a split'), false
    if (req.format === 'imagefolder' && !t.label) return skip(t.labelStatus === 'conflict' ? 'labels in conflict (adjudicate them)' : 'no label'), false
    return true
  })
  let files = 0
  const write = async (path: string, bytes: Buffer | string) => {
    await makeDirs(dirname(path))
    await writeFile(path, bytes)
    files++
  }
  const coco = new Map<string, CocoExportImage[]>()
  await forEachConcurrent(
    chosen,
    async (t) => {
      const name = names.get(t.tileId)!
      const jpg = await encodeTileJpeg(await tilePixels(deps.dataDir, t), t.width, t.height)
      if (req.format === 'imagefolder') {
        await write(join(outDir, t.split!, folderFromClass(t.label!), `${name}.jpg`), jpg)
      } else if (req.format === 'mmseg') {
        await write(join(outDir, 'images', t.split!, `${name}.jpg`), jpg)
        // Boxes are detection labels, not crater outlines: masks come from polygons and ellipses.
        const mask = rasteriseMask(maskShapes(t), t.width, t.height, req.mask)
        await write(join(outDir, 'annotations', t.split!, `${name}_gtmask.png`), await encodeMaskPng(mask, t.width, t.height))
      } else {
        await write(join(outDir, t.split!, `${name}.jpg`), jpg)
      }
    },
    { signal: opts.signal, progress: opts.progress, concurrency: 4 }
  )
  if (req.format === 'coco') {
    for (const t of chosen) {
      const list = coco.get(t.split!) ?? []
      list.push({
        fileName: `${names.get(t.tileId)!}.jpg`,
        width: t.width,
        height: t.height,
        annotations: t.annotations.map((a) => {
          const b = boundingBox(a.geometry)
          return { category: a.className, polygon: a.geometry.kind === 'box' ? null : geometryToPolygon(a.geometry), bbox: [b.x, b.y, b.w, b.h].map(round3) as [number, number, number, number], area: round3(geometryArea(a.geometry)) }
        })
      })
      coco.set(t.split!, list)
    }
    const classes = cocoClasses(manifest)
    for (const split of SPLIT_NAMES) {
      const images = coco.get(split)
      if (images) await write(join(outDir, split, '_annotations.coco.json'), writeCoco(images, classes))
    }
  }
  const info = {
    dataset: manifest.dataset.name,
    version: version.version,
    contentHash: version.contentHash,
    format: req.format,
    mask: req.format === 'mmseg' ? req.mask : undefined,
    tiles: chosen.length,
    classes: manifest.dataset.classes,
    labelPolicy: manifest.dataset.labelPolicy,
    // Where the classes came from: each import's mapping of its source's classes.
    classMappings: manifest.dataset.classMappings ?? [],
    note: 'Greyscale tiles are written as three identical RGB channels; masks: 0 background, 1 crater.'
  }
  await write(join(outDir, EXPORT_MARKER), `${JSON.stringify(info, null, 2)}\n`)
  return { outDir, format: req.format, files, tiles: chosen.length, skipped: [...skipped].map(([reason, tiles]) => ({ reason, tiles })) }
}

export function maskShapes(t: ManifestTile) {
  return t.annotations.filter((a) => a.geometry.kind !== 'box').map((a) => a.geometry)
}

function cocoClasses(m: DatasetManifest): string[] {
  const used = new Set(m.tiles.flatMap((t) => t.annotations.map((a) => a.className)))
  return [...new Set([...m.dataset.classes.filter((c) => used.has(c)), ...[...used].sort()])]
}

async function tilePixels(dataDir: string, t: ManifestTile): Promise<Buffer> {
  const source = storedPath(dataDir, `${t.image.sha256}.${t.image.ext}`)
  if (!existsSync(source)) throw new Error(`the image copy ${source} is missing from the data folder`)
  return cropRgb(source, { format: '', width: t.image.width, height: t.image.height, channels: t.image.channels, bitDepth: 8, hasAlpha: false }, t)
}

/** The folder must be new, empty, or an earlier export (never someone's other files). */
async function checkOutDir(outDir: string): Promise<void> {
  if (existsSync(outDir)) {
    const entries = await readdir(outDir)
    if (entries.length && !entries.includes(EXPORT_MARKER)) throw new Error(`${outDir} is not empty and is not an earlier export: choose an empty folder`)
  }
  // One level at a time: Node's recursive mkdir never returns for a path under /proc.
  await makeDirs(dirname(outDir))
}

/** Puts the finished export where it was asked for, replacing an empty folder or an earlier export. */
async function moveIntoPlace(work: string, outDir: string): Promise<void> {
  if (!existsSync(outDir)) return rename(work, outDir)
  const old = `${outDir}.tmp-old-${process.pid}-${Date.now()}`
  try {
    await rename(outDir, old)
  } catch {
    // The folder cannot move (a mount point): empty it (it is empty or an earlier export) and move the contents in.
    for (const name of await readdir(outDir)) await rm(join(outDir, name), { recursive: true, force: true })
    for (const name of await readdir(work)) await rename(join(work, name), join(outDir, name))
    await rm(work, { recursive: true, force: true })
    return
  }
  try {
    await rename(work, outDir)
  } catch (err) {
    await rename(old, outDir).catch(() => {})
    throw err
  }
  await rm(old, { recursive: true, force: true })
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000
}

// Training datasets built in temporary folders from ../shared/data (files are symlinked, never
// copied into the repository):
//   - landmarkImageFolder: HiRISE landmark tiles as an ImageFolder, crater (class 1) vs the rest,
//     class 6 "edge" dropped unless asked for, split by HiRISE observation, balanced per class;
//   - craterSegmentationFolder: mars-crater-boxes as an MMSegmentation folder, YOLO boxes rasterised
//     into inscribed-ellipse masks (0 background, 1 crater).
import { mkdirSync, readFileSync, readdirSync, symlinkSync, existsSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import sharp from 'sharp'
import { SHARED_DATA } from './built'
import { deriveSeed } from '@engine/training/rng'

const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1')
const BOXES = join(SHARED_DATA, 'mars-crater-boxes')

export function sharedDataAvailable(): boolean {
  return existsSync(join(LANDMARKS, 'labels-map-proj.txt')) && existsSync(join(BOXES, 'images'))
}

function observationOf(file: string): string {
  return file.split('_RED-')[0]!
}

export interface LandmarkFolderOptions {
  /** Images per class in train / valid (a number: balanced; [other, crater]: skewed; fewer when the split has fewer). */
  trainPerClass: number | [number, number]
  validPerClass: number | [number, number]
  /** Folder names of [other, crater]; default ['0_other', '1_crater'] (e.g. ['NoCrater', 'Crater'] sorts crater first). */
  classNames?: [string, string]
  /** Fraction of observations held out for validation. */
  validFraction?: number
  seed?: number
  /** Keep class 6 "edge" (image border) among the rest, as "crater vs rest" read literally does; default false. */
  includeEdge?: boolean
}

/** Writes `dir/{train,valid}/{0_other,1_crater}/` symlinks; returns the counts. */
export function landmarkImageFolder(dir: string, o: LandmarkFolderOptions): { train: number[]; valid: number[]; observations: { train: string[]; valid: string[] } } {
  const seed = o.seed ?? 1
  const lines = readFileSync(join(LANDMARKS, 'labels-map-proj.txt'), 'utf8').trim().split(/\r?\n/)
  const items = lines
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 2 && (o.includeEdge || p[1] !== '6'))
    .map(([file, cls]) => ({ file: file!, crater: cls === '1' ? 1 : 0 }))
  const observations = [...new Set(items.map((i) => observationOf(i.file)))].sort((a, b) => deriveSeed(seed, a) - deriveSeed(seed, b))
  const nValid = Math.round(observations.length * (o.validFraction ?? 0.3))
  const validObs = new Set(observations.slice(0, nValid))
  const classes = o.classNames ?? ['0_other', '1_crater']
  const counts = { train: [0, 0], valid: [0, 0] }
  // A stable pseudo-random order within each class so the balanced subset spans observations.
  const ordered = [...items].sort((a, b) => deriveSeed(seed, a.file) - deriveSeed(seed, b.file))
  for (const split of ['train', 'valid'] as const) {
    for (const c of [0, 1]) mkdirSync(join(dir, split, classes[c]!), { recursive: true })
    const per = split === 'train' ? o.trainPerClass : o.validPerClass
    for (const item of ordered) {
      if (validObs.has(observationOf(item.file)) !== (split === 'valid')) continue
      if (counts[split][item.crater]! >= (typeof per === 'number' ? per : per[item.crater]!)) continue
      symlinkSync(join(LANDMARKS, 'map-proj', item.file), join(dir, split, classes[item.crater]!, item.file))
      counts[split][item.crater]! += 1
    }
  }
  return { ...counts, observations: { train: observations.slice(nValid), valid: observations.slice(0, nValid) } }
}

/** Writes `dir/images/{train,valid}/*.jpg` (symlinks) and `dir/annotations/{train,valid}/*_gtmask.png`. */
export async function craterSegmentationFolder(dir: string, opts: { maxPerSplit?: number } = {}): Promise<{ train: number; valid: number }> {
  const out = { train: 0, valid: 0 }
  for (const split of ['train', 'valid'] as const) {
    const imgDir = join(dir, 'images', split)
    const annDir = join(dir, 'annotations', split)
    mkdirSync(imgDir, { recursive: true })
    mkdirSync(annDir, { recursive: true })
    const files = readdirSync(join(BOXES, 'images', split)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()
    for (const f of files.slice(0, opts.maxPerSplit ?? files.length)) {
      const stem = basename(f, extname(f))
      const src = join(BOXES, 'images', split, f)
      const meta = await sharp(src).metadata()
      const w = meta.width!
      const h = meta.height!
      const mask = new Uint8Array(w * h)
      const labelPath = join(BOXES, 'labels', split, `${stem}.txt`)
      const text = existsSync(labelPath) ? readFileSync(labelPath, 'utf8') : ''
      for (const line of text.split(/\r?\n/)) {
        const p = line.trim().split(/\s+/).map(Number)
        if (p.length !== 5) continue
        const [, cx, cy, bw, bh] = p as [number, number, number, number, number]
        const ecx = cx * w, ecy = cy * h, rx = (bw * w) / 2, ry = (bh * h) / 2
        for (let y = Math.max(0, Math.floor(ecy - ry)); y <= Math.min(h - 1, Math.ceil(ecy + ry)); y++)
          for (let x = Math.max(0, Math.floor(ecx - rx)); x <= Math.min(w - 1, Math.ceil(ecx + rx)); x++) {
            const dx = (x + 0.5 - ecx) / rx
            const dy = (y + 0.5 - ecy) / ry
            if (dx * dx + dy * dy <= 1) mask[y * w + x] = 1
          }
      }
      symlinkSync(src, join(imgDir, f))
      await sharp(Buffer.from(mask), { raw: { width: w, height: h, channels: 1 } }).png().toFile(join(annDir, `${stem}_gtmask.png`))
      out[split] += 1
    }
  }
  return out
}

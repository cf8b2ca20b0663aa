// Training data: scan an ImageFolder / MMSegmentation folder / a folder of images, decode with
// sharp (libvips threads, so decoding overlaps the synchronous training step), turn RGB into the
// six model bands (the study's reflectance scaling + a band recipe), and serve batches in a
// deterministic order: the batch of step s is a pure function of (seed, s), prefetched ahead.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, extname, join, relative } from 'node:path'
import sharp from 'sharp'
import type { BandStats } from '@shared/bands'
import { standardizeTile, toReflectance, toRgbImage, resizeBilinear, type HwcImage } from '@shared/imputation/preprocess'
import { buildModelInput, presetRecipe, type PresetName } from '@shared/imputation/recipes'
import { isMaeConfig, type MaeConfig } from '@shared/models/mae'
import { maeNativeInput, maeStandardizedInput } from '@shared/models/mae-input'
import type { PrithviConfig } from '@shared/models/prithvi-mae'
import type { RunData } from '@shared/ipc/schemas/runs'
import { resolvePositiveClass, type PositiveChoice } from '@shared/training/positive-class'
import { permutation, streamRandom } from './rng'
import { unreadableReason } from '../reconstruction/images'

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp'])

export interface Sample {
  path: string
  /** Classification: class index. */
  label?: number
  /** Segmentation: mask path (class ids, 255 = class 1 for binary masks). */
  maskPath?: string
}

export interface DatasetListing {
  layout: 'imagefolder' | 'mmseg' | 'images'
  root: string
  classes: string[]
  train: Sample[]
  valid: Sample[]
  /** Binary classification: the positive class (always index 1, the BCE logit's class) and why it was chosen. */
  positive?: PositiveChoice
  /** Classification: training images per class, in `classes` order. */
  trainCounts?: number[]
}

function imagesIn(dir: string, recursive = false): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory() && recursive) for (const q of imagesIn(p, true)) out.push(q) // no spread: folders can be huge
    else if ((entry.isFile() || entry.isSymbolicLink()) && IMAGE_EXT.has(extname(entry.name).toLowerCase())) out.push(p)
  }
  return out.sort()
}

function splitDir(root: string, names: string[]): string | undefined {
  return names.map((n) => join(root, n)).find((p) => existsSync(p) && statSync(p).isDirectory())
}

const VALID_NAMES = ['valid', 'val', 'validation']

/**
 * Lists a dataset folder. Classification class indices follow sorted folder names (torchvision),
 * except that a two-class task puts its positive class at index 1 (the class whose logit the BCE
 * head outputs): the requested one, else a "crater" class by name, else the minority class.
 */
export function listDataset(data: RunData, opts: { positiveClass?: string } = {}): DatasetListing {
  if (data.kind !== 'folder') {
    throw new Error('training from a frozen dataset version is not available yet: export the version as an ImageFolder / MMSegmentation folder and train from that folder')
  }
  const root = data.path
  if (!existsSync(root)) throw new Error(`dataset folder not found: ${root}`)
  if (data.layout === 'imagefolder') {
    const trainDir = splitDir(root, ['train'])
    const validDir = splitDir(root, VALID_NAMES)
    if (!trainDir || !validDir) throw new Error(`${root} is not an ImageFolder: expected train/<class>/ and valid/<class>/ folders`)
    let classes = readdirSync(trainDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
    if (classes.length < 2) throw new Error(`${trainDir} has ${classes.length} class folder(s); at least 2 are needed`)
    let positive: PositiveChoice | undefined
    if (opts.positiveClass && classes.length !== 2) throw new Error('positiveClass applies to two-class datasets only')
    if (classes.length === 2) {
      const counts = classes.map((c) => imagesIn(join(trainDir, c)).length)
      positive = resolvePositiveClass(classes, counts, opts.positiveClass)
      classes = [classes.find((c) => c !== positive!.positiveClass)!, positive.positiveClass]
    }
    const list = (dir: string): Sample[] => classes.flatMap((c, label) => imagesIn(join(dir, c)).map((path) => ({ path, label })))
    const train = list(trainDir)
    const valid = list(validDir)
    if (!train.length) throw new Error(`no images under ${trainDir}`)
    if (!valid.length) throw new Error(`no images under ${validDir}`)
    const trainCounts = classes.map((_, c) => train.filter((x) => x.label === c).length)
    return { layout: 'imagefolder', root, classes, train, valid, trainCounts, ...(positive ? { positive } : {}) }
  }
  if (data.layout === 'mmseg') {
    const imgRoot = join(root, 'images')
    const annRoot = join(root, 'annotations')
    const list = (names: string[]): Sample[] => {
      const img = splitDir(imgRoot, names)
      const ann = splitDir(annRoot, names)
      if (!img || !ann) throw new Error(`${root} is not an MMSegmentation folder: expected images/${names[0]} and annotations/${names[0]}`)
      return imagesIn(img).map((path) => {
        const stem = basename(path, extname(path))
        const maskPath = [`${stem}_gtmask.png`, `${stem}.png`, `${stem}_mask.png`].map((n) => join(ann, n)).find((p) => existsSync(p))
        if (!maskPath) throw new Error(`no mask for ${path} in ${ann} (expected ${stem}_gtmask.png)`)
        return { path, maskPath }
      })
    }
    const train = list(['train'])
    const valid = list(VALID_NAMES)
    return { layout: 'mmseg', root, classes: [], train, valid }
  }
  // Pre-training: every image below root; every 20th (in name order) held out for validation.
  const all = imagesIn(root, true)
  if (all.length < 2) throw new Error(`${root} holds ${all.length} image(s); pre-training needs at least 2`)
  const valid = all.filter((_, i) => i % 20 === 19 || (all.length < 20 && i === all.length - 1))
  const train = all.filter((p) => !valid.includes(p))
  return { layout: 'images', root, classes: [], train: train.map((path) => ({ path })), valid: valid.map((path) => ({ path })) }
}

/**
 * Drops the samples whose image (or mask) cannot be read — a text file renamed .jpg, a dangling
 * link — naming each with its reason, so one bad file does not fail a run. Reads headers only;
 * only a split left with nothing readable fails, naming the first bad file.
 */
export async function screenSamples(listing: DatasetListing, concurrency = 8): Promise<{ listing: DatasetListing; skipped: { path: string; reason: string }[] }> {
  const skipped: { path: string; reason: string }[] = []
  const problem = async (path: string): Promise<string | null> => {
    try {
      const m = await sharp(path, { limitInputPixels: 2 ** 28 }).metadata()
      return m.width && m.height ? null : 'the image has no size'
    } catch (err) {
      return unreadableReason(path, err)
    }
  }
  const keep = async (samples: Sample[]): Promise<Sample[]> => {
    const ok = new Array<boolean>(samples.length).fill(false)
    let next = 0
    const worker = async () => {
      for (let i = next++; i < samples.length; i = next++) {
        const s = samples[i]!
        const bad = (await problem(s.path)) ?? (s.maskPath ? await problem(s.maskPath).then((r) => (r ? `its mask ${s.maskPath}: ${r}` : null)) : null)
        if (bad) skipped.push({ path: s.path, reason: bad })
        else ok[i] = true
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, samples.length)) }, worker))
    return samples.filter((_, i) => ok[i])
  }
  const train = await keep(listing.train)
  const valid = await keep(listing.valid)
  for (const [name, before, after] of [['training', listing.train, train], ['validation', listing.valid, valid]] as const) {
    if (before.length && !after.length) {
      const first = skipped.find((k) => before.some((b) => b.path === k.path))!
      throw new Error(`none of the ${before.length} ${name} image(s) could be read (${first.path}: ${first.reason})`)
    }
  }
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { listing: { ...listing, train, valid }, skipped }
}

/** SHA-256 over every file's relative path, label and content, in listing order. */
export function datasetHash(listing: DatasetListing): string {
  const h = createHash('sha256')
  h.update(`${listing.layout}\n${listing.classes.join(',')}\n`)
  for (const [split, samples] of [['train', listing.train], ['valid', listing.valid]] as const) {
    for (const s of samples) {
      h.update(`${split} ${relative(listing.root, s.path)} ${s.label ?? ''}\n`)
      h.update(readFileSync(s.path))
      if (s.maskPath) h.update(readFileSync(s.maskPath))
    }
  }
  return h.digest('hex')
}

// ------------------------------------------------------------------ decoding and preprocessing

async function decodeRgb(path: string): Promise<HwcImage> {
  // Damage past the header shows only here: the error names the file.
  const { data, info } = await sharp(path, { limitInputPixels: 2 ** 28 })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((err: Error) => {
      throw new Error(`${path}: not a readable image (${err.message})`)
    })
  return toRgbImage({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width, channels: info.channels })
}

/** Class-id mask resized (nearest) to size x size; 255 in a binary mask means class 1. */
async function decodeMask(path: string, size: number, numClasses: number): Promise<Uint8Array> {
  const { data, info } = await sharp(path).extractChannel(0).resize(size, size, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer({ resolveWithObject: true })
  if (info.width !== size || info.height !== size) throw new Error(`mask ${path} resized to ${info.width}x${info.height}`)
  const out = new Uint8Array(size * size)
  for (let i = 0; i < out.length; i++) {
    const v = data[i]!
    out[i] = numClasses === 2 && v === 255 ? 1 : v
    if (out[i]! >= numClasses) throw new Error(`mask ${path} has class id ${v}; the run has ${numClasses} classes`)
  }
  return out
}

export interface Preprocessing {
  stats: BandStats
  recipe: PresetName
  truncate: boolean
  /** 'standardize': per-tile contrast standardisation before scaling (standardizeTile). */
  tileNorm?: 'none' | 'standardize'
  /**
   * A facebookresearch-MAE backbone (MOMO): its own input (0-1 scale, grey or RGB as in_chans asks,
   * its mean/std) instead of the recipe, stats and truncation, which only Prithvi uses.
   */
  native?: Pick<MaeConfig, 'in_chans' | 'mean' | 'std'>
}

/** Channels of one model input: the MAE layout's in_chans, else Prithvi's six bands. */
export function inputChannels(pre: Pick<Preprocessing, 'native'>): number {
  return pre.native?.in_chans ?? 6
}

/** The preprocessing a backbone's family takes: `native` set for the MAE layout. */
export function familyPreprocessing(cfg: PrithviConfig, pre: Omit<Preprocessing, 'native'>): Preprocessing {
  return isMaeConfig(cfg) ? { ...pre, native: { in_chans: cfg.in_chans, mean: cfg.mean, std: cfg.std } } : pre
}

/** RGB uint8 (HWC) of size s x s -> normalised model input [C, 1, s, s] written at `offset`. */
export function writeModelInput(rgb: Uint8Array, s: number, pre: Preprocessing, out: Float32Array, offset: number): void {
  if (pre.native) {
    if (pre.tileNorm === 'standardize') maeStandardizedInput(rgb, s, pre.native, out, offset)
    else maeNativeInput(rgb, s, pre.native, out, offset)
    return
  }
  const pixels = pre.tileNorm === 'standardize' ? standardizeTile(rgb, s, s, pre.stats) : rgb
  const refl = toReflectance(pixels, s, s, pre.stats, { truncate: pre.truncate })
  out.set(buildModelInput(refl, presetRecipe(pre.recipe, pre.stats), pre.stats), offset)
}

// ------------------------------------------------------------------ batches

export interface Batch {
  step: number
  n: number
  /** [N, 6, 1, S, S]. */
  x: Float32Array
  /** Classification labels [N]. */
  labels?: Int32Array
  /** Segmentation class ids [N, S, S]. */
  masks?: Uint8Array
  /** RGB of the batch [N, S, S, 3] (segmentation previews). */
  rgb?: Uint8Array
}

export interface LoaderOptions {
  task: 'classification' | 'segmentation' | 'pretrain'
  imgSize: number
  /** Segmentation: resize to this square before cropping imgSize. */
  resize: number
  flip: boolean
  /** Classification / pre-training: random flips and 90-degree rotations. */
  augment: boolean
  numClasses: number
  pre: Preprocessing
  seed: number
  batchSize: number
  /** Batches decoded ahead of the one being trained on. */
  prefetch: number
  /** Decoded, resized RGB kept in memory (bytes). */
  cacheBytes: number
}

interface Decoded {
  rgb: Uint8Array // size x size x 3
  mask?: Uint8Array // size x size
  size: number
}

/** Decoded images at their working size, cached up to a byte budget. */
export class ImageCache {
  private readonly cache = new Map<string, Promise<Decoded>>()
  private bytes = 0

  constructor(private readonly opts: Pick<LoaderOptions, 'task' | 'imgSize' | 'resize' | 'numClasses' | 'cacheBytes'>) {}

  /** Working size: the model size (classification, pre-training) or the resize (segmentation). */
  get size(): number {
    return this.opts.task === 'segmentation' ? this.opts.resize : this.opts.imgSize
  }

  get(sample: Sample): Promise<Decoded> {
    const hit = this.cache.get(sample.path)
    if (hit) return hit
    const size = this.size
    const p = (async (): Promise<Decoded> => {
      const img = await decodeRgb(sample.path)
      const rgb = img.height === size && img.width === size ? new Uint8Array(img.data) : (resizeBilinear(img, size, size).data as Uint8Array)
      const mask = sample.maskPath ? await decodeMask(sample.maskPath, size, this.opts.numClasses) : undefined
      return { rgb, ...(mask ? { mask } : {}), size }
    })()
    const cost = size * size * 4
    if (this.bytes + cost <= this.opts.cacheBytes) {
      this.bytes += cost
      this.cache.set(sample.path, p)
      p.catch(() => this.cache.delete(sample.path))
    }
    return p
  }
}

/** Copies the s x s window at (y0, x0) of a size x size RGB image (and mask), optionally mirrored. */
function cropRgb(src: Uint8Array, size: number, y0: number, x0: number, s: number, flip: boolean): Uint8Array {
  const out = new Uint8Array(s * s * 3)
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const sx = flip ? x0 + s - 1 - x : x0 + x
      const si = ((y0 + y) * size + sx) * 3
      const di = (y * s + x) * 3
      out[di] = src[si]!
      out[di + 1] = src[si + 1]!
      out[di + 2] = src[si + 2]!
    }
  }
  return out
}

/** Square HWC RGB image flipped (horizontal, vertical) and then rotated by 90 degrees `quarter` times. */
export function orientRgb(src: Uint8Array, s: number, flipH: boolean, flipV: boolean, quarter: number): Uint8Array {
  if (!flipH && !flipV && quarter % 4 === 0) return src
  const index = orientationIndex(s, flipH, flipV, quarter)
  const out = new Uint8Array(src.length)
  for (let i = 0; i < index.length; i++) {
    const si = index[i]! * 3
    out[i * 3] = src[si]!
    out[i * 3 + 1] = src[si + 1]!
    out[i * 3 + 2] = src[si + 2]!
  }
  return out
}

/** For each pixel of the oriented s x s image, the pixel of the source it comes from. */
function orientationIndex(s: number, flipH: boolean, flipV: boolean, quarter: number): Int32Array {
  const index = new Int32Array(s * s)
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      let sx = flipH ? s - 1 - x : x
      let sy = flipV ? s - 1 - y : y
      for (let q = 0; q < quarter % 4; q++) [sx, sy] = [sy, s - 1 - sx]
      index[y * s + x] = sy * s + sx
    }
  return index
}

/**
 * The 8 orientations of a square (4 quarter turns, each with and without a horizontal flip): the
 * views of test-time augmentation. Flipping both axes is a half turn, so these are all of them.
 */
export const DIHEDRAL_VIEWS: readonly { flipH: boolean; quarter: number }[] = [0, 1, 2, 3].flatMap((quarter) => [
  { flipH: false, quarter },
  { flipH: true, quarter }
])

/**
 * `orientRgb` on model input: every S x S plane of `x` (n images of `x.length / (n S S)` planes each)
 * flipped and turned as orientRgb turns pixels. Per-tile standardisation and the band recipes act per
 * pixel or over the whole tile, so orienting the input equals orienting the image first.
 */
export function orientPlanes(x: Float32Array, s: number, flipH: boolean, quarter: number): Float32Array {
  if (!flipH && quarter % 4 === 0) return x
  const area = s * s
  const index = orientationIndex(s, flipH, false, quarter)
  const out = new Float32Array(x.length)
  for (let base = 0; base < x.length; base += area) for (let i = 0; i < area; i++) out[base + i] = x[base + index[i]!]!
  return out
}

function cropMask(src: Uint8Array, size: number, y0: number, x0: number, s: number, flip: boolean): Uint8Array {
  const out = new Uint8Array(s * s)
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) out[y * s + x] = src[(y0 + y) * size + (flip ? x0 + s - 1 - x : x0 + x)]!
  return out
}

/**
 * Training batches: sample position p = step * B + j of an endless stream; epoch e = floor(p / n)
 * is a seeded permutation of the training set, and augmentation of p draws from (seed, p).
 */
export class TrainLoader {
  private readonly pending = new Map<number, Promise<Batch>>()
  private readonly perms = new Map<number, Int32Array>()
  readonly cache: ImageCache

  constructor(
    private readonly samples: Sample[],
    private readonly opts: LoaderOptions
  ) {
    this.cache = new ImageCache(opts)
  }

  private sampleAt(p: number): Sample {
    const n = this.samples.length
    const epoch = Math.floor(p / n)
    let perm = this.perms.get(epoch)
    if (!perm) {
      perm = permutation(n, streamRandom(this.opts.seed, 'epoch', epoch))
      this.perms.set(epoch, perm)
      for (const e of this.perms.keys()) if (e < epoch - 1) this.perms.delete(e)
    }
    return this.samples[perm[p % n]!]!
  }

  private async build(step: number): Promise<Batch> {
    const { batchSize: B, imgSize: s, task } = this.opts
    const plane = inputChannels(this.opts.pre) * s * s
    const x = new Float32Array(B * plane)
    const labels = task === 'classification' ? new Int32Array(B) : undefined
    const masks = task === 'segmentation' ? new Uint8Array(B * s * s) : undefined
    const rgbOut = task === 'segmentation' ? new Uint8Array(B * s * s * 3) : undefined
    const decoded = await Promise.all(Array.from({ length: B }, (_, j) => this.cache.get(this.sampleAt(step * B + j))))
    decoded.forEach((d, j) => {
      const p = step * B + j
      const sample = this.sampleAt(p)
      let rgb = d.rgb
      if (task === 'segmentation') {
        const rng = streamRandom(this.opts.seed, 'augment', p)
        const y0 = Math.floor(rng() * (d.size - s + 1))
        const x0 = Math.floor(rng() * (d.size - s + 1))
        const flip = this.opts.flip && rng() < 0.5
        rgb = cropRgb(d.rgb, d.size, y0, x0, s, flip)
        masks!.set(cropMask(d.mask!, d.size, y0, x0, s, flip), j * s * s)
        rgbOut!.set(rgb, j * s * s * 3)
      } else if (this.opts.augment) {
        const rng = streamRandom(this.opts.seed, 'augment', p)
        rgb = orientRgb(d.rgb, s, rng() < 0.5, rng() < 0.5, Math.floor(rng() * 4))
      }
      writeModelInput(rgb, s, this.opts.pre, x, j * plane)
      if (labels) labels[j] = sample.label!
    })
    return { step, n: B, x, ...(labels ? { labels } : {}), ...(masks ? { masks } : {}), ...(rgbOut ? { rgb: rgbOut } : {}) }
  }

  /** The batch of `step`; starts decoding the next `prefetch` batches too. */
  get(step: number): Promise<Batch> {
    for (let k = step; k <= step + this.opts.prefetch; k++) {
      if (!this.pending.has(k)) {
        const p = this.build(k)
        p.catch(() => {}) // surfaced when awaited
        this.pending.set(k, p)
      }
    }
    const batch = this.pending.get(step)!
    this.pending.delete(step)
    for (const k of this.pending.keys()) if (k < step) this.pending.delete(k)
    return batch
  }
}

/** Validation batches in listing order (classification / pre-training), decoded ahead. */
export async function* validationBatches(samples: Sample[], opts: LoaderOptions, cache: ImageCache, batchSize: number): AsyncGenerator<Batch> {
  const s = opts.imgSize
  const plane = inputChannels(opts.pre) * s * s
  const make = async (start: number): Promise<Batch> => {
    const part = samples.slice(start, start + batchSize)
    const decoded = await Promise.all(part.map((smp) => cache.get(smp)))
    const x = new Float32Array(part.length * plane)
    const labels = new Int32Array(part.length)
    decoded.forEach((d, j) => {
      writeModelInput(d.rgb, s, opts.pre, x, j * plane)
      labels[j] = part[j]!.label ?? 0
    })
    return { step: start, n: part.length, x, labels }
  }
  let next: Promise<Batch> | undefined = samples.length ? make(0) : undefined
  for (let start = 0; next; start += batchSize) {
    const current = await next
    next = start + batchSize < samples.length ? make(start + batchSize) : undefined
    next?.catch(() => {})
    yield current
  }
}

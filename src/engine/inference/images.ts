// The images an inference job classifies and how each becomes a model input exactly as the run
// was trained: decode (sharp, 8-bit; grey → three identical channels), the dataset tile's
// rectangle if any, a bilinear resize to the model's square size (what training's loader does),
// then the run's reflectance scaling and band recipe. Also the rows' small JPEG thumbnails.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { resizeBilinear, toRgbImage } from '@shared/imputation/preprocess'
import { classFromFolder } from '@shared/datasets/classes'
import { cropRegion, decodeImage, listImages } from '../reconstruction/images'
import { inputChannels, writeModelInput, type Preprocessing } from '../training/data'

/** One image to classify; `label` is a class name of the source (mapped to the run's classes). */
export interface InferenceItem {
  path: string
  name: string
  label: string | null
  region?: { x: number; y: number; width: number; height: number }
}

/** Index of `name` among the run's classes: exact, else by canonical name (`NoCrater` = `no-crater`). */
export function classIndex(classes: readonly string[], name: string): number {
  const exact = classes.indexOf(name)
  if (exact >= 0) return exact
  const canonical = classFromFolder(name)
  return classes.findIndex((c) => classFromFolder(c) === canonical)
}

function subfolders(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
}

/**
 * A folder's images: ImageFolder (`<class>/*` with folders named as the run's classes) gives true
 * labels; images directly in the folder are classified without one.
 */
export function listFolder(folder: string, classes: readonly string[]): InferenceItem[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`folder not found: ${folder}`)
  const items: InferenceItem[] = []
  for (const dir of subfolders(folder)) {
    if (classIndex(classes, dir) < 0) continue
    for (const path of listImages(join(folder, dir))) items.push({ path, name: `${dir}/${basename(path)}`, label: dir })
  }
  for (const path of listImages(folder)) items.push({ path, name: basename(path), label: null })
  if (!items.length) {
    const others = subfolders(folder)
    throw new Error(
      `no images in ${folder}: expected image files or class folders named as the run's classes (${classes.join(', ')})` +
        (others.length ? `; found folders ${others.slice(0, 6).join(', ')}${others.length > 6 ? ', …' : ''}` : '')
    )
  }
  return items
}

export function listFiles(paths: readonly string[]): InferenceItem[] {
  return paths.map((path) => {
    if (!existsSync(path)) throw new Error(`image not found: ${path}`)
    return { path, name: basename(path), label: null }
  })
}

/** Decoded RGB of an item at the model's size s × s (bytes, HWC). */
export async function modelRgb(item: InferenceItem, s: number): Promise<Uint8Array> {
  const decoded = await decodeImage(item.path)
  const r = item.region
  const rgb = toRgbImage(r ? cropRegion(decoded, r.x, r.y, r.width, r.height) : decoded)
  return rgb.height === s && rgb.width === s ? new Uint8Array(rgb.data) : (resizeBilinear(rgb, s, s).data as Uint8Array)
}

/** Model inputs [n, C, 1, s, s] (C: 6 bands for Prithvi, in_chans for the MAE layout) for RGB images already at s × s. */
export function modelInputs(rgbs: readonly Uint8Array[], s: number, pre: Preprocessing): Float32Array {
  const plane = inputChannels(pre) * s * s
  const x = new Float32Array(rgbs.length * plane)
  rgbs.forEach((rgb, i) => writeModelInput(rgb, s, pre, x, i * plane))
  return x
}

/** A small JPEG (cover-cropped square) of the item as a data URL. */
export async function thumbnail(item: InferenceItem, side = 64): Promise<string> {
  let img = sharp(item.path, { limitInputPixels: 2 ** 28 })
  const r = item.region
  if (r) img = img.extract({ left: r.x, top: r.y, width: r.width, height: r.height })
  const jpg = await img.resize(side, side, { fit: 'cover' }).removeAlpha().jpeg({ quality: 75 }).toBuffer()
  return `data:image/jpeg;base64,${jpg.toString('base64')}`
}

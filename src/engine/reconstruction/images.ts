// Reads the study's images with sharp (8-bit, any of grey / grey+alpha / RGB / RGBA) and cuts
// them into model-sized RGB tiles: a grid of native-resolution tiles (the default), a centre crop,
// or a resize.
// Images already at the model's size pass through untouched whatever the choice.
import { lstatSync, readdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'
import { centreCrop, resizeBilinear, tileGrid, toRgbImage, type HwcImage } from '@shared/imputation/preprocess'
import type { TileGeometry } from '@shared/ipc/schemas/reconstruction'

const IMAGE_EXTENSIONS = /\.(jpe?g|png|tiff?|webp)$/i

/** Image files directly inside `folder`, in natural name order (…_2_0 before …_10_0). */
export function listImages(folder: string): string[] {
  if (!statSync(folder).isDirectory()) throw new Error(`not a folder: ${folder}`)
  const names = readdirSync(folder).filter((n) => IMAGE_EXTENSIONS.test(n) && !n.startsWith('.'))
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  return names.map((n) => join(folder, n))
}

/** Decoded pixels, 8 bits per channel, channels as stored (alpha kept here, dropped by toRgbImage). */
export async function decodeImage(path: string): Promise<HwcImage> {
  const { data, info } = await sharp(path, { limitInputPixels: 2 ** 28 }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width, channels: info.channels }
}

export type HwcImageLike = HwcImage

/**
 * Why a listed image could not be read, in words: a file that a listing just found but that
 * cannot be opened has a name that is not UTF-8 (it does not survive as a string path), a link
 * that points nowhere is dangling; anything else is the decoder's reason.
 */
export function unreadableReason(path: string, err: unknown): string {
  try {
    statSync(path)
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'ELOOP') return 'symbolic link loop'
    if (code === 'ENOENT') {
      try {
        lstatSync(path)
        return 'a symbolic link to a file that does not exist'
      } catch {
        return 'cannot be opened: the file is gone, or its name is not valid UTF-8 (rename it)'
      }
    }
  }
  return `not a readable image (${(err as Error).message})`
}

export interface StudyTileImage {
  /** Unique name of the tile within the study (file name, plus the grid cell when tiled). */
  ref: string
  image: string
  rgb: HwcImage
  x: number
  y: number
  width: number
  height: number
}

/** A rectangle of an image (a dataset tile), as the study reads it. */
export interface ImageRegion {
  path: string
  ref: string
  x: number
  y: number
  width: number
  height: number
}

/** The rectangle of a decoded image (clipped to it). */
export function cropRegion(img: HwcImage, x: number, y: number, width: number, height: number): HwcImage {
  const w = Math.min(width, img.width - x)
  const h = Math.min(height, img.height - y)
  if (w <= 0 || h <= 0 || x < 0 || y < 0) throw new Error(`region ${x},${y} ${width}×${height} lies outside the ${img.width}×${img.height} image`)
  const c = img.channels
  const out = new Uint8Array(w * h * c)
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * c, ((y + r) * img.width + x + w) * c), r * w * c)
  return { data: out, height: h, width: w, channels: c }
}

/** Model-sized RGB tiles of one decoded image. */
export function cutTiles(path: string, decoded: HwcImage, size: number, geometry: TileGeometry): StudyTileImage[] {
  const rgb = toRgbImage(decoded)
  const name = basename(path)
  const whole = { image: path, x: 0, y: 0, width: rgb.width, height: rgb.height }
  if (rgb.height === size && rgb.width === size) return [{ ref: name, rgb, ...whole }]
  switch (geometry) {
    case 'resize':
      return [{ ref: name, rgb: resizeBilinear(rgb, size, size), ...whole }]
    case 'centre-crop': {
      // An image smaller than the model in either direction cannot be cropped: it is resized.
      if (rgb.height < size || rgb.width < size) return [{ ref: name, rgb: resizeBilinear(rgb, size, size), ...whole }]
      const y = Math.floor((rgb.height - size) / 2)
      const x = Math.floor((rgb.width - size) / 2)
      return [{ ref: name, rgb: centreCrop(rgb, size), image: path, x, y, width: size, height: size }]
    }
    case 'tile':
      // Non-overlapping model-sized tiles from the top-left; edge strips narrower than a tile are
      // left out (padding would feed the model pixels that are not there). An image smaller than
      // the model in either direction has no tile: it is resized, as for the centre crop.
      if (rgb.height < size || rgb.width < size) return [{ ref: name, rgb: resizeBilinear(rgb, size, size), ...whole }]
      return tileGrid(rgb, size, 'drop').tiles.map((t) => ({ ref: `${name}#r${t.row}c${t.col}`, rgb: t.image, image: path, x: t.x, y: t.y, width: size, height: size }))
  }
}

/**
 * Model-sized tiles of the study's images (or of their regions), at most `maxTiles`. An image
 * that cannot be decoded is skipped and named with its reason; the rest of the study goes on.
 */
export async function readStudyTiles(
  images: readonly string[],
  regions: readonly ImageRegion[] | undefined,
  size: number,
  geometry: TileGeometry,
  maxTiles: number,
  hooks: { check?: () => void; progress?: (done: number, message: string) => void } = {}
): Promise<{ tiles: (StudyTileImage & { imageIndex: number })[]; skipped: { path: string; reason: string }[] }> {
  const tiles: (StudyTileImage & { imageIndex: number })[] = []
  const skipped: { path: string; reason: string }[] = []
  const unreadable = new Set<string>()
  const refs = new Set<string>()
  let lastDecoded = null as { path: string; image: HwcImage } | null // dataset tiles of one image come together
  for (const [imageIndex, path] of images.entries()) {
    if (tiles.length >= maxTiles) break
    hooks.check?.()
    if (unreadable.has(path)) continue
    hooks.progress?.(tiles.length, `reading ${path.split(/[\\/]/).pop()}`)
    if (lastDecoded?.path !== path) {
      try {
        lastDecoded = { path, image: await decodeImage(path) }
      } catch (err) {
        unreadable.add(path)
        skipped.push({ path, reason: unreadableReason(path, err) })
        continue
      }
    }
    const region = regions?.[imageIndex]
    const source = region ? cropRegion(lastDecoded.image, region.x, region.y, region.width, region.height) : lastDecoded.image
    for (const cut of cutTiles(path, source, size, geometry)) {
      if (tiles.length >= maxTiles) break
      // A dataset tile is named by its region; offsets are in the source image.
      const t = region ? { ...cut, ref: cut.ref.replace(/^[^#]*/, region.ref), x: cut.x + region.x, y: cut.y + region.y } : cut
      let ref = t.ref
      for (let k = 2; refs.has(ref); k++) ref = `${t.ref}~${k}`
      refs.add(ref)
      tiles.push({ ...t, ref, imageIndex })
    }
  }
  return { tiles, skipped }
}

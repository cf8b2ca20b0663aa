// The one module that reads pixels (through sharp/libvips): image facts, thumbnails, regions
// for the zoomable viewer, tile crops and their small statistics. Regions are decoded on
// demand, so a 20,000 px image is never held whole, and only encoded JPEG/PNG bytes leave main.
import sharp from 'sharp'
import { classifyColour, type ColourClass } from '@shared/datasets/colour'
import { greyThumbnail, perceptualHash } from '@shared/datasets/phash'
import { intersectImage, type Rect } from '@shared/datasets/tiling'

/** libvips refuses images over 268 Mpx by default; HiRISE products reach 20,000 × 50,000. */
const PIXEL_LIMIT = 2 ** 31
/** Regions up to this many pixels are cropped at full resolution, then scaled (48 MB of RGB). */
const REGION_FULL_DECODE = 1 << 24
/** Larger regions are streamed at reduced size; past this many pixels even that takes too long. */
const REGION_STREAM_LIMIT = 2 ** 31

export const IMAGE_EXTENSIONS: Record<string, string> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.tif': 'tiff', '.tiff': 'tiff' }
const FORMATS = new Set(['jpeg', 'png', 'tiff'])

export type ImageSource = string | Buffer

function open(source: ImageSource, failOn: 'error' | 'warning' = 'error') {
  return sharp(source, { limitInputPixels: PIXEL_LIMIT, failOn })
}

export interface ImageFacts {
  format: string
  width: number
  height: number
  channels: number
  bitDepth: number
  hasAlpha: boolean
}

export class UnreadableImageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnreadableImageError'
  }
}

export async function readFacts(source: ImageSource): Promise<ImageFacts> {
  let m: sharp.Metadata
  try {
    m = await open(source).metadata()
  } catch (err) {
    throw new UnreadableImageError(`not a readable image (${(err as Error).message})`)
  }
  if (!m.format || !FORMATS.has(m.format)) throw new UnreadableImageError(`unsupported image format ${m.format ?? 'unknown'} (JPEG, PNG and TIFF are supported)`)
  if (!m.width || !m.height) throw new UnreadableImageError('the image has no size')
  const bitDepth = m.depth === 'ushort' || m.depth === 'short' ? 16 : m.depth === 'float' || m.depth === 'uint' || m.depth === 'int' ? 32 : 8
  return { format: m.format, width: m.width, height: m.height, channels: m.channels ?? 1, bitDepth, hasAlpha: !!m.hasAlpha }
}

export interface PixelStats {
  phash: string
  colour: ColourClass
}

/** Perceptual hash and colour verdict from a small RGB(A) raw picture of the content. */
export function statsOf(raw: Buffer, width: number, height: number, channels: number, sourceChannels: number): PixelStats {
  const phash = perceptualHash(greyThumbnail(raw, width, height, channels))
  const colour = sourceChannels < 3 ? 'grey' : classifyColour(raw, width * height, channels).colour
  return { phash, colour }
}

export interface Preview {
  thumbnail: Buffer
  stats: PixelStats
  /** The decoder warned about damaged data that it filled in (corrupt JPEG segments). */
  warning?: string
}

/**
 * One decode of the whole image (JPEG shrink-on-load keeps it cheap) into a ≤256 px RGB
 * picture, from which the thumbnail and the statistics both come.
 */
export async function previewImage(source: ImageSource, facts: ImageFacts, thumbSide = 128): Promise<Preview> {
  const decode = (failOn: 'error' | 'warning') => {
    let pipeline = open(source, failOn).resize(256, 256, { fit: 'inside', withoutEnlargement: true }).removeAlpha()
    if (facts.bitDepth > 8) pipeline = pipeline.normalise()
    return pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  }
  let warning: string | undefined
  let out: Awaited<ReturnType<typeof decode>>
  if (facts.format === 'jpeg') {
    // libjpeg fills corrupt segments with grey and only warns: decode strictly first, so damaged
    // data is imported with a warning instead of silently (TIFF tag warnings are not damage).
    try {
      out = await decode('warning')
    } catch (err) {
      out = await decode('error')
      const detail = (err as Error).message.replace(/^VipsJpeg: /, '').trim()
      warning = `corrupt JPEG data, filled in by the decoder${/failOn/.test(detail) ? '' : `: ${detail}`}`
    }
  } else out = await decode('error')
  const { data, info } = out
  return {
    thumbnail: await thumbnailFromRaw(data, info.width, info.height, info.channels, thumbSide),
    stats: statsOf(data, info.width, info.height, info.channels, facts.channels),
    ...(warning ? { warning } : {})
  }
}

export async function thumbnailFromRaw(raw: Buffer, width: number, height: number, channels: number, side = 128): Promise<Buffer> {
  return sharp(raw, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
    .resize(side, side, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer()
}

/**
 * A region of an image, scaled so its longer side is at most `maxSide`, as PNG (greyscale
 * stays exact) or JPEG. Parts outside the image are padded black.
 */
export async function readRegion(source: ImageSource, facts: ImageFacts, rect: Rect, maxSide: number, as: 'png' | 'jpeg' = 'jpeg'): Promise<{ bytes: Buffer; outWidth: number; outHeight: number }> {
  const scale = Math.min(1, maxSide / Math.max(rect.width, rect.height))
  const outWidth = Math.max(1, Math.round(rect.width * scale))
  const outHeight = Math.max(1, Math.round(rect.height * scale))
  let img: sharp.Sharp
  if (rect.width * rect.height <= REGION_FULL_DECODE) {
    const raw = await cropRgb(source, facts, rect)
    img = sharp(raw, { raw: { width: rect.width, height: rect.height, channels: 3 } })
    if (scale < 1) img = img.resize(outWidth, outHeight, { fit: 'fill' })
  } else {
    const raw = await streamScaledRegion(source, facts, rect, outWidth, outHeight)
    img = sharp(raw, { raw: { width: outWidth, height: outHeight, channels: 3 } })
  }
  const bytes = as === 'png' ? await img.png({ compressionLevel: 6 }).toBuffer() : await img.jpeg({ quality: 88 }).toBuffer()
  return { bytes, outWidth, outHeight }
}

/**
 * A large region scaled to outWidth × outHeight in one libvips pipeline (crop → shrink): rows
 * stream through and are shrunk as they arrive, so the full-resolution region is never held
 * (a 30000 × 30000 PNG overview: about 1 s and ~150 MB instead of 11 s, 2.7 GB and a failure).
 * A whole-image JPEG request also shrinks on load. Past REGION_STREAM_LIMIT even that is refused.
 */
async function streamScaledRegion(source: ImageSource, facts: ImageFacts, rect: Rect, outWidth: number, outHeight: number): Promise<Buffer> {
  const pixels = rect.width * rect.height
  if (pixels > REGION_STREAM_LIMIT) {
    throw new Error(`the region ${rect.width}×${rect.height} (${Math.round(pixels / 1e6)} Mpx) is larger than the ${Math.round(REGION_STREAM_LIMIT / 1e6)} Mpx a region may decode; ask for a smaller region`)
  }
  const inside = intersectImage(rect, facts.width, facts.height)
  if (!inside) return Buffer.alloc(outWidth * outHeight * 3)
  const sx = outWidth / rect.width
  const sy = outHeight / rect.height
  const left = Math.round((inside.x - rect.x) * sx)
  const top = Math.round((inside.y - rect.y) * sy)
  const w = Math.max(1, Math.min(outWidth - left, Math.round(inside.width * sx)))
  const h = Math.max(1, Math.min(outHeight - top, Math.round(inside.height * sy)))
  let img = sharp(source, { limitInputPixels: PIXEL_LIMIT, failOn: 'error', sequentialRead: true })
  const whole = inside.x === 0 && inside.y === 0 && inside.width === facts.width && inside.height === facts.height
  if (!whole) img = img.extract({ left: inside.x, top: inside.y, width: inside.width, height: inside.height })
  img = img.resize(w, h, { fit: 'fill' }).removeAlpha()
  if (left || top || w !== outWidth || h !== outHeight) img = img.extend({ top, left, bottom: outHeight - top - h, right: outWidth - left - w, background: { r: 0, g: 0, b: 0 } })
  const { data, info } = await img.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  if (info.channels === 3) return data
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 } }).removeAlpha().toColourspace('srgb').raw().toBuffer()
}

/**
 * The RGB pixels of a rectangle (rect.width × rect.height × 3), black outside the image. Greyscale
 * becomes three identical channels and alpha is dropped, as the RGB pipeline expects; 16-bit
 * data is scaled to 8 bits.
 */
export async function cropRgb(source: ImageSource, facts: ImageFacts, rect: Rect): Promise<Buffer> {
  const inside = intersectImage(rect, facts.width, facts.height)
  if (!inside) return Buffer.alloc(rect.width * rect.height * 3)
  let img = open(source).extract({ left: inside.x, top: inside.y, width: inside.width, height: inside.height }).removeAlpha()
  const pad = { top: inside.y - rect.y, left: inside.x - rect.x, bottom: rect.y + rect.height - inside.y - inside.height, right: rect.x + rect.width - inside.x - inside.width }
  if (pad.top || pad.left || pad.bottom || pad.right) img = img.extend({ ...pad, background: { r: 0, g: 0, b: 0 } })
  const { data, info } = await img.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  if (info.channels === 3) return data
  // Defensive: collapse anything else to RGB.
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 } }).removeAlpha().toColourspace('srgb').raw().toBuffer()
}

/** Rows [y, y + height) of the image as RGB: one decode serves a whole row of grid tiles. */
export async function readBand(source: ImageSource, facts: ImageFacts, y: number, height: number): Promise<Buffer> {
  return cropRgb(source, facts, { x: 0, y, width: facts.width, height })
}

/** Copies a rectangle out of an RGB band that starts at row `bandY` (padding black outside). */
export function cutFromBand(band: Buffer, bandWidth: number, bandY: number, bandHeight: number, rect: Rect): Buffer {
  const out = Buffer.alloc(rect.width * rect.height * 3)
  for (let row = 0; row < rect.height; row++) {
    const sy = rect.y + row - bandY
    if (sy < 0 || sy >= bandHeight) continue
    const x0 = Math.max(0, rect.x)
    const x1 = Math.min(bandWidth, rect.x + rect.width)
    if (x1 <= x0) continue
    band.copy(out, (row * rect.width + (x0 - rect.x)) * 3, (sy * bandWidth + x0) * 3, (sy * bandWidth + x1) * 3)
  }
  return out
}

/** Thumbnail and statistics of a tile's RGB pixels. */
export async function tilePreview(rgb: Buffer, width: number, height: number, sourceChannels: number): Promise<Preview> {
  // Statistics on a ≤64 px version: enough for the hash and the colour check, and fast.
  const scale = Math.min(1, 64 / Math.max(width, height))
  let small = rgb
  let sw = width
  let sh = height
  if (scale < 1) {
    sw = Math.max(1, Math.round(width * scale))
    sh = Math.max(1, Math.round(height * scale))
    small = await sharp(rgb, { raw: { width, height, channels: 3 } }).resize(sw, sh, { fit: 'fill' }).raw().toBuffer()
  }
  return { thumbnail: await thumbnailFromRaw(rgb, width, height, 3, 128), stats: statsOf(small, sw, sh, 3, sourceChannels) }
}

/** A tile as an 8-bit RGB JPEG for exports (deterministic for the same pixels and libvips). */
export function encodeTileJpeg(rgb: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
}

/** A one-channel mask as an 8-bit greyscale PNG. */
export function encodeMaskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 9, palette: false })
    .toBuffer()
}

export function dataUrl(bytes: Buffer, mime: 'image/jpeg' | 'image/png'): string {
  return `data:${mime};base64,${bytes.toString('base64')}`
}

/**
 * A PNG data URL of an image file, or of one rectangle of it, scaled to fit maxSide (never
 * enlarged): the enlarged views of classified images and of a backbone study's tiles.
 */
export async function previewPng(path: string, region: Rect | undefined, maxSide: number): Promise<string> {
  let img = sharp(path, { limitInputPixels: 2 ** 28 })
  if (region) img = img.extract({ left: region.x, top: region.y, width: region.width, height: region.height })
  const png = await img.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }).removeAlpha().png().toBuffer()
  return dataUrl(png, 'image/png')
}

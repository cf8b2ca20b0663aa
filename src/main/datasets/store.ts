// Where a dataset's pixels live: every imported file is also copied, once, into the data
// folder as `images/<sha256>.<ext>`, so a dataset (and every frozen version) survives its
// source folder moving or changing. The original path is kept for reference.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { IMAGE_EXTENSIONS } from './image-io'

export function storedNameFor(sha256: string, format: string): string {
  const ext = format === 'jpeg' ? 'jpg' : format === 'tiff' ? 'tif' : format
  return `${sha256}.${ext}`
}

export function storedPath(dataDir: string, storedName: string): string {
  return join(dataDir, 'images', storedName)
}

/** The file to read pixels from: the data-folder copy, else the original. */
export function pixelSource(dataDir: string, image: { storedName: string | null; path: string }): string {
  if (image.storedName) {
    const p = storedPath(dataDir, image.storedName)
    if (existsSync(p)) return p
  }
  if (existsSync(image.path)) return image.path
  throw new Error(`the pixels of ${image.path} are gone: neither the data-folder copy nor the original exists`)
}

/** Writes the copy atomically (temp file, then rename); content-addressed, so never twice. */
export async function storeCopy(dataDir: string, storedName: string, bytes: Buffer): Promise<void> {
  const target = storedPath(dataDir, storedName)
  if (existsSync(target)) return
  await mkdir(join(dataDir, 'images'), { recursive: true })
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`
  await writeFile(tmp, bytes)
  await rename(tmp, target)
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function isImageFile(path: string): boolean {
  return extname(path).toLowerCase() in IMAGE_EXTENSIONS
}

export interface WalkResult {
  images: string[]
  /** Files seen that are not images, with the reason they were left out. */
  skipped: { path: string; reason: string }[]
}

/** Image files under the given paths (files taken as given, folders walked), sorted. */
export async function collectImageFiles(paths: readonly string[], recursive: boolean, opts: { reportOthers?: boolean } = {}): Promise<WalkResult> {
  const images: string[] = []
  const skipped: WalkResult['skipped'] = []
  const visit = async (p: string, explicit: boolean): Promise<void> => {
    const info = await stat(p).catch(() => null)
    if (!info) return void skipped.push({ path: p, reason: 'does not exist' })
    if (info.isDirectory()) {
      if (!explicit && !recursive) return
      const entries = (await readdir(p)).sort()
      for (const name of entries) {
        if (name.startsWith('.')) continue
        await visit(join(p, name), false)
      }
      return
    }
    if (!info.isFile()) return void skipped.push({ path: p, reason: 'not a regular file' })
    if (isImageFile(p)) images.push(p)
    else if (explicit || opts.reportOthers) skipped.push({ path: p, reason: `unsupported file type (${extname(p) || 'no extension'}; JPEG, PNG and TIFF are imported)` })
  }
  for (const p of paths) await visit(p, true)
  return { images, skipped }
}

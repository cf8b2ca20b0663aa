// Where a dataset's pixels live: every imported file is also copied, once, into the data
// folder as `images/<sha256>.<ext>`, so a dataset (and every frozen version) survives its
// source folder moving or changing. The original path is kept for reference.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdirSync, unlinkSync } from 'node:fs'
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { ioErrorCode, ioReason } from '@shared/io-errors'
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
  try {
    await writeFile(tmp, bytes)
    await rename(tmp, target)
  } catch (err) {
    // A failed write (a full disk) must not leave its half-written temp file behind.
    await unlink(tmp).catch(() => {})
    throw err
  }
}

const TEMP_COPY = /^[0-9a-f]{64}\.\w+\.(\d+)\.\d+\.tmp$/

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return ioErrorCode(err) === 'EPERM' // exists, owned by someone else
  }
}

/**
 * Removes temp copies left by a process that died mid-write (SIGKILL, power cut). A temp file
 * whose writer is still running (another CLI or app on the same data folder) is left alone.
 */
export function sweepTempCopies(dataDir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(join(dataDir, 'images'))
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const m = TEMP_COPY.exec(name)
    if (!m || processAlive(Number(m[1]))) continue
    try {
      unlinkSync(join(dataDir, 'images', name))
      removed.push(name)
    } catch {
      // gone already, or not ours to remove: the next start tries again
    }
  }
  return removed
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
    let info
    try {
      info = await stat(p)
    } catch (err) {
      // ELOOP, EACCES, … are not "does not exist".
      return void skipped.push({ path: p, reason: ioReason(err, 'reading it') })
    }
    if (info.isDirectory()) {
      if (!explicit && !recursive) return
      let entries: Buffer[]
      try {
        entries = (await readdir(p, { encoding: 'buffer' })).sort(Buffer.compare)
      } catch (err) {
        return void skipped.push({ path: p, reason: ioReason(err, 'listing the folder') })
      }
      for (const raw of entries) {
        const name = raw.toString('utf8')
        if (name.startsWith('.')) continue
        // A name that is not UTF-8 cannot round-trip through a string path: say so, not "does not exist".
        if (!Buffer.from(name, 'utf8').equals(raw)) {
          skipped.push({ path: join(p, name), reason: `the file name is not valid UTF-8 (bytes ${raw.toString('hex')}): rename it to import it` })
          continue
        }
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

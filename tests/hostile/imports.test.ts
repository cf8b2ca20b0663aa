// The hostile-input corpus for imports, exports and files: generated bad images and bad
// annotations in every supported format, fed to the real import functions in-process on a real
// temporary ledger (and the CLI, spawned, for exit codes). Each case asserts a clear error that
// names the file or field, the ledger unchanged where nothing should come in (exactly the good
// rows where some are good), no temp file left behind, and bounded memory where it matters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { deflateSync, crc32 } from 'node:zlib'
import sharp from 'sharp'
import { createAppContext, type AppContext } from '@main/app/context'
import { importPaths } from '@main/services/datasets'
import { importFormat } from '@main/datasets/formats-import'
import { importExitCode } from '@main/cli/commands/dataset'
import { freeze } from '@main/datasets/versions'
import { exportVersion } from '@main/datasets/exporter'
import { storedPath } from '@main/datasets/store'
import { replaceAnnotations } from '@main/datasets/repository/annotations'
import { createDataset, getDataset } from '@main/datasets/repository/datasets'
import { listImages, type ImageRow } from '@main/datasets/repository/images'
import { setSplits, tileRows } from '@main/datasets/repository/tiles'
import { openLedger } from '@main/ledger/ledger'
import { ImportFormatRequest, ImportRequest, type ImportSummary } from '@shared/ipc/schemas/datasets'
import type { Geometry } from '@shared/datasets/geometry'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { expectClearError, expectLedgerUnchanged, ledgerSnapshot, listFiles, printTally, record, tempLeftovers, type LedgerSnapshot, type Outcome } from './harness'

let ctx: AppContext
let home: { dir: string; remove(): void }
let scratch: string
let ledgerFile: string
const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1/map-proj')
let landmarkNames: string[]
/** The planted "secret": file content an attacker would like echoed into an error message. */
const SECRET = 'TOP-SECRET-7f3a'

beforeAll(async () => {
  requireBuild()
  home = tempHome('marsfm-hostile-imports-')
  scratch = join(home.dir, 'scratch')
  mkdirSync(scratch)
  ledgerFile = join(home.dir, 'ledger.sqlite')
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, startEngine: false, engineEntry: ENGINE_ENTRY, echoLog: false })
  landmarkNames = readdirSync(LANDMARKS).filter((n) => n.endsWith('.jpg')).sort().slice(0, 80)
})
afterAll(async () => {
  await ctx?.close()
  home?.remove()
  printTally('imports.test.ts')
})

// --- helpers ------------------------------------------------------------------------------------

const deps = () => ({ db: ctx.ledger.db, dataDir: ctx.dataDir })
/** Bytes of the i-th real HiRISE landmark tile (227×227 greyscale JPEG). */
const real = (i: number) => readFileSync(join(LANDMARKS, landmarkNames[i]!))
let caseNo = 0

/** A fresh folder for one case, filled with the given files (Buffers or text). */
function tree(files: Record<string, string | Buffer> = {}): string {
  const dir = join(scratch, `case-${++caseNo}`)
  mkdirSync(dir, { recursive: true })
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), content)
  }
  return dir
}

function newDataset(): number {
  return createDataset(ctx.ledger.db, { name: `ds-${++caseNo}`, description: '', task: 'segmentation', classes: ['crater', 'no-crater'] })
}

const images = (datasetId: number, paths: string[]) => importPaths(deps(), ImportRequest.parse({ datasetId, paths }))
const format = (datasetId: number, req: Omit<ImportFormatRequest, 'datasetId' | 'boxesAsEllipses'> & { boxesAsEllipses?: boolean }) => importFormat(deps(), ImportFormatRequest.parse({ ...req, datasetId }))

/** Rows added per table since `before`. */
function added(before: LedgerSnapshot): Record<string, number> {
  const after = ledgerSnapshot(ledgerFile)
  expect(after.integrity).toBe('ok')
  const out: Record<string, number> = {}
  for (const t of ['images', 'tiles', 'annotations', 'labels']) out[t] = (after.counts[t] ?? 0) - (before.counts[t] ?? 0)
  return out
}

/** The one failure naming `name` (a path part), with a clear reason matching `reason`. */
function failure(summary: ImportSummary, name: string, reason: RegExp): string {
  const hits = summary.failed.filter((f) => f.path.includes(name) && reason.test(f.reason))
  expect(hits, `${name} ${reason} in ${JSON.stringify(summary.failed)}`).not.toHaveLength(0)
  const text = `${hits[0]!.path}: ${hits[0]!.reason}`
  expectClearError(text, { names: name, secret: SECRET })
  return hits[0]!.reason
}

/** A case: the body returns the outcome it established by its assertions. */
function hostile(category: string, name: string, body: () => Promise<Outcome>, opts: { skip?: boolean } = {}): void {
  it.skipIf(!!opts.skip)(`${category}: ${name}`, async () => {
    let outcome: Outcome = 'crash'
    try {
      outcome = await body()
    } finally {
      record(category, name, outcome)
    }
    expect(tempLeftovers(home.dir)).toEqual([])
  })
}

/** A bad input that must bring nothing in: a clear failure naming the file, ledger unchanged. */
function rejectsImage(name: string, fileName: string, content: () => Buffer | Promise<Buffer>, reason: RegExp): void {
  hostile('images', name, async () => {
    const dir = tree({ [fileName]: await content() })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    failure(summary, fileName, reason)
    expect(summary.imported).toBe(0)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
}

/** An odd but valid image that must come in as one image and one tile. */
function acceptsImage(name: string, fileName: string, content: () => Buffer | Promise<Buffer>, check?: (im: ImageRow) => void): void {
  hostile('images', name, async () => {
    const dir = tree({ [fileName]: await content() })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    expect(summary.failed).toEqual([])
    expect(summary.imported).toBe(1)
    expect(added(before)).toMatchObject({ images: 1, tiles: 1 })
    const [im] = listImages(ctx.ledger.db, id, 0, 10, false).rows
    check?.(im!)
    return 'handled'
  })
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** A PNG whose header declares w×h RGB pixels but whose data holds only `rows` rows. */
function hugePng(w: number, h: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr[8] = 8
  ihdr[9] = 2
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc((1 + w * 3) * rows))), pngChunk('IEND', Buffer.alloc(0))])
}

/** A baseline JPEG whose frame header claims w×h, with the scan data of a tiny picture. */
async function hugeJpeg(w: number, h: number): Promise<Buffer> {
  const small = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 90, g: 60, b: 40 } } }).jpeg().toBuffer())
  for (let i = 0; i < small.length - 9; i++) {
    if (small[i] === 0xff && (small[i + 1] === 0xc0 || small[i + 1] === 0xc2)) {
      small.writeUInt16BE(h, i + 5)
      small.writeUInt16BE(w, i + 7)
      return small
    }
  }
  throw new Error('no SOF marker')
}

/** A minimal uncompressed greyscale TIFF: w×h at `bits` per sample, with `data` as its one strip. */
function rawTiff(w: number, h: number, bits: 8 | 16, data: Buffer): Buffer {
  const entries: [number, number, number][] = [[256, 4, w], [257, 4, h], [258, 3, bits], [259, 3, 1], [262, 3, 1], [273, 4, 0], [277, 3, 1], [278, 4, h], [279, 4, data.length]]
  const head = Buffer.alloc(8 + 2 + 12 * entries.length + 4)
  head.write('II', 0, 'ascii')
  head.writeUInt16LE(42, 2)
  head.writeUInt32LE(8, 4)
  head.writeUInt16LE(entries.length, 8)
  entries.forEach(([tag, type, value], i) => {
    const o = 10 + 12 * i
    head.writeUInt16LE(tag, o)
    head.writeUInt16LE(type, o + 2)
    head.writeUInt32LE(1, o + 4)
    if (tag === 273) head.writeUInt32LE(head.length, o + 8)
    else if (type === 3) head.writeUInt16LE(value, o + 8)
    else head.writeUInt32LE(value, o + 8)
  })
  return Buffer.concat([head, data])
}

async function rssDuring<T>(work: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
  const start = process.memoryUsage().rss
  let peak = start
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
  try {
    const result = await work()
    peak = Math.max(peak, process.memoryUsage().rss)
    return { result, peakMiB: (peak - start) / 2 ** 20 }
  } finally {
    clearInterval(timer)
  }
}

// --- images ---------------------------------------------------------------------------------------

describe('bad images', () => {
  rejectsImage('truncated PNG', 'half.png', async () => {
    const png = await sharp(real(0)).png().toBuffer()
    return png.subarray(0, png.length >> 1)
  }, /not a readable image|could not be decoded/)
  rejectsImage('truncated JPEG (half the scan)', 'half.jpg', () => real(1).subarray(0, real(1).length >> 1), /premature end|not a readable image|could not be decoded/)
  rejectsImage('JPEG cut after its header', 'header-only.jpg', () => real(2).subarray(0, 300), /not a readable image|could not be decoded/)
  rejectsImage('PNG signature only', 'sig.png', () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /not a readable image/)
  rejectsImage('zero-byte .jpg', 'zero.jpg', () => Buffer.alloc(0), /empty file/)
  rejectsImage('zero-byte .png', 'zero.png', () => Buffer.alloc(0), /empty file/)
  rejectsImage('zero-byte .tif', 'zero.tif', () => Buffer.alloc(0), /empty file/)
  rejectsImage('text renamed .jpg', 'notes.jpg', () => Buffer.from(`${SECRET}\nthis is a text file\n`), /not a readable image/)
  rejectsImage('text renamed .png', 'notes.png', () => Buffer.from(`${SECRET} plain text`), /not a readable image/)
  rejectsImage('text renamed .tiff', 'notes.tiff', () => Buffer.from(`II*\0${SECRET}`), /not a readable image/)
  rejectsImage('HTML renamed .jpeg', 'page.jpeg', () => Buffer.from(`<html><script>alert(1)</script>${SECRET}</html>`), /not a readable image/)
  rejectsImage('random bytes .jpg', 'noise.jpg', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), /not a readable image/)
  rejectsImage('GIF renamed .png', 'anim.png', () => sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).gif().toBuffer(), /unsupported image format gif/)
  rejectsImage('animated WebP renamed .jpg', 'anim.jpg', async () => {
    const frame = { create: { width: 8, height: 8, channels: 3 as const, background: 'blue' } }
    return sharp([await sharp(frame).png().toBuffer(), await sharp({ ...frame, create: { ...frame.create, background: 'green' } }).png().toBuffer()], { join: { animated: true } }).webp().toBuffer()
  }, /unsupported image format webp/)
  rejectsImage('SVG renamed .png pointing at a local file', 'evil.png', () => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="8" height="8"><image xlink:href="file:///etc/passwd"/><!-- ${SECRET} --></svg>`), /unsupported image format svg|not a readable image/)
  rejectsImage('BMP renamed .png', 'old.png', () => {
    const b = Buffer.alloc(54 + 4 * 4)
    b.write('BM', 0, 'ascii')
    b.writeUInt32LE(b.length, 2)
    b.writeUInt32LE(54, 10)
    b.writeUInt32LE(40, 14)
    b.writeInt32LE(2, 18)
    b.writeInt32LE(2, 22)
    b.writeUInt16LE(1, 26)
    b.writeUInt16LE(24, 28)
    return b
  }, /not a readable image|unsupported image format/)
  rejectsImage('TIFF with a bogus directory offset', 'bogus.tif', () => {
    const b = Buffer.alloc(64)
    b.write('II', 0, 'ascii')
    b.writeUInt16LE(42, 2)
    b.writeUInt32LE(0x7ffffff0, 4)
    return b
  }, /not a readable image/)
  rejectsImage('PNG declaring 100000×100000 px in 700 bytes', 'bomb.png', () => hugePng(100_000, 100_000, 1), /not a readable image|exceeds pixel limit/)

  hostile('images', 'PNG declaring 60000×30000 px in a few hundred bytes: bounded memory', async () => {
    const dir = tree({ 'bomb-60k.png': hugePng(60_000, 30_000, 2) })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const { result, peakMiB } = await rssDuring(() => images(id, [dir]))
    failure(result, 'bomb-60k.png', /could not be decoded|not a readable image/)
    expect(peakMiB).toBeLessThan(512)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
  hostile('images', 'JPEG declaring 60000×60000 px with a 16 px scan: bounded memory', async () => {
    const dir = tree({ 'bomb.jpg': await hugeJpeg(60_000, 60_000) })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const { result, peakMiB } = await rssDuring(() => images(id, [dir]))
    failure(result, 'bomb.jpg', /could not be decoded|not a readable image|premature/)
    expect(peakMiB).toBeLessThan(512)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })

  hostile('images', 'corrupt JPEG segments are imported with a warning naming the file', async () => {
    const bytes = Buffer.from(real(3))
    for (let i = 800; i < 1400; i += 7) bytes[i] = 0xff
    const dir = tree({ 'damaged.jpg': bytes, 'fine.jpg': real(4) })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    expect(summary.imported).toBe(2)
    const note = summary.notes.find((n) => n.includes('damaged.jpg'))
    expect(note).toMatch(/damaged\.jpg: imported, but its image data is damaged \(corrupt JPEG data, filled in by the decoder/)
    expect(summary.notes.some((n) => n.includes('fine.jpg'))).toBe(false)
    expect(added(before)).toMatchObject({ images: 2, tiles: 2 })
    return 'handled'
  })

  hostile('images', 'TIFF declaring 60000×60000 px with 64 bytes of data: bounded memory', async () => {
    const dir = tree({ 'bomb.tif': rawTiff(60_000, 60_000, 8, Buffer.alloc(64)) })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const { result, peakMiB } = await rssDuring(() => images(id, [dir]))
    failure(result, 'bomb.tif', /could not be decoded|not a readable image/)
    expect(peakMiB).toBeLessThan(512)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
  acceptsImage('16-bit greyscale TIFF', 'grey16.tif', async () => {
    const { data, info } = await sharp(real(26)).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
    const px = Buffer.alloc(data.length * 2)
    data.forEach((v, i) => px.writeUInt16LE(v * 257, i * 2))
    return rawTiff(info.width, info.height, 16, px)
  }, (im) => expect([im.format, im.bitDepth, im.channels]).toEqual(['tiff', 16, 1]))
  acceptsImage('multi-page TIFF (first page)', 'pages.tif', () => sharp([real(27), real(28)], { join: { animated: true } }).tiff().toBuffer(), (im) => expect([im.width, im.height]).toEqual([227, 227]))
  acceptsImage('CMYK TIFF', 'cmyk.tif', () => sharp(real(29)).toColourspace('cmyk').tiff().toBuffer(), (im) => expect(im.format).toBe('tiff'))
  acceptsImage('JPEG with an EXIF orientation', 'rotated.jpg', () => sharp(real(30)).withMetadata({ orientation: 6 }).jpeg().toBuffer())
  acceptsImage('PNG with a .jpg extension (content decides)', 'really-png.jpg', () => sharp(real(5)).png().toBuffer(), (im) => expect([im.format, im.storedName?.endsWith('.png')]).toEqual(['png', true]))
  acceptsImage('JPEG with a .tif extension', 'really-jpeg.tif', () => real(6), (im) => expect(im.format).toBe('jpeg'))
  acceptsImage('16-bit greyscale PNG', 'grey16.png', () => sharp(real(7)).toColourspace('grey16').png().toBuffer(), (im) => expect([im.bitDepth, im.channels]).toEqual([16, 1]))
  acceptsImage('16-bit RGB PNG', 'rgb16.png', () => sharp(real(8)).toColourspace('rgb16').png().toBuffer(), (im) => expect(im.bitDepth).toBe(16))
  acceptsImage('CMYK JPEG', 'cmyk.jpg', () => sharp(real(9)).toColourspace('cmyk').jpeg().toBuffer(), (im) => expect(im.format).toBe('jpeg'))
  acceptsImage('animated PNG (first frame)', 'apng.png', async () => sharp(real(10)).png().toBuffer())
  acceptsImage('1×1 pixel PNG', 'dot.png', () => sharp({ create: { width: 1, height: 1, channels: 3, background: 'white' } }).png().toBuffer(), (im) => expect([im.width, im.height]).toEqual([1, 1]))
  acceptsImage('RGBA PNG with transparent pixels', 'alpha.png', () => sharp(real(11)).ensureAlpha(0.2).png().toBuffer(), (im) => expect(im.channels).toBe(4))
  acceptsImage('a 240-character file name', `${'x'.repeat(236)}.jpg`, () => real(12))
  acceptsImage('a file name with a newline and markup', 'cr\nater<b>.jpg', () => real(13), (im) => expect(im.fileName).toBe('cr\nater<b>.jpg'))
  acceptsImage('a file name with a tab and quotes', 'a\t"b".jpg', () => real(14))
  acceptsImage('a file name with Unicode', 'кратер-火星.jpg', () => real(15), (im) => expect(im.fileName).toBe('кратер-火星.jpg'))

  hostile('images', 'the same content twice in one batch: one image, one duplicate', async () => {
    const dir = tree({ 'a.jpg': real(16), 'b.jpg': real(16) })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    expect([summary.imported, summary.duplicates.length, summary.failed.length]).toEqual([1, 1, 0])
    expect(added(before)).toMatchObject({ images: 1, tiles: 1 })
    return 'handled'
  })
  hostile('images', 'bad files among good ones: exactly the good rows', async () => {
    const dir = tree({ 'g1.jpg': real(17), 'g2.jpg': real(18), 'bad.jpg': Buffer.from('nope'), 'empty.png': Buffer.alloc(0), 'readme.txt': 'x' })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    expect(summary.imported).toBe(2)
    failure(summary, 'bad.jpg', /not a readable image/)
    failure(summary, 'empty.png', /empty file/)
    failure(summary, 'readme.txt', /unsupported file type/)
    expect(summary.notes).toContain('3 of 5 files failed')
    expect(added(before)).toEqual({ images: 2, tiles: 2, annotations: 0, labels: 0 })
    expect(importExitCode(summary)).toBe(3)
    return 'clear-error'
  })
})

// --- files: names, links, special files, missing paths -------------------------------------------

describe('bad files and paths', () => {
  hostile('files', 'a file name that is not UTF-8 is reported as such, not as missing', async () => {
    const dir = tree({ 'good.jpg': real(19) })
    const raw = Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('.jpg')])
    writeFileSync(raw, real(20))
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    const reason = failure(summary, 'bad-', /not valid UTF-8.*rename it/)
    expect(reason).not.toMatch(/does not exist/)
    expect(added(before)).toMatchObject({ images: 1 })
    return 'clear-error'
  })
  hostile('files', 'a symbolic link loop named .jpg', async () => {
    const dir = tree({ 'good.jpg': real(21) })
    symlinkSync(join(dir, 'loop-b.jpg'), join(dir, 'loop-a.jpg'))
    symlinkSync(join(dir, 'loop-a.jpg'), join(dir, 'loop-b.jpg'))
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await images(id, [dir])
    failure(summary, 'loop-a.jpg', /symbolic link loop/)
    failure(summary, 'loop-b.jpg', /symbolic link loop/)
    expect(added(before)).toMatchObject({ images: 1 })
    return 'clear-error'
  })
  hostile('files', 'a symbolic link loop given as the import path (IPC)', async () => {
    const dir = tree()
    symlinkSync(join(dir, 'l2'), join(dir, 'l1'))
    symlinkSync(join(dir, 'l1'), join(dir, 'l2'))
    const id = newDataset()
    const env = await ctx.router.dispatch('datasets:import', { datasetId: id, paths: [join(dir, 'l1')] })
    expect(env.ok).toBe(false)
    const message = (env as { error: { message: string } }).error.message
    expect(message).toContain(`symbolic link loop at ${join(dir, 'l1')}`)
    expectClearError(message, { names: 'l1' })
    return 'clear-error'
  })
  hostile('files', 'a symbolic link loop given to a format import', async () => {
    const dir = tree()
    symlinkSync(join(dir, 'c2.json'), join(dir, 'c1.json'))
    symlinkSync(join(dir, 'c1.json'), join(dir, 'c2.json'))
    await expect(format(newDataset(), { format: 'coco', path: join(dir, 'c1.json') })).rejects.toThrow(`symbolic link loop at ${join(dir, 'c1.json')}`)
    return 'clear-error'
  })
  hostile('files', 'a checkpoint that is a symbolic link loop is named as such, not "not found"', async () => {
    const dir = tree()
    symlinkSync(join(dir, 'b.pt'), join(dir, 'a.pt'))
    symlinkSync(join(dir, 'a.pt'), join(dir, 'b.pt'))
    const env = await ctx.router.dispatch('models:import', { path: join(dir, 'a.pt') })
    expect(env.ok).toBe(false)
    const message = (env as { error: { message: string } }).error.message
    expect(message).toBe(`checkpoint: symbolic link loop at ${join(dir, 'a.pt')}`)
    const missing = await ctx.router.dispatch('models:import', { path: join(dir, 'none.pt') })
    expect((missing as { error: { message: string } }).error.message).toBe(`checkpoint not found: ${join(dir, 'none.pt')}`)
    return 'clear-error'
  })
  hostile('files', 'a dangling symbolic link named .png', async () => {
    const dir = tree({ 'good.jpg': real(22) })
    symlinkSync(join(dir, 'gone.png'), join(dir, 'dangling.png'))
    const summary = await images(newDataset(), [dir])
    failure(summary, 'dangling.png', /does not exist/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('files', 'a symbolic link to a text file outside, named .jpg', async () => {
    const dir = tree({ 'good.jpg': real(23) })
    const outside = tree({ 'secret.txt': SECRET })
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.jpg'))
    const summary = await images(newDataset(), [dir])
    failure(summary, 'link.jpg', /not a readable image/)
    return 'clear-error'
  })
  hostile('files', 'a folder named x.jpg is walked, not read as an image', async () => {
    const dir = tree({ 'x.jpg/inner.jpg': real(24), 'y.png/.keep': '' })
    const summary = await images(newDataset(), [dir])
    expect([summary.imported, summary.failed.length]).toEqual([1, 0])
    return 'handled'
  })
  hostile('files', 'a named pipe named .jpg does not hang the import', async () => {
    const dir = tree({ 'good.jpg': real(25) })
    execFileSync('mkfifo', [join(dir, 'pipe.jpg')])
    const summary = await images(newDataset(), [dir])
    failure(summary, 'pipe.jpg', /not a regular file/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('files', 'a missing path through IPC is refused, naming it', async () => {
    const missing = join(scratch, 'no-such-folder')
    const env = await ctx.router.dispatch('datasets:import', { datasetId: newDataset(), paths: [missing] })
    expect(env.ok).toBe(false)
    expectClearError((env as { error: { message: string } }).error.message, { names: missing })
    return 'clear-error'
  })
  hostile('files', 'an empty folder warns: no images found', async () => {
    const dir = tree()
    const summary = await images(newDataset(), [dir])
    expect(summary.scanned).toBe(0)
    expect(summary.notes).toContain(`no images found in ${dir}`)
    expect(importExitCode(summary)).toBe(1)
    return 'clear-error'
  })
  hostile('files', 'a folder of only non-images lists each', async () => {
    const dir = tree({ 'a.txt': 'x', 'b.csv': 'y', 'c': 'z' })
    const summary = await images(newDataset(), [dir])
    for (const n of ['a.txt', 'b.csv']) failure(summary, n, /unsupported file type/)
    failure(summary, '/c', /no extension/)
    expect(importExitCode(summary)).toBe(1)
    return 'clear-error'
  })
})

// --- COCO -----------------------------------------------------------------------------------------

const square = (x: number, y: number, s: number) => [x, y, x + s, y, x + s, y + s, x, y + s]

/** JSON with `"1e999"`-style strings written as bare numbers (JSON.stringify writes Infinity as null). */
function jsonWithHuge(doc: unknown): string {
  return JSON.stringify(doc).replace(/"(-?1e999)"/g, '$1')
}

/** A Roboflow-style folder: images and `_annotations.coco.json` (`doc` as text or an object). */
function cocoFolder(imageFiles: Record<string, Buffer>, doc: unknown): string {
  return tree({ ...imageFiles, '_annotations.coco.json': typeof doc === 'string' ? doc : jsonWithHuge(doc) })
}

function cocoDoc(annotations: unknown[], extra: Record<string, unknown> = {}) {
  return {
    images: [
      { id: 1, file_name: 'a.jpg', width: 227, height: 227 },
      { id: 2, file_name: 'b.jpg', width: 227, height: 227 }
    ],
    categories: [{ id: 1, name: 'crater' }],
    annotations,
    ...extra
  }
}

const goodAnn = (id: number, imageId = 1) => ({ id, image_id: imageId, category_id: 1, segmentation: [square(10, 10, 40)], bbox: [10, 10, 40, 40] })

/** A COCO file that must be refused whole: the file named, nothing imported. */
function rejectsCoco(name: string, doc: () => unknown, reason: RegExp): void {
  hostile('coco', name, async () => {
    const dir = cocoFolder({ 'a.jpg': real(30), 'b.jpg': real(31) }, doc())
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: dir })
    failure(summary, '_annotations.coco.json', reason)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
}

/** A COCO file with bad annotations among good ones: the bad skipped and named, the good in. */
function skipsCocoAnnotations(name: string, bad: unknown[], reason: RegExp, expectShapes = 1, extra: Record<string, unknown> = {}): void {
  hostile('coco', name, async () => {
    const dir = cocoFolder({ 'a.jpg': real(32), 'b.jpg': real(33) }, cocoDoc([goodAnn(1), ...bad], extra))
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: dir })
    failure(summary, '_annotations.coco.json', reason)
    expect(summary.imported).toBe(2)
    expect(added(before)).toMatchObject({ images: 2, tiles: 2, annotations: expectShapes })
    // What got in keeps the contract: it can be frozen and exported.
    const v = freeze(ctx.ledger.db, id, '')
    const out = join(scratch, `export-${++caseNo}`)
    await exportVersion(deps(), { versionId: v.version.id, format: 'coco', outDir: out, mask: { mode: 'filled', width: 5 } })
    return 'clear-error'
  })
}

describe('COCO', () => {
  rejectsCoco('not JSON', () => '{ "images": [ oops', /not valid JSON/)
  rejectsCoco('empty file', () => '', /not valid JSON/)
  rejectsCoco('NaN literal', () => '{"images":[],"annotations":[{"bbox":[NaN,1,2,3]}],"categories":[]}', /not valid JSON/)
  rejectsCoco('Infinity literal', () => '{"images":[],"annotations":[],"categories":[],"x":Infinity}', /not valid JSON/)
  rejectsCoco('top level is an array', () => [cocoDoc([])], /top level is not a JSON object/)
  rejectsCoco('top level is a string', () => JSON.stringify(SECRET), /top level is not a JSON object/)
  rejectsCoco('"images" is an object', () => ({ ...cocoDoc([]), images: { 1: 'a.jpg' } }), /"images" is missing or not an array/)
  rejectsCoco('"annotations" missing', () => ({ images: [], categories: [] }), /"annotations" is missing/)
  rejectsCoco('category id is a string', () => ({ ...cocoDoc([]), categories: [{ id: '1', name: 'crater' }] }), /categories\[0\] needs a numeric "id"/)
  rejectsCoco('image without file_name', () => ({ ...cocoDoc([]), images: [{ id: 1, width: 1, height: 1 }] }), /images\[0\] \(id 1\) has no "file_name"/)
  rejectsCoco('image width is a string', () => ({ ...cocoDoc([]), images: [{ id: 1, file_name: 'a.jpg', width: '227', height: 227 }] }), /no numeric "width"/)
  rejectsCoco('an images entry that is a number', () => ({ ...cocoDoc([]), images: [7] }), /images\[0\] is not an object/)
  rejectsCoco('an annotation that is null', () => cocoDoc([null]), /annotations\[0\] is not an object/)
  rejectsCoco('duplicate image ids', () => ({ ...cocoDoc([]), images: [{ id: 1, file_name: 'a.jpg', width: 1, height: 1 }, { id: 1, file_name: 'b.jpg', width: 1, height: 1 }] }), /image id 1 appears twice/)
  rejectsCoco('annotation refers to a missing image', () => cocoDoc([{ ...goodAnn(1), image_id: 99 }]), /image_id 99, which is not in "images"/)
  rejectsCoco('annotation refers to a missing category', () => cocoDoc([{ ...goodAnn(1), category_id: 7 }]), /category_id 7, which is not in "categories"/)
  rejectsCoco('image_id is a string', () => cocoDoc([{ ...goodAnn(1), image_id: '1' }]), /no numeric "image_id"/)
  rejectsCoco('RLE segmentation', () => cocoDoc([{ ...goodAnn(1), segmentation: { counts: [1, 2], size: [2, 2] } }]), /RLE segmentation is not supported/)
  rejectsCoco('segmentation with strings', () => cocoDoc([{ ...goodAnn(1), segmentation: [['1', '2', '3', '4', '5', '6']] }]), /segmentation\[0\] must be a flat list/)
  rejectsCoco('segmentation of two points', () => cocoDoc([{ ...goodAnn(1), segmentation: [[1, 2, 3, 4]] }]), /at least 3 x,y/)
  rejectsCoco('segmentation with an odd count', () => cocoDoc([{ ...goodAnn(1), segmentation: [[1, 2, 3, 4, 5, 6, 7]] }]), /flat list/)
  rejectsCoco('bbox of three numbers', () => cocoDoc([{ id: 1, image_id: 1, category_id: 1, bbox: [1, 2, 3] }]), /"bbox" must be \[x, y, width, height\]/)
  rejectsCoco('bbox with null', () => cocoDoc([{ id: 1, image_id: 1, category_id: 1, bbox: [1, null, 3, 4] }]), /"bbox" must be/)
  rejectsCoco('annotation with neither shape', () => cocoDoc([{ id: 1, image_id: 1, category_id: 1 }]), /neither a segmentation nor a bbox/)
  rejectsCoco('100,000 nested arrays as segmentation', () => `{"images":[{"id":1,"file_name":"a.jpg","width":1,"height":1}],"categories":[{"id":1,"name":"crater"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"segmentation":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`, /must be a flat list|not valid JSON/)

  skipsCocoAnnotations('a polygon of 200,000 points', [{ id: 2, image_id: 1, category_id: 1, segmentation: [Array.from({ length: 400_000 }, (_, i) => (i % 2 ? 50 + 40 * Math.sin(i) : 50 + 40 * Math.cos(i)))] }], /annotation id 2 skipped: the polygon has 200000 points \(at most 10,000\)/)
  skipsCocoAnnotations('a polygon coordinate of 1e999', [{ id: 2, image_id: 1, category_id: 1, segmentation: [['1e999', 1, 5, 1, 5, 5]] }], /annotation id 2 skipped: a polygon point is not a finite number/)
  skipsCocoAnnotations('a box [1e999, 10, -40, 0]', [{ id: 2, image_id: 1, category_id: 1, bbox: ['1e999', 10, -40, 0] }], /annotation id 2 skipped: a box coordinate is not a finite number/)
  skipsCocoAnnotations('a box [-100, -100, -5, -5]', [{ id: 2, image_id: 2, category_id: 1, bbox: [-100, -100, -5, -5] }], /annotation id 2 skipped: the box has a width or height that is not positive/)
  skipsCocoAnnotations('a box of zero width', [{ id: 2, image_id: 2, category_id: 1, bbox: [1, 1, 0, 5] }], /annotation id 2 skipped: the box has a width or height that is not positive/)
  skipsCocoAnnotations('one bad polygon among three of one annotation', [{ id: 2, image_id: 2, category_id: 1, segmentation: [square(1, 1, 5), [1, 1, '-1e999', 2, 3, 3], square(20, 20, 5)] }], /annotation id 2 \(polygon 2\) skipped: a polygon point is not a finite number/, 3)
  skipsCocoAnnotations(
    'a category named <script>alert(1)</script> ../x',
    [{ id: 2, image_id: 2, category_id: 9, bbox: [1, 1, 5, 5] }, { id: 3, image_id: 2, category_id: 9, bbox: [2, 2, 5, 5] }],
    /category id 9: its class name is not usable .*its 2 annotation\(s\) skipped \(ids 2, 3\)/,
    1,
    { categories: [{ id: 1, name: 'crater' }, { id: 9, name: '<script>alert(1)</script> ../x' }] }
  )
  skipsCocoAnnotations('a category name with control characters', [{ id: 2, image_id: 2, category_id: 5, bbox: [1, 1, 5, 5] }], /category id 5: its class name is not usable/, 1, { categories: [{ id: 1, name: 'crater' }, { id: 5, name: 'cra\u0000ter\u001b[31m' }] })
  skipsCocoAnnotations('a category name of 300 characters', [{ id: 2, image_id: 2, category_id: 5, bbox: [1, 1, 5, 5] }], /category id 5: its class name is not usable/, 1, { categories: [{ id: 1, name: 'crater' }, { id: 5, name: 'c'.repeat(300) }] })
  skipsCocoAnnotations('an empty category name', [{ id: 2, image_id: 2, category_id: 5, bbox: [1, 1, 5, 5] }], /category id 5: its class name is not usable/, 1, { categories: [{ id: 1, name: 'crater' }, { id: 5, name: '' }] })

  hostile('coco', 'the markup category never reaches the dataset classes', async () => {
    const doc = cocoDoc([goodAnn(1), { id: 2, image_id: 2, category_id: 9, bbox: [1, 1, 5, 5] }], { categories: [{ id: 1, name: 'Crater' }, { id: 9, name: '<script>alert(1)</script> ../x' }] })
    const id = newDataset()
    await format(id, { format: 'coco', path: cocoFolder({ 'a.jpg': real(34), 'b.jpg': real(35) }, doc) })
    const shapes = ctx.ledger.db.prepare('SELECT DISTINCT a.class_name AS c FROM annotations a JOIN tiles t ON t.id = a.tile_id WHERE t.dataset_id = ?').all(id) as { c: string }[]
    expect(shapes.map((s) => s.c)).toEqual(['crater'])
    expect(getDataset(ctx.ledger.db, id).classes).toEqual(['crater', 'no-crater'])
    return 'clear-error'
  })

  hostile('coco', 'file_name with ../ imports nothing from outside the folder', async () => {
    const parent = tree({ 'outside.jpg': real(36) })
    const dir = join(parent, 'export')
    mkdirSync(dir)
    writeFileSync(join(dir, 'a.jpg'), real(37))
    writeFileSync(join(dir, '_annotations.coco.json'), JSON.stringify({ ...cocoDoc([goodAnn(1), goodAnn(2, 2)]), images: [{ id: 1, file_name: 'a.jpg', width: 227, height: 227 }, { id: 2, file_name: '../outside.jpg', width: 227, height: 227 }] }))
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: dir })
    failure(summary, '_annotations.coco.json', /image id 2 skipped with its annotations: its "file_name" points outside/)
    expect(added(before)).toMatchObject({ images: 1, annotations: 1 })
    expect(listImages(ctx.ledger.db, id, 0, 10, false).rows.map((r) => r.fileName)).toEqual(['a.jpg'])
    return 'clear-error'
  })
  hostile('coco', 'an absolute file_name imports nothing', async () => {
    const doc = { ...cocoDoc([goodAnn(1)]), images: [{ id: 1, file_name: '/etc/passwd', width: 1, height: 1 }] }
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: cocoFolder({}, doc) })
    failure(summary, '_annotations.coco.json', /image id 1 skipped.*points outside/)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
  hostile('coco', 'a file_name with a NUL byte imports nothing', async () => {
    const doc = { ...cocoDoc([]), images: [{ id: 1, file_name: 'a.jpg\u0000.png', width: 1, height: 1 }] }
    const summary = await format(newDataset(), { format: 'coco', path: cocoFolder({ 'a.jpg': real(38) }, doc) })
    failure(summary, '_annotations.coco.json', /image id 1 skipped/)
    expect(summary.imported).toBe(0)
    return 'clear-error'
  })
  hostile('coco', 'an image listed but missing: the others come in', async () => {
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: cocoFolder({ 'a.jpg': real(39) }, cocoDoc([goodAnn(1), goodAnn(2, 2)])) })
    failure(summary, 'b.jpg', /cannot read the file: does not exist/)
    expect(added(before)).toMatchObject({ images: 1, annotations: 1 })
    return 'clear-error'
  })
  hostile('coco', 'a listed image that is a text file', async () => {
    const summary = await format(newDataset(), { format: 'coco', path: cocoFolder({ 'a.jpg': real(40), 'b.jpg': Buffer.from(SECRET) }, cocoDoc([goodAnn(1), goodAnn(2, 2)])) })
    failure(summary, 'b.jpg', /not a readable image/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('coco', 'duplicate annotation ids are two shapes, both kept', async () => {
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: cocoFolder({ 'a.jpg': real(41), 'b.jpg': real(42) }, cocoDoc([goodAnn(1), goodAnn(1)])) })
    expect(summary.failed).toEqual([])
    expect(added(before)).toMatchObject({ annotations: 2 })
    return 'handled'
  })
  hostile('coco', 'more than 5,000 shapes on one image: the rest skipped and counted', async () => {
    const anns = Array.from({ length: 5_003 }, (_, i) => ({ id: i + 1, image_id: 1, category_id: 1, bbox: [i % 200, i % 200, 5, 5] }))
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: cocoFolder({ 'a.jpg': real(43), 'b.jpg': real(44) }, cocoDoc(anns)) })
    failure(summary, 'a.jpg', /3 of its 5003 shapes by coco skipped: at most 5000/)
    expect(added(before)).toMatchObject({ annotations: 5000 })
    return 'clear-error'
  })
  hostile('coco', 'one broken split among good ones: the good split comes in', async () => {
    const dir = tree({
      'train/a.jpg': real(45),
      'train/_annotations.coco.json': JSON.stringify({ ...cocoDoc([goodAnn(1)]), images: [{ id: 1, file_name: 'a.jpg', width: 227, height: 227 }] }),
      'valid/b.jpg': real(46),
      'valid/_annotations.coco.json': '{"images": ['
    })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: dir })
    failure(summary, 'valid/_annotations.coco.json', /not valid JSON/)
    expect(added(before)).toMatchObject({ images: 1, annotations: 1 })
    expect(importExitCode(summary)).toBe(3)
    return 'clear-error'
  })
  hostile('coco', 'an annotation file larger than 256 MiB is refused before reading', async () => {
    const dir = tree()
    const f = join(dir, '_annotations.coco.json')
    writeFileSync(f, '')
    truncateSync(f, 300 * 2 ** 20) // sparse: no disk used
    const { result, peakMiB } = await rssDuring(() => format(newDataset(), { format: 'coco', path: dir }))
    failure(result, '_annotations.coco.json', /300 MiB, larger than an annotation file can be/)
    expect(peakMiB).toBeLessThan(128)
    return 'clear-error'
  })
  hostile('coco', '_annotations.coco.json that is a folder', async () => {
    const dir = tree({ '_annotations.coco.json/x': 'y' })
    const summary = await format(newDataset(), { format: 'coco', path: dir })
    failure(summary, '_annotations.coco.json', /not a regular file/)
    return 'clear-error'
  })
  hostile('coco', 'a folder without any COCO file', async () => {
    const dir = tree({ 'a.jpg': real(47) })
    await expect(format(newDataset(), { format: 'coco', path: dir })).rejects.toThrow(`no _annotations.coco.json in ${dir}`)
    return 'clear-error'
  })
  hostile('coco', 'no annotations at all: images come in unannotated', async () => {
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'coco', path: cocoFolder({ 'a.jpg': real(48), 'b.jpg': real(49) }, cocoDoc([])) })
    expect([summary.imported, summary.failed.length]).toEqual([2, 0])
    expect(added(before)).toMatchObject({ images: 2, annotations: 0 })
    return 'handled'
  })
})

// --- YOLO -----------------------------------------------------------------------------------------

/** A YOLO folder with a good pair and one bad label file: the bad one named, the good one in. */
function yoloCase(name: string, label: string | Buffer, reason: RegExp, outcome: Outcome = 'clear-error'): void {
  hostile('yolo', name, async () => {
    const dir = tree({ 'images/good.jpg': real(50), 'labels/good.txt': '0 0.5 0.5 0.2 0.2\n', 'images/bad.jpg': real(51), 'labels/bad.txt': label })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'yolo', path: dir })
    failure(summary, 'bad.txt', reason)
    expect(summary.imported).toBe(1)
    expect(added(before)).toMatchObject({ images: 1, annotations: 1 })
    return outcome
  })
}

describe('YOLO', () => {
  yoloCase('four fields', '0 0.5 0.5 0.2', /line 1: expected "class cx cy w h" \(5 fields\), got 4/)
  yoloCase('six fields', '0 0.5 0.5 0.2 0.2 0.9', /5 fields/)
  yoloCase('nan', '0 nan 0.5 0.2 0.2', /line 1: cx is not a number in \[0, 1\]/)
  yoloCase('NaN', '0 0.5 NaN 0.2 0.2', /cy .* not a number in \[0, 1\]/)
  yoloCase('Infinity', '0 0.5 0.5 Infinity 0.2', /w .* not a number in \[0, 1\]/)
  yoloCase('1e999', '0 0.5 0.5 0.2 1e999', /h .* not a number in \[0, 1\]/)
  yoloCase('a negative width', '0 0.5 0.5 -0.2 0.2', /w .* not a number in \[0, 1\]/)
  yoloCase('a zero height', '0 0.5 0.5 0.2 0', /empty box/)
  yoloCase('class -1', '-1 0.5 0.5 0.2 0.2', /line 1: the class is not a non-negative integer/)
  yoloCase('class 1.5', '1.5 0.5 0.5 0.2 0.2', /line 1: the class is not a non-negative integer/)
  yoloCase('class 1e999', '1e999 0.5 0.5 0.2 0.2', /line 1: the class is not a non-negative integer/)
  yoloCase('binary garbage', Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 10, 0x80, 0x81]), /line 1/)
  yoloCase('one line of 200,000 fields', `0 ${'0.5 '.repeat(200_000)}`, /5 fields\), got 200001/)
  yoloCase('the second line bad', '0 0.5 0.5 0.2 0.2\n0 2 0.5 0.2 0.2\n', /line 2: cx/)
  yoloCase('a control character in a line', '0 0.5 0.5 0.2 0.2\u0007', /line 1/)
  hostile('yolo', 'a label file that is a folder', async () => {
    const dir = tree({ 'images/good.jpg': real(52), 'labels/good.txt': '0 0.5 0.5 0.2 0.2', 'images/bad.jpg': real(53), 'labels/bad.txt/x': '' })
    const summary = await format(newDataset(), { format: 'yolo', path: dir })
    failure(summary, 'bad.txt', /not a regular file/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('yolo', 'a text file renamed .jpg beside its labels', async () => {
    const dir = tree({ 'images/good.jpg': real(54), 'labels/good.txt': '0 0.5 0.5 0.2 0.2', 'images/fake.jpg': SECRET, 'labels/fake.txt': '0 0.5 0.5 0.2 0.2' })
    const summary = await format(newDataset(), { format: 'yolo', path: dir })
    failure(summary, 'fake.jpg', /not a readable image/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('yolo', '6,000 boxes for one image: capped at 5,000, named', async () => {
    const lines = Array.from({ length: 6_000 }, (_, i) => `0 ${(0.1 + (i % 80) / 100).toFixed(3)} 0.5 0.01 0.01`).join('\n')
    const dir = tree({ 'images/many.jpg': real(55), 'labels/many.txt': lines })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'yolo', path: dir })
    failure(summary, 'many.jpg', /1000 of its 6000 shapes by yolo skipped/)
    expect(added(before)).toMatchObject({ images: 1, annotations: 5000 })
    return 'clear-error'
  })
  hostile('yolo', 'CRLF lines and comments are read', async () => {
    const dir = tree({ 'images/a.jpg': real(56), 'labels/a.txt': '# boxes\r\n0 0.5 0.5 0.2 0.2\r\n\r\n' })
    const summary = await format(newDataset(), { format: 'yolo', path: dir })
    expect([summary.imported, summary.annotationsAdded, summary.failed.length]).toEqual([1, 1, 0])
    return 'handled'
  })
})

// --- Pascal VOC -----------------------------------------------------------------------------------

const vocXml = (filename: string, objects: string) => `<annotation><filename>${filename}</filename>${objects}</annotation>`
const vocObject = (name: string, [x0, y0, x1, y1]: (number | string)[]) => `<object><name>${name}</name><bndbox><xmin>${x0}</xmin><ymin>${y0}</ymin><xmax>${x1}</xmax><ymax>${y1}</ymax></bndbox></object>`

/** Two VOC files, one good and one bad: the good image comes in, the bad file is named. */
function vocCase(name: string, bad: string | Buffer, reason: RegExp): void {
  hostile('voc', name, async () => {
    const dir = tree({ 'good.jpg': real(60), 'good.xml': vocXml('good.jpg', vocObject('crater', [10, 10, 50, 50])), 'bad.jpg': real(61), 'bad.xml': bad })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'voc', path: dir })
    failure(summary, 'bad.xml', reason)
    expect(summary.imported).toBe(1)
    expect(added(before)).toMatchObject({ images: 1, annotations: 1 })
    return 'clear-error'
  })
}

describe('Pascal VOC', () => {
  vocCase('a character reference past U+10FFFF', vocXml('bad.jpg', vocObject('cra&#x110000;ter', [1, 1, 9, 9])), /a character reference is not a valid XML character at line 1/)
  vocCase('a character reference to NUL', vocXml('bad.jpg', vocObject('&#0;', [1, 1, 9, 9])), /not a valid XML character/)
  vocCase('a decimal reference of 99999999999', vocXml('bad&#99999999999;.jpg', ''), /not a valid XML character/)
  vocCase('200,000 nested elements', `<annotation><filename>bad.jpg</filename>${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</annotation>`, /nested deeper than 256 levels/)
  vocCase('a DOCTYPE with an external entity', `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>${vocXml('bad.jpg', vocObject('&e;', [1, 1, 9, 9]))}`, /DOCTYPE declarations are not accepted/)
  vocCase('an unknown entity', vocXml('bad.jpg', vocObject('&secret;', [1, 1, 9, 9])), /unknown entity/)
  vocCase('binary content', Buffer.from([0, 1, 2, 0xff, 0xfe, 60, 0x80]), /not well-formed XML/)
  vocCase('UTF-16 with a BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(vocXml('bad.jpg', ''), 'utf16le')]), /not well-formed XML/)
  vocCase('an empty file', '', /no root element/)
  vocCase('the wrong root element', '<foo><filename>bad.jpg</filename></foo>', /the root element is not <annotation>/)
  vocCase('no <filename>', '<annotation><size/></annotation>', /<filename> is missing/)
  vocCase('an unclosed element', '<annotation><filename>bad.jpg</filename>', /not closed/)
  vocCase('mismatched tags', '<annotation><filename>bad.jpg</name></annotation>', /a closing tag does not match its opening tag at line 1/)
  vocCase('an unterminated comment', `<annotation><!-- ${SECRET}`, /unterminated comment/)
  vocCase('an unquoted attribute', '<annotation a=1><filename>bad.jpg</filename></annotation>', /must be quoted/)
  vocCase('content after the root', `${vocXml('bad.jpg', '')}<more/>`, /content after the root element/)
  vocCase('a NaN coordinate', vocXml('bad.jpg', vocObject('crater', ['NaN', 1, 9, 9])), /<xmin> is .*not a number/)
  vocCase('a 1e999 coordinate', vocXml('bad.jpg', vocObject('crater', [1, 1, '1e999', 9])), /<xmax> is .*not a number/)
  vocCase('a missing coordinate', vocXml('bad.jpg', '<object><name>crater</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax></bndbox></object>'), /<ymax> is missing/)
  vocCase('xmax before xmin', vocXml('bad.jpg', vocObject('crater', [50, 1, 10, 9])), /empty box/)
  vocCase('an object without a box', vocXml('bad.jpg', '<object><name>crater</name></object>'), /has no <bndbox>/)
  vocCase('an object without a name', vocXml('bad.jpg', '<object><bndbox/></object>'), /has no <name>/)
  vocCase('a filename with ../ to a file outside', vocXml('../../../../etc/passwd', ''), /not found/)

  hostile('voc', 'markup in a class name: that object skipped, the rest of the file in', async () => {
    const xml = vocXml('a.jpg', vocObject('crater', [1, 1, 20, 20]) + vocObject('&lt;script&gt;alert(1)&lt;/script&gt; ../x', [5, 5, 30, 30]) + vocObject('crater', [40, 40, 60, 60]))
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'voc', path: tree({ 'a.jpg': real(62), 'a.xml': xml }), boxesAsEllipses: true })
    failure(summary, 'a.xml', /object 2 skipped: its class name is not usable/)
    expect(added(before)).toMatchObject({ images: 1, annotations: 4 }) // two boxes and their ellipses
    return 'clear-error'
  })
  hostile('voc', 'every file bad: nothing imported, each file named', async () => {
    const dir = tree({ 'a.xml': vocXml('a.jpg', '&#x110000;'), 'b.xml': `${'<x>'.repeat(100_000)}`, 'c.xml': SECRET })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'voc', path: dir })
    for (const f of ['a.xml', 'b.xml', 'c.xml']) failure(summary, f, /.+/)
    expect(importExitCode(summary)).toBe(1)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
  hostile('voc', 'a folder without XML files', async () => {
    const dir = tree({ 'a.jpg': real(63) })
    await expect(format(newDataset(), { format: 'voc', path: dir })).rejects.toThrow(`no .xml files under ${dir}`)
    return 'clear-error'
  })
  hostile('voc', 'a BOM and CRLF line ends are read', async () => {
    const summary = await format(newDataset(), { format: 'voc', path: tree({ 'a.jpg': real(64), 'a.xml': `\ufeff<?xml version="1.0"?>\r\n${vocXml('a.jpg', vocObject('Crater', [1, 1, 9, 9]))}\r\n` }) })
    expect([summary.imported, summary.annotationsAdded, summary.failed.length]).toEqual([1, 1, 0])
    return 'handled'
  })
})

// --- landmark label list --------------------------------------------------------------------------

describe('landmark labels', () => {
  hostile('landmarks', '../ in a listed path imports nothing from outside', async () => {
    const parent = tree({ 'outside.jpg': real(65) })
    const dir = join(parent, 'set')
    mkdirSync(join(dir, 'map-proj'), { recursive: true })
    writeFileSync(join(dir, 'map-proj', 'in.jpg'), real(66))
    writeFileSync(join(dir, 'labels.txt'), 'in.jpg 1\n../../outside.jpg 1\n')
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'landmarks', path: join(dir, 'labels.txt') })
    failure(summary, 'labels.txt', /an entry skipped: its file name points outside/)
    expect(added(before)).toMatchObject({ images: 1, labels: 1 })
    return 'clear-error'
  })
  hostile('landmarks', 'an absolute listed path imports nothing', async () => {
    const dir = tree({ 'map-proj/in.jpg': real(67), 'labels.txt': `in.jpg 0\n${join(LANDMARKS, landmarkNames[68]!)} 1\n` })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    const summary = await format(id, { format: 'landmarks', path: join(dir, 'labels.txt') })
    failure(summary, 'labels.txt', /points outside/)
    expect(added(before)).toMatchObject({ images: 1 })
    return 'clear-error'
  })
  hostile('landmarks', 'a listed image that is missing', async () => {
    const dir = tree({ 'map-proj/in.jpg': real(69), 'labels.txt': 'in.jpg 1\nmissing.jpg 0\n' })
    const summary = await format(newDataset(), { format: 'landmarks', path: join(dir, 'labels.txt') })
    failure(summary, 'missing.jpg', /listed in the labels but not found/)
    expect(importExitCode(summary)).toBe(3)
    return 'clear-error'
  })
  hostile('landmarks', 'a malformed line refuses the list, naming the line', async () => {
    const dir = tree({ 'map-proj/in.jpg': real(70), 'labels.txt': 'in.jpg 1\nin.jpg one two\n' })
    const id = newDataset()
    const before = ledgerSnapshot(ledgerFile)
    await expect(format(id, { format: 'landmarks', path: join(dir, 'labels.txt') })).rejects.toThrow(/labels\.txt: line 2/)
    expectLedgerUnchanged(before, ledgerSnapshot(ledgerFile), ['datasets'])
    return 'clear-error'
  })
  hostile('landmarks', 'a negative class refuses the list', async () => {
    const dir = tree({ 'map-proj/in.jpg': real(71), 'labels.txt': 'in.jpg -1\n' })
    await expect(format(newDataset(), { format: 'landmarks', path: join(dir, 'labels.txt') })).rejects.toThrow(/line 1/)
    return 'clear-error'
  })
  hostile('landmarks', 'an empty list warns: no images found', async () => {
    const dir = tree({ 'labels.txt': '\n\n' })
    const summary = await format(newDataset(), { format: 'landmarks', path: join(dir, 'labels.txt') })
    expect(summary.notes).toContain(`no images found in ${join(dir, 'labels.txt')}`)
    expect(importExitCode(summary)).toBe(1)
    return 'clear-error'
  })
  hostile('landmarks', 'only class 6 (edge): dropped, and said so', async () => {
    const dir = tree({ 'map-proj/e.jpg': real(72), 'labels.txt': 'e.jpg 6\n' })
    const summary = await format(newDataset(), { format: 'landmarks', path: join(dir, 'labels.txt') })
    expect(summary.notes.join(' ')).toMatch(/1 image of dropped classes left out \(edge 1\)/)
    expect(summary.notes.join(' ')).toMatch(/crater-vs-rest: .*dropped edge/)
    expect(summary.imported).toBe(0)
    return 'handled'
  })
  hostile('landmarks', 'a listed name that is a text file', async () => {
    const dir = tree({ 'map-proj/in.jpg': real(73), 'map-proj/txt.jpg': SECRET, 'labels.txt': 'in.jpg 1\ntxt.jpg 0\n' })
    const summary = await format(newDataset(), { format: 'landmarks', path: join(dir, 'labels.txt') })
    failure(summary, 'txt.jpg', /not a readable image/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
})

// --- ImageFolder ----------------------------------------------------------------------------------

describe('ImageFolder', () => {
  function badClassFolder(name: string, folder: string): void {
    hostile('imagefolder', name, async () => {
      const dir = tree({ 'train/Crater/a.jpg': real(74), [`train/${folder}/b.jpg`]: real(75) })
      const id = newDataset()
      const before = ledgerSnapshot(ledgerFile)
      const summary = await format(id, { format: 'imagefolder', path: dir })
      failure(summary, 'train/', /class folder skipped: its class name is not usable/)
      expect(added(before)).toMatchObject({ images: 1, labels: 1 })
      expect(getDataset(ctx.ledger.db, id).classes).toEqual(['crater', 'no-crater'])
      return 'clear-error'
    })
  }
  badClassFolder('a class folder named <script>alert(1)</script>', '<script>alert(1)<script>')
  badClassFolder('a class folder with a control character', 'Cra\u0007ter')
  badClassFolder('a class folder with an accent', 'Cratère')
  badClassFolder('a class folder with dots', 'a..b')
  hostile('imagefolder', 'a class folder with a newline maps to its words', async () => {
    const id = newDataset()
    const summary = await format(id, { format: 'imagefolder', path: tree({ 'No\nCrater/a.jpg': real(74) }) })
    expect([summary.imported, summary.labelsSet, summary.failed.length]).toEqual([1, 1, 0])
    expect(getDataset(ctx.ledger.db, id).classes).toEqual(['crater', 'no-crater'])
    return 'handled'
  })
  hostile('imagefolder', 'a hidden class folder (..x) is not walked', async () => {
    const summary = await format(newDataset(), { format: 'imagefolder', path: tree({ 'Crater/a.jpg': real(75), '..x/b.jpg': real(76) }) })
    expect([summary.imported, summary.failed.length]).toEqual([1, 0])
    return 'handled'
  })
  badClassFolder('a class folder of 100 characters', 'C'.repeat(100))
  hostile('imagefolder', 'no class folders', async () => {
    const dir = tree({ 'a.jpg': real(76) })
    await expect(format(newDataset(), { format: 'imagefolder', path: dir })).rejects.toThrow(/no images found in <split>\/<Class>\//)
    return 'clear-error'
  })
  hostile('imagefolder', 'a text file renamed .jpg in a class folder', async () => {
    const dir = tree({ 'Crater/a.jpg': real(77), 'Crater/fake.jpg': SECRET })
    const summary = await format(newDataset(), { format: 'imagefolder', path: dir })
    failure(summary, 'fake.jpg', /not a readable image/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('imagefolder', 'a symbolic link loop in a class folder', async () => {
    const dir = tree({ 'NoCrater/a.jpg': real(78) })
    symlinkSync(join(dir, 'NoCrater', 'y.jpg'), join(dir, 'NoCrater', 'x.jpg'))
    symlinkSync(join(dir, 'NoCrater', 'x.jpg'), join(dir, 'NoCrater', 'y.jpg'))
    const summary = await format(newDataset(), { format: 'imagefolder', path: dir })
    failure(summary, 'x.jpg', /symbolic link loop/)
    expect(summary.imported).toBe(1)
    return 'clear-error'
  })
  hostile('imagefolder', 'a file given where a folder is needed', async () => {
    const dir = tree({ 'a.jpg': real(79) })
    await expect(format(newDataset(), { format: 'imagefolder', path: join(dir, 'a.jpg') })).rejects.toThrow(/needs a folder, .*a\.jpg is a file/)
    return 'clear-error'
  })
})

// --- exports --------------------------------------------------------------------------------------

describe('exports', () => {
  /** A frozen version holding shapes straight from the repository (as an older ledger may). */
  async function versionWith(shapes: { className: string; geometry: Geometry }[]): Promise<number> {
    const id = newDataset()
    await images(id, [tree({ 'a.jpg': real(0), 'b.jpg': real(1) })])
    const tiles = tileRows(ctx.ledger.db, id)
    replaceAnnotations(ctx.ledger.db, tiles[0]!.id, 'old', shapes)
    setSplits(ctx.ledger.db, new Map(tiles.map((t, i) => [t.id, i ? 'valid' : 'train'])), true)
    return freeze(ctx.ledger.db, id, '').version.id
  }

  hostile('exports', 'a frozen 200,000-point polygon exports as masks and COCO', async () => {
    const points = Array.from({ length: 200_000 }, (_, i) => [100 + 60 * Math.cos((2 * Math.PI * i) / 200_000), 100 + 60 * Math.sin((2 * Math.PI * i) / 200_000)] as [number, number])
    const versionId = await versionWith([{ className: 'crater', geometry: { kind: 'polygon', points } }])
    for (const f of ['mmseg', 'coco'] as const) {
      const out = join(scratch, `export-${++caseNo}`)
      const r = await exportVersion(deps(), { versionId, format: f, outDir: out, mask: { mode: 'filled', width: 5 } })
      expect(r.tiles).toBe(2)
      expect(existsSync(join(out, 'dataset-version.json'))).toBe(true)
    }
    return 'handled'
  })
  hostile('exports', 'a failed export leaves no half-written folder', async () => {
    const versionId = await versionWith([])
    // The data-folder copy of one image goes missing: the export fails part-way.
    const m = ctx.ledger.db.prepare('SELECT manifest_json FROM dataset_versions WHERE id = ?').get(versionId) as { manifest_json: string }
    const tile = (JSON.parse(m.manifest_json) as { tiles: { image: { sha256: string; ext: string } }[] }).tiles[1]!
    const copy = storedPath(ctx.dataDir, `${tile.image.sha256}.${tile.image.ext}`)
    const saved = readFileSync(copy)
    const { rmSync } = await import('node:fs')
    rmSync(copy)
    try {
      const out = join(scratch, `export-${++caseNo}`)
      await expect(exportVersion(deps(), { versionId, format: 'mmseg', outDir: out, mask: { mode: 'filled', width: 5 } })).rejects.toThrow(/is missing from the data folder/)
      expect(existsSync(out)).toBe(false)
      expect(readdirSync(scratch).filter((n) => n.includes('.tmp-'))).toEqual([])
    } finally {
      writeFileSync(copy, saved)
    }
    return 'clear-error'
  })
  hostile('exports', 'a failed re-export keeps the earlier export whole', async () => {
    const versionId = await versionWith([])
    const out = join(scratch, `export-${++caseNo}`)
    await exportVersion(deps(), { versionId, format: 'mmseg', outDir: out, mask: { mode: 'filled', width: 5 } })
    const earlier = listFiles(out)
    const controller = new AbortController()
    controller.abort()
    await expect(exportVersion(deps(), { versionId, format: 'coco', outDir: out, mask: { mode: 'filled', width: 5 } }, { signal: controller.signal })).rejects.toThrow(/cancel/i)
    expect(listFiles(out)).toEqual(earlier)
    expect(readdirSync(scratch).filter((n) => n.includes('.tmp-'))).toEqual([])
    return 'clear-error'
  })
  hostile('exports', 'a re-export replaces the earlier one without leftovers', async () => {
    const versionId = await versionWith([])
    const out = join(scratch, `export-${++caseNo}`)
    await exportVersion(deps(), { versionId, format: 'mmseg', outDir: out, mask: { mode: 'filled', width: 5 } })
    await exportVersion(deps(), { versionId, format: 'imagefolder', outDir: `${out}/`, mask: { mode: 'filled', width: 5 } })
    await exportVersion(deps(), { versionId, format: 'coco', outDir: out, mask: { mode: 'filled', width: 5 } })
    expect(listFiles(out).some((f) => f.endsWith('_annotations.coco.json'))).toBe(true)
    expect(listFiles(out).some((f) => f.startsWith('images/'))).toBe(false)
    expect(readdirSync(scratch).filter((n) => n.includes('.tmp-'))).toEqual([])
    return 'handled'
  })
  hostile('exports', "a folder holding someone's files is refused and untouched", async () => {
    const versionId = await versionWith([])
    const out = tree({ 'thesis.tex': SECRET })
    await expect(exportVersion(deps(), { versionId, format: 'coco', outDir: out, mask: { mode: 'filled', width: 5 } })).rejects.toThrow(/is not empty and is not an earlier export/)
    expect(listFiles(out)).toEqual(['thesis.tex'])
    return 'clear-error'
  })
})

// --- full disk, interrupted copies, exit codes ----------------------------------------------------

/** Mounts a small tmpfs (root only): a real full disk, without touching the machine's disks. */
function tryMountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true })
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' })
  return r.status === 0
}
const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0

describe('full disk and interrupted copies', () => {
  hostile('files', 'a full disk (tmpfs) is worded as such and leaves no temp file', async () => {
    const dataDir = join(scratch, `fulldisk-${++caseNo}`)
    const imagesDir = join(dataDir, 'images')
    if (!tryMountTmpfs(imagesDir, '160k')) throw new Error('mount -t tmpfs failed')
    try {
      const src = tree(Object.fromEntries(landmarkNames.slice(0, 30).map((n, i) => [n, real(i)])))
      const id = newDataset()
      const before = ledgerSnapshot(ledgerFile)
      const summary = await importPaths({ db: ctx.ledger.db, dataDir }, ImportRequest.parse({ datasetId: id, paths: [src] }))
      expect(summary.imported).toBeGreaterThan(0)
      expect(summary.failed.length).toBeGreaterThan(0)
      for (const f of summary.failed) expect(f.reason).toBe(`no space left on the device while copying ${f.path} into the data folder`)
      expect(summary.failed.some((f) => /decoded/.test(f.reason))).toBe(false)
      expect(importExitCode(summary)).toBe(3)
      expect(added(before)).toMatchObject({ images: summary.imported })
      expect(tempLeftovers(dataDir)).toEqual([])
    } finally {
      spawnSync('umount', [imagesDir])
    }
    return 'clear-error'
  }, { skip: !canMount })

  hostile('files', 'a full disk under the ledger (tmpfs): worded as such, the ledger intact', async () => {
    const ledgerDir = join(scratch, `fullledger-${++caseNo}`)
    if (!tryMountTmpfs(ledgerDir, '1m')) throw new Error('mount -t tmpfs failed')
    const ledger = openLedger(ledgerDir)
    try {
      const id = createDataset(ledger.db, { name: 'full', description: '', task: 'classification', classes: ['crater', 'no-crater'] })
      ledger.db.pragma('wal_checkpoint(TRUNCATE)')
      // Leave the ledger a few KiB: the first inserts may fit, then SQLite reports SQLITE_FULL.
      const { bavail, bsize } = statfsSync(ledgerDir)
      writeFileSync(join(ledgerDir, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - 12 * 1024)))
      const src = tree(Object.fromEntries(landmarkNames.slice(60, 72).map((n, i) => [n, real(60 + i)])))
      const summary = await importPaths({ db: ledger.db, dataDir: ctx.dataDir }, ImportRequest.parse({ datasetId: id, paths: [src] }))
      expect(summary.failed.length).toBeGreaterThan(0)
      for (const f of summary.failed) expect(f.reason).toBe(`no space left on the device while recording ${f.path} in the ledger`)
      const rows = (ledger.db.prepare('SELECT COUNT(*) AS n FROM images WHERE dataset_id = ?').get(id) as { n: number }).n
      expect(rows).toBe(summary.imported)
      expect(ledger.db.pragma('integrity_check', { simple: true })).toBe('ok')
    } finally {
      ledger.close()
      spawnSync('umount', [ledgerDir])
    }
    return 'clear-error'
  }, { skip: !canMount })

  hostile('files', 'the CLI exits 3 on a partly failed import (full disk)', async () => {
    requireBuild()
    const cliHome = join(scratch, `cli-home-${++caseNo}`)
    const imagesDir = join(cliHome, 'images')
    if (!tryMountTmpfs(imagesDir, '160k')) throw new Error('mount -t tmpfs failed')
    try {
      const src = tree(Object.fromEntries(landmarkNames.slice(30, 60).map((n, i) => [n, real(30 + i)])))
      const r = spawnSync(process.execPath, [CLI_ENTRY, 'dataset', 'import', 'full', src, '--json'], { env: { ...process.env, MARSFM_HOME: cliHome }, encoding: 'utf8', timeout: 120_000 })
      expect(r.status, r.stderr).toBe(3)
      const summary = JSON.parse(r.stdout) as ImportSummary
      expect(summary.failed[0]!.reason).toMatch(/^no space left on the device while copying .* into the data folder$/)
      expect(tempLeftovers(imagesDir)).toEqual([])
    } finally {
      spawnSync('umount', [imagesDir])
    }
    return 'clear-error'
  }, { skip: !canMount })

  hostile('files', 'the CLI exits 1 and leaves no empty dataset when every file fails', async () => {
    const cliHome = join(scratch, `cli-home-${++caseNo}`)
    const src = tree({ 'a.jpg': SECRET, 'b.png': Buffer.alloc(0) })
    const r = spawnSync(process.execPath, [CLI_ENTRY, 'dataset', 'import', 'nothing', src], { env: { ...process.env, MARSFM_HOME: cliHome }, encoding: 'utf8', timeout: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/failed: .*a\.jpg: not a readable image/)
    expect(r.stdout).not.toContain(SECRET)
    expect(ledgerSnapshot(join(cliHome, 'ledger.sqlite')).counts.datasets).toBe(0)
    return 'clear-error'
  })
  hostile('files', 'the CLI leaves no empty dataset when a VOC import has only bad files', async () => {
    const cliHome = join(scratch, `cli-home-${++caseNo}`)
    const src = tree({ 'a.xml': '<annotation>&#x110000;</annotation>', 'b.xml': '<a>'.repeat(200_000) })
    const r = spawnSync(process.execPath, [CLI_ENTRY, 'dataset', 'import', 'vocbad', src, '--format', 'voc'], { env: { ...process.env, MARSFM_HOME: cliHome }, encoding: 'utf8', timeout: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/a\.xml: .*not a valid XML character/)
    expect(r.stdout).toMatch(/b\.xml: .*nested deeper than 256 levels/)
    expect(ledgerSnapshot(join(cliHome, 'ledger.sqlite')).counts.datasets).toBe(0)
    return 'clear-error'
  })
  hostile('files', 'the CLI exits 0 when all is well, 1 for a missing path', async () => {
    const cliHome = join(scratch, `cli-home-${++caseNo}`)
    const env = { ...process.env, MARSFM_HOME: cliHome }
    const ok = spawnSync(process.execPath, [CLI_ENTRY, 'dataset', 'import', 'fine', tree({ 'a.jpg': real(60) })], { env, encoding: 'utf8', timeout: 120_000 })
    expect(ok.status, ok.stderr).toBe(0)
    const missing = spawnSync(process.execPath, [CLI_ENTRY, 'dataset', 'import', 'gone', join(scratch, 'nope')], { env, encoding: 'utf8', timeout: 120_000 })
    expect(missing.status).toBe(1)
    // A missing path refuses the whole import before a dataset is created (the IPC rule too).
    expect(missing.stderr).toMatch(/not found: .*nope/)
    expect(ledgerSnapshot(join(cliHome, 'ledger.sqlite')).counts.datasets).toBe(1)
    return 'clear-error'
  })

  hostile('files', 'a temp copy left by a SIGKILLed import is swept at start; a live one is kept', async () => {
    const dataDir = join(scratch, `swept-${++caseNo}`)
    mkdirSync(join(dataDir, 'images'), { recursive: true })
    // A real SIGKILL mid-write: the child opens the temp file, writes part of it, and is killed.
    const sha = 'ab'.repeat(32)
    const child = spawnSync(process.execPath, ['-e', `const fs=require('fs');const p=process.argv[1]+'/images/${sha}.jpg.'+process.pid+'.'+Date.now()+'.tmp';fs.writeFileSync(p,Buffer.alloc(4096));process.kill(process.pid,'SIGKILL')`, dataDir])
    expect(child.signal).toBe('SIGKILL')
    const live = `${'cd'.repeat(32)}.png.${process.pid}.${Date.now()}.tmp`
    writeFileSync(join(dataDir, 'images', live), 'in flight')
    expect(tempLeftovers(dataDir)).toHaveLength(2)
    const other = await createAppContext({ mode: 'cli', dataDir, startEngine: false, engineEntry: ENGINE_ENTRY, echoLog: false })
    await other.close()
    expect(readdirSync(join(dataDir, 'images'))).toEqual([live])
    const { rmSync } = await import('node:fs')
    rmSync(join(dataDir, 'images', live))
    return 'handled'
  })
})

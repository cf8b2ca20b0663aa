// Dataset curation through the real router, on a real temporary ledger and the real images in
// ../shared/data: imports with bad files, regions of large images, tiling, formats, splits and
// leaks, frozen versions, reproducible exports, and the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { createAppContext, type AppContext } from '@main/app/context'
import type { Channel, ResponseOf, RequestOf } from '@shared/ipc/contract'
import type { ImportSummary } from '@shared/ipc/schemas/datasets'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

let ctx: AppContext
let home: { dir: string; remove(): void }
let scratch: string

async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const env = await ctx.router.dispatch(channel, request)
  if (!env.ok) throw new Error(`${env.error.name}: ${env.error.message}`)
  return env.value as ResponseOf<C>
}

async function job<T>(started: Promise<{ jobId: string }>): Promise<T> {
  const view = await ctx.jobs.waitFor((await started).jobId)
  if (view.state !== 'done') throw new Error(`job ${view.state}: ${view.error?.message}`)
  return view.result as T
}

function treeHash(dir: string): string {
  const h = createHash('sha256')
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else h.update(p.slice(dir.length)).update(readFileSync(p))
    }
  }
  walk(dir)
  return h.digest('hex')
}

/** A minimal uncompressed 16-bit greyscale TIFF (sharp writes TIFF at 8 bits). */
function tiff16(pixels: Uint16Array, width: number, height: number): Buffer {
  const entries: [number, number, number, number][] = [
    [256, 3, 1, width], [257, 3, 1, height], [258, 3, 1, 16], [259, 3, 1, 1], [262, 3, 1, 1],
    [273, 4, 1, 8 + 2 + 12 * 9 + 4], [277, 3, 1, 1], [278, 3, 1, height], [279, 4, 1, pixels.byteLength]
  ]
  const head = Buffer.alloc(8 + 2 + 12 * entries.length + 4)
  head.write('II', 0, 'ascii')
  head.writeUInt16LE(42, 2)
  head.writeUInt32LE(8, 4)
  head.writeUInt16LE(entries.length, 8)
  entries.forEach(([tag, type, count, value], i) => {
    const o = 10 + 12 * i
    head.writeUInt16LE(tag, o)
    head.writeUInt16LE(type, o + 2)
    head.writeUInt32LE(count, o + 4)
    if (type === 3) head.writeUInt16LE(value, o + 8)
    else head.writeUInt32LE(value, o + 8)
  })
  return Buffer.concat([head, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)])
}

beforeAll(async () => {
  requireBuild()
  home = tempHome()
  scratch = join(home.dir, 'scratch')
  mkdirSync(scratch)
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, startEngine: false, engineEntry: ENGINE_ENTRY, echoLog: false })
})
afterAll(async () => {
  await ctx?.close()
  home?.remove()
})

describe('datasets service', () => {
  let rgb: number
  it('imports JPEG/PNG/TIFF (grey, RGB, RGBA, 16-bit), recognises duplicates and lists bad files', async () => {
    rgb = (await call('datasets:create', { name: 'rgb' })).id
    // 16-bit greyscale TIFF and PNG, made from a shared crop into the temporary folder.
    const src = join(SHARED_DATA, 'hirise-landmarks-v1/map-proj/ESP_011283_2265_RED-0032.jpg')
    const { data: grey, info: g } = await sharp(src).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
    writeFileSync(join(scratch, 'PSP_001234_2050_grey16.tif'), tiff16(Uint16Array.from(grey, (v) => v * 257), g.width, g.height))
    await sharp(src).toColourspace('grey16').png().toFile(join(scratch, 'grey16.png'))
    writeFileSync(join(scratch, 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]))
    writeFileSync(join(scratch, 'empty.jpg'), Buffer.alloc(0))
    writeFileSync(join(scratch, 'readme.md'), '# not an image')
    const summary = await job<ImportSummary>(call('datasets:import', { datasetId: rgb, paths: [join(SHARED_DATA, 'hirise-rgb'), scratch] }))
    expect(summary.imported).toBe(18 + 2)
    expect(summary.failed.map((f) => f.path.split('/').pop()).sort()).toEqual(['broken.png', 'empty.jpg', 'readme.md'])
    expect(summary.failed.find((f) => f.path.endsWith('empty.jpg'))!.reason).toMatch(/empty file/)
    // Crops up to 1024 px are tiles of their own; the browse strip and the MIRB crops are not.
    expect(summary.tilesCreated).toBe(14 + 2)

    const again = await job<ImportSummary>(call('datasets:import', { datasetId: rgb, paths: [join(SHARED_DATA, 'hirise-rgb')] }))
    expect(again.imported).toBe(0)
    expect(again.duplicates).toHaveLength(18)

    const { images } = await call('images:list', { datasetId: rgb, limit: 100 })
    const tif = images.find((i) => i.fileName.endsWith('.tif'))!
    expect(tif).toMatchObject({ format: 'tiff', bitDepth: 16, channels: 1, observationId: 'PSP_001234_2050' })
    const mirb = images.find((i) => i.fileName === 'ESP_060176_2640_MIRB.png')!
    expect(mirb.channels).toBe(4)
    expect(mirb.colour).toBe('false-colour')
    expect(images.find((i) => i.fileName === 'ESP_011472_1225_0_0.jpg')!.colour).toBe('rgb')
    expect(images.every((i) => i.thumbnail?.startsWith('data:image/jpeg;base64,'))).toBe(true)
    // A copy of each file sits in the data folder under its content hash.
    expect(readdirSync(join(home.dir, 'images'))).toContain(`${tif.sha256}.tif`)
  })

  it('reads regions of the 512×7589 browse strip, scaled, without sending pixels', async () => {
    const { images } = await call('images:list', { datasetId: rgb, limit: 100, withThumbnails: false })
    const strip = images.find((i) => i.fileName.includes('browse'))!
    expect([strip.width, strip.height]).toEqual([512, 7589])
    const r = await call('images:region', { imageId: strip.id, x: 0, y: 3000, width: 512, height: 2048, maxSide: 512 })
    expect(r).toMatchObject({ x: 0, y: 3000, width: 512, height: 2048, outWidth: 128, outHeight: 512 })
    const meta = await sharp(Buffer.from(r.dataUrl.split(',')[1]!, 'base64')).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 128, 512])
    const t = await call('tiles:cut', { imageId: strip.id, cx: 256, cy: 7580, size: 224 })
    expect(t).toMatchObject({ y: 7589 - 224, width: 224, origin: 'point', observationId: 'ESP_011472_1225' })
  })

  let ctxDs: number
  it('imports VOC boxes from several annotators and carries them into 224 px grid tiles', async () => {
    ctxDs = (await call('datasets:create', { name: 'ctx', task: 'segmentation' })).id
    const summary = await job<ImportSummary>(
      call('datasets:import-format', { datasetId: ctxDs, format: 'voc', path: join(SHARED_DATA, 'ctx-crater-catalogue/annotations/raw/MC11E-A'), imagesDir: join(SHARED_DATA, 'ctx-crater-catalogue/images'), boxesAsEllipses: true })
    )
    expect(summary.imported).toBe(1)
    expect(summary.annotationsAdded).toBeGreaterThan(20)
    const whole = (await call('tiles:list', { datasetId: ctxDs })).tiles[0]!
    const shapes = await call('annotations:list', { tileId: whole.id })
    expect(new Set(shapes.map((s) => s.annotator)).size).toBe(readdirSync(join(SHARED_DATA, 'ctx-crater-catalogue/annotations/raw/MC11E-A')).length)
    expect(new Set(shapes.map((s) => s.geometry.kind))).toEqual(new Set(['box', 'ellipse']))

    const drop = await job<{ tilesCreated: number; annotationsCarried: number }>(call('tiles:grid', { datasetId: ctxDs, size: 224 }))
    expect(drop.tilesCreated).toBe(64)
    expect(drop.annotationsCarried).toBeGreaterThan(0)
    const pad = await job<{ tilesCreated: number; tilesExisting: number }>(call('tiles:grid', { datasetId: ctxDs, size: 224, edge: 'pad' }))
    expect(pad).toMatchObject({ tilesCreated: 17, tilesExisting: 64 })
  })

  it('reports a malformed COCO file specifically and imports the rest', async () => {
    const root = join(scratch, 'coco')
    mkdirSync(join(root, 'train'), { recursive: true })
    mkdirSync(join(root, 'valid'), { recursive: true })
    const crop = join(SHARED_DATA, 'hirise-rgb', 'ESP_011472_1225_3_0.jpg')
    writeFileSync(join(root, 'train', 'a.jpg'), readFileSync(crop))
    writeFileSync(join(root, 'train', 'b.jpg'), readFileSync(join(SHARED_DATA, 'hirise-rgb', 'ESP_011472_1225_4_0.jpg')))
    // Annotations deliberately listed out of image order: the join is by id.
    writeFileSync(
      join(root, 'train', '_annotations.coco.json'),
      JSON.stringify({
        categories: [{ id: 0, name: 'craters' }, { id: 1, name: 'crater' }],
        images: [{ id: 10, file_name: 'a.jpg', width: 512, height: 512 }, { id: 11, file_name: 'b.jpg', width: 512, height: 512 }],
        annotations: [{ id: 1, image_id: 11, category_id: 1, segmentation: [[10, 10, 60, 10, 60, 60, 10, 60]], bbox: [10, 10, 50, 50] }]
      })
    )
    writeFileSync(join(root, 'valid', '_annotations.coco.json'), '{"images": [], "annotations": [{"image_id": 3}], "categories": []}')
    const d = (await call('datasets:create', { name: 'coco', task: 'segmentation' })).id
    const summary = await job<ImportSummary>(call('datasets:import-format', { datasetId: d, format: 'coco', path: root }))
    expect(summary.imported).toBe(2)
    expect(summary.failed).toHaveLength(1)
    expect(summary.failed[0]!.reason).toMatch(/valid\/_annotations\.coco\.json: annotations\[0\] refers to image_id 3/)
    const { tiles } = await call('tiles:list', { datasetId: d })
    const b = tiles.find((t) => t.fileName === 'b.jpg')!
    expect(b.annotations).toBe(1)
    expect(tiles.find((t) => t.fileName === 'a.jpg')!.annotations).toBe(0)
    expect(b.split).toBe('train')
  })

  let lm: number
  it('labels with several annotators, measures agreement, keeps only agreed tiles', async () => {
    lm = (await call('datasets:create', { name: 'landmarks' })).id
    const dir = join(SHARED_DATA, 'hirise-landmarks-v1/map-proj')
    const files = readdirSync(dir).sort().slice(0, 120).map((f) => join(dir, f))
    await job(call('datasets:import', { datasetId: lm, paths: files }))
    const { tiles } = await call('tiles:list', { datasetId: lm })
    expect(tiles).toHaveLength(120)
    const ids = tiles.map((t) => t.id)
    await call('labels:set', { tileIds: ids.slice(0, 60), className: 'crater', annotator: 'alice' })
    await call('labels:set', { tileIds: ids.slice(60), className: 'no-crater', annotator: 'alice' })
    await call('labels:set', { tileIds: ids.slice(0, 50), className: 'crater', annotator: 'bob' })
    await call('labels:set', { tileIds: ids.slice(50, 70), className: 'no-crater', annotator: 'bob' })
    await expect(call('labels:set', { tileIds: [ids[0]!], className: 'dune' })).rejects.toThrow(/not a class/)
    const a = await call('labels:agreement', { datasetId: lm })
    expect(a).toMatchObject({ annotators: ['alice', 'bob'], multiLabelled: 70, agreed: 60, disagreed: 10 })
    expect((await call('tiles:list', { datasetId: lm, disagree: true })).total).toBe(10)
    expect((await call('labels:keep-agreed', { datasetId: lm })).removed).toBe(10)
    expect((await call('tiles:list', { datasetId: lm })).total).toBe(110)
  })

  it('splits by observation without leaks, flags a manual leak, freezes and drafts', async () => {
    const report = await call('datasets:split', { datasetId: lm, seed: 3 })
    expect(report.leaks).toEqual([])
    expect(report.counts.train + report.counts.valid).toBe(110)
    const again = await call('datasets:split', { datasetId: lm, seed: 3 })
    expect(again.counts).toEqual(report.counts)

    const { tiles } = await call('tiles:list', { datasetId: lm, split: 'train' })
    const obs = tiles.find((t, i) => tiles.findIndex((u) => u.observationId === t.observationId) !== i)!.observationId
    const one = tiles.find((t) => t.observationId === obs)!
    const moved = await call('tiles:set-split', { tileIds: [one.id], split: 'valid' })
    expect(moved.leaks).toEqual([expect.objectContaining({ group: obs, splits: ['train', 'valid'] })])
    await call('datasets:split', { datasetId: lm, seed: 3 })
    expect(await call('datasets:leaks', { datasetId: lm })).toEqual([])

    const v1 = await call('datasets:freeze', { datasetId: lm, note: 'first' })
    expect(v1).toMatchObject({ version: 1, tiles: 110 })
    expect(await call('datasets:freeze', { datasetId: lm })).toEqual(v1) // nothing changed
    expect((await call('datasets:list', {})).find((d) => d.id === lm)!.draft).toBe(false)
    await call('labels:set', { tileIds: [tiles[0]!.id], className: 'no-crater', annotator: 'carol' })
    expect((await call('datasets:list', {})).find((d) => d.id === lm)!.draft).toBe(true)
    const v2 = await call('datasets:freeze', { datasetId: lm, note: 'carol' })
    expect(v2.version).toBe(2)
    expect(v2.contentHash).not.toBe(v1.contentHash)
    expect(() => ctx.ledger.db.prepare('UPDATE dataset_versions SET note = ? WHERE id = ?').run('x', v1.id)).toThrow(/immutable/)
  })

  it('exports a version in the study layouts, byte-identical every time', async () => {
    const [v] = await call('datasets:versions', { datasetId: lm })
    const shapes = (await call('tiles:list', { datasetId: lm })).tiles[0]!
    await call('annotations:save', { tileId: shapes.id, annotator: 'alice', shapes: [{ className: 'crater', geometry: { kind: 'polygon', points: [[50, 50], [150, 50], [150, 150], [50, 150]] } }] })
    const v3 = await call('datasets:freeze', { datasetId: lm })
    for (const format of ['imagefolder', 'mmseg', 'coco'] as const) {
      const a = join(scratch, `${format}-a`)
      const b = join(scratch, `${format}-b`)
      await job(call('datasets:export', { versionId: v3.id, format, outDir: a, mask: { mode: 'outline', width: 15 } }))
      await job(call('datasets:export', { versionId: v3.id, format, outDir: b, mask: { mode: 'outline', width: 15 } }))
      expect(treeHash(a)).toBe(treeHash(b))
    }
    expect(readdirSync(join(scratch, 'imagefolder-a', 'train')).sort()).toEqual(['Crater', 'NoCrater'])
    const masks = readdirSync(join(scratch, 'mmseg-a', 'annotations', 'train')).concat(readdirSync(join(scratch, 'mmseg-a', 'annotations', 'valid')))
    expect(masks.every((m) => m.endsWith('_gtmask.png'))).toBe(true)
    expect(readdirSync(join(scratch, 'mmseg-a', 'images', 'train')).every((f) => f.endsWith('.jpg'))).toBe(true)
    const split = shapes.split ?? 'train'
    const stem = readdirSync(join(scratch, 'mmseg-a', 'annotations', split)).find((m) => m.startsWith(shapes.fileName.replace('.jpg', '')))!
    const maskFile = join(scratch, 'mmseg-a', 'annotations', split, stem)
    expect((await sharp(maskFile).metadata()).channels).toBe(1)
    const { data, info } = await sharp(maskFile).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
    expect(new Set(data)).toEqual(new Set([0, 1]))
    expect(data[100 * info.width + 100]).toBe(0) // outline: the crater's centre is background
    // An old version still exports as it was.
    expect(v.version).toBe(2)
    // Never writes into a folder holding someone else's files.
    mkdirSync(join(scratch, 'occupied'))
    writeFileSync(join(scratch, 'occupied', 'thesis.tex'), '…')
    await expect(job(call('datasets:export', { versionId: v3.id, format: 'coco', outDir: join(scratch, 'occupied') }))).rejects.toThrow(/not empty/)
  })

  it('refuses relative and missing paths', async () => {
    const r = await ctx.router.dispatch('datasets:import', { datasetId: lm, paths: ['relative/path'] })
    expect(r.ok).toBe(false)
    await expect(call('datasets:import', { datasetId: lm, paths: ['/no/such/folder'] })).rejects.toThrow(/not found/)
  })
})

describe('marsfm dataset', () => {
  it('imports, splits, freezes, exports and lists from the shell', () => {
    const h = tempHome()
    try {
      const run = (...args: string[]) => spawnSync(process.execPath, [CLI_ENTRY, 'dataset', ...args], { env: { ...process.env, MARSFM_HOME: h.dir }, encoding: 'utf8', timeout: 120_000 })
      const imp = run('import', 'boxes', join(SHARED_DATA, 'mars-crater-boxes'), '--format', 'yolo', '--ellipses', '--json')
      expect(imp.status).toBe(0)
      const summary = JSON.parse(imp.stdout) as ImportSummary
      expect(summary.imported).toBe(124)
      expect(summary.labelsSet).toBe(124)
      const split = run('split', 'boxes', '--seed', '7', '--json')
      expect(split.status).toBe(0)
      expect(JSON.parse(split.stdout).leaks).toEqual([])
      expect(run('freeze', 'boxes', '--note', 'cli').stdout).toMatch(/froze "boxes" v1: 124 tiles/)
      const out = join(h.dir, 'mm')
      const exp = run('export', 'boxes', out, '--format', 'mmseg', '--mask', 'outline', '--mask-width', '5')
      expect(exp.status).toBe(0)
      expect(readdirSync(join(out, 'annotations', 'train')).length).toBeGreaterThan(80)
      expect(run('list').stdout).toMatch(/boxes\s+124 images\s+124 tiles\s+124 labelled\s+v1/)
      expect(run('list', 'boxes', '--json').status).toBe(0)
      const bad = run('tile', 'boxes')
      expect(bad.status).toBe(2)
      expect(bad.stderr).toMatch(/--size/)
    } finally {
      h.remove()
    }
  })
})

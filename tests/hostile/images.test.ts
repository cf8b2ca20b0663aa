// Hostile image files where the engine reads them: training data loading and the reconstruction
// study. A text file renamed .jpg, an empty file, a dangling link or a broken mask is skipped and
// named with its reason; only a split (or a study) with nothing readable left fails, naming a file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { listDataset, screenSamples, ImageCache } from '@engine/training/data'
import { readStudyTiles } from '@engine/reconstruction/images'
import { spawnSync } from 'node:child_process'
import { CLI_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { expectClearError, printTally, record, type Outcome } from './harness'

let home: { dir: string; remove(): void }
const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1/map-proj')
const real = (name: string) => readFileSync(join(LANDMARKS, name))
const A = 'ESP_011283_2265_RED-0032.jpg'
const B = 'ESP_011386_2065_RED-0002.jpg'
const SECRET = 'TOP-SECRET-91c2'
let n = 0

beforeAll(() => {
  home = tempHome('marsfm-hostile-images-')
})
afterAll(() => {
  home?.remove()
  printTally('images.test.ts')
})

function tree(files: Record<string, string | Buffer>): string {
  const dir = join(home.dir, `case-${++n}`)
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), content)
  }
  return dir
}

function hostile(category: string, name: string, body: () => Promise<Outcome>): void {
  it(`${category}: ${name}`, async () => {
    let outcome: Outcome = 'crash'
    try {
      outcome = await body()
    } finally {
      record(category, name, outcome)
    }
  })
}

const folder = (path: string, layout: 'imagefolder' | 'mmseg' | 'images') => ({ kind: 'folder' as const, path, layout })

describe('training data', () => {
  const badTrainFile = (name: string, file: string, content: string | Buffer, reason: RegExp) =>
    hostile('training', name, async () => {
      const dir = tree({ 'train/Crater/a.jpg': real(A), 'train/NoCrater/b.jpg': real(B), [`train/NoCrater/${file}`]: content, 'valid/Crater/a.jpg': real(A), 'valid/NoCrater/b.jpg': real(B) })
      const { listing, skipped } = await screenSamples(listDataset(folder(dir, 'imagefolder')))
      // The positive class (Crater) comes second, so order is not asserted.
      expect(listing.train.map((s) => s.path.split('/').pop()).sort()).toEqual(['a.jpg', 'b.jpg'])
      expect(skipped).toHaveLength(1)
      expect(skipped[0]!.path).toBe(join(dir, 'train/NoCrater', file))
      expect(skipped[0]!.reason).toMatch(reason)
      expectClearError(`${skipped[0]!.path}: ${skipped[0]!.reason}`, { names: file, secret: SECRET })
      return 'clear-error'
    })
  badTrainFile('a text file renamed .jpg', 'notes.jpg', `${SECRET} not a picture`, /not a readable image/)
  badTrainFile('an empty .png', 'empty.png', '', /not a readable image/)
  badTrainFile('HTML renamed .jpeg', 'page.jpeg', '<html></html>', /not a readable image/)
  badTrainFile('a GIF renamed .webp', 'anim.webp', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), /not a readable image/)

  hostile('training', 'a dangling symbolic link named .jpg', async () => {
    const dir = tree({ 'train/Crater/a.jpg': real(A), 'train/NoCrater/b.jpg': real(B), 'valid/Crater/a.jpg': real(A), 'valid/NoCrater/b.jpg': real(B) })
    symlinkSync(join(dir, 'nowhere.jpg'), join(dir, 'train/Crater/gone.jpg'))
    const { listing, skipped } = await screenSamples(listDataset(folder(dir, 'imagefolder')))
    expect(listing.train).toHaveLength(2)
    expect(skipped.map((s) => s.path)).toEqual([join(dir, 'train/Crater/gone.jpg')])
    expect(skipped[0]!.reason).toBe('a symbolic link to a file that does not exist')
    return 'clear-error'
  })
  hostile('training', 'a file name that is not UTF-8 is said to be so, not "missing"', async () => {
    const dir = tree({ 'train/Crater/a.jpg': real(A), 'train/NoCrater/b.jpg': real(B), 'valid/Crater/a.jpg': real(A), 'valid/NoCrater/b.jpg': real(B) })
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/train/Crater/x-`), Buffer.from([0xff, 0xfe]), Buffer.from('.jpg')]), real(A))
    const { listing, skipped } = await screenSamples(listDataset(folder(dir, 'imagefolder')))
    expect(listing.train).toHaveLength(2)
    expect(skipped).toHaveLength(1)
    expect(skipped[0]!.reason).toMatch(/its name is not valid UTF-8/)
    return 'clear-error'
  })
  hostile('training', 'every validation image unreadable: the run fails, naming one', async () => {
    const dir = tree({ 'train/Crater/a.jpg': real(A), 'train/NoCrater/b.jpg': real(B), 'valid/Crater/x.jpg': 'text', 'valid/NoCrater/y.jpg': '' })
    const err = await screenSamples(listDataset(folder(dir, 'imagefolder'))).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expectClearError((err as Error).message, { names: /none of the 2 validation image\(s\) could be read \(.*valid\/(Crater\/x|NoCrater\/y)\.jpg: not a readable image/ })
    return 'clear-error'
  })
  hostile('training', 'a segmentation sample whose mask is text', async () => {
    const dir = tree({
      'images/train/a.jpg': real(A),
      'annotations/train/a_gtmask.png': readFileSync(join(LANDMARKS, A)),
      'images/train/b.jpg': real(B),
      'annotations/train/b_gtmask.png': 'not a mask',
      'images/valid/a.jpg': real(A),
      'annotations/valid/a_gtmask.png': real(A)
    })
    const { listing, skipped } = await screenSamples(listDataset(folder(dir, 'mmseg')))
    expect(listing.train.map((s) => s.path.split('/').pop())).toEqual(['a.jpg'])
    expect(skipped[0]!.reason).toMatch(/its mask .*b_gtmask\.png: not a readable image/)
    return 'clear-error'
  })
  hostile('training', 'damage past the header fails the decode naming the file', async () => {
    const bytes = real(A)
    const dir = tree({ 'cut.jpg': bytes.subarray(0, bytes.length >> 1) })
    const cache = new ImageCache({ task: 'classification', imgSize: 224, resize: 224, numClasses: 2, cacheBytes: 0 })
    const err = await cache.get({ path: join(dir, 'cut.jpg'), label: 0 }).catch((e: Error) => e)
    expectClearError((err as Error).message, { names: `${join(dir, 'cut.jpg')}: not a readable image` })
    return 'clear-error'
  })
  hostile('training', 'pre-training folders skip unreadable files too', async () => {
    const dir = tree({ 'a.jpg': real(A), 'b.jpg': real(B), 'sub/c.jpg': real(A), 'sub/bad.tif': 'II*\0junk' })
    const { listing, skipped } = await screenSamples(listDataset(folder(dir, 'images')))
    expect(listing.train.length + listing.valid.length).toBe(3)
    expect(skipped.map((s) => s.path)).toEqual([join(dir, 'sub/bad.tif')])
    return 'clear-error'
  })
})

describe('reconstruction study images', () => {
  hostile('reconstruction', 'a text file renamed .jpg among good images', async () => {
    const dir = tree({ 'a.jpg': real(A), 'fake.jpg': `${SECRET}`, 'b.jpg': real(B) })
    const paths = ['a.jpg', 'fake.jpg', 'b.jpg'].map((f) => join(dir, f))
    const { tiles, skipped } = await readStudyTiles(paths, undefined, 224, 'centre-crop', 10)
    expect(tiles.map((t) => t.ref)).toEqual(['a.jpg', 'b.jpg'])
    expect(tiles.map((t) => t.imageIndex)).toEqual([0, 2])
    expect(skipped).toHaveLength(1)
    expectClearError(`${skipped[0]!.path}: ${skipped[0]!.reason}`, { names: /fake\.jpg: not a readable image/, secret: SECRET })
    return 'clear-error'
  })
  hostile('reconstruction', 'regions of an unreadable image are skipped once', async () => {
    const dir = tree({ 'a.jpg': real(A), 'zero.png': '' })
    const region = (path: string, ref: string) => ({ path, ref, x: 0, y: 0, width: 224, height: 224 })
    const regions = [region(join(dir, 'zero.png'), 'z1'), region(join(dir, 'zero.png'), 'z2'), region(join(dir, 'a.jpg'), 'a1')]
    const { tiles, skipped } = await readStudyTiles(regions.map((r) => r.path), regions, 224, 'centre-crop', 10)
    expect(tiles.map((t) => t.ref)).toEqual(['a1'])
    expect(skipped.map((s) => s.path)).toEqual([join(dir, 'zero.png')])
    return 'clear-error'
  })
  hostile('reconstruction', 'the reconstruct CLI (demo model) skips a text file renamed .jpg and names it', async () => {
    requireBuild()
    const dir = tree({ 'a.jpg': real(A), 'fake.jpg': SECRET, 'b.jpg': real(B) })
    const r = spawnSync(process.execPath, [CLI_ENTRY, 'reconstruct', '--images', join(dir, 'a.jpg'), join(dir, 'fake.jpg'), join(dir, 'b.jpg'), '--json', '-'], {
      env: { ...process.env, MARSFM_HOME: join(home.dir, `cli-${++n}`) },
      encoding: 'utf8',
      timeout: 150_000
    })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain(`skipped ${join(dir, 'fake.jpg')}: not a readable image`)
    expect(r.stderr).not.toContain(SECRET)
    const json = JSON.parse(r.stdout) as { images: { image: string }[]; skipped: { path: string }[] }
    // 227² tiles at the demo model's 64²: nine native-resolution tiles of each readable image.
    expect(json.images.map((i) => i.image)).toEqual([...Array(9).fill(join(dir, 'a.jpg')), ...Array(9).fill(join(dir, 'b.jpg'))])
    expect(json.skipped.map((s) => s.path)).toEqual([join(dir, 'fake.jpg')])
    return 'clear-error'
  })
  hostile('reconstruction', 'every image unreadable: nothing cut, each named', async () => {
    const dir = tree({ 'x.jpg': 'text', 'y.png': '' })
    const { tiles, skipped } = await readStudyTiles([join(dir, 'x.jpg'), join(dir, 'y.png')], undefined, 224, 'resize', 10)
    expect(tiles).toEqual([])
    expect(skipped.map((s) => s.path.split('/').pop())).toEqual(['x.jpg', 'y.png'])
    return 'clear-error'
  })
})

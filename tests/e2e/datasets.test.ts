// Dataset curation in Debian's Chromium through web mode, on the real landmark tiles: import a
// folder (with broken files beside it), label by keyboard, draw a crater polygon, split by
// observation, force and see a leak, freeze, export ImageFolder and COCO, re-import and compare.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { SHARED_DATA } from '../support/built'
import { createDatasetInView, openView, type OpenView } from '../support/web-app'

const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1', 'map-proj')
const TILE_COUNT = readdirSync(LANDMARKS).filter((f) => f.endsWith('.jpg')).length

let view: OpenView
let page: Page
let pageErrors: string[]
let scratch: string

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'marsfm-e2e-datasets-'))
  writeFileSync(join(scratch, 'corrupt.jpg'), Buffer.from('this is not a JPEG at all'))
  writeFileSync(join(scratch, 'empty.png'), Buffer.alloc(0))
  writeFileSync(join(scratch, 'notes.txt'), 'not an image')
  view = await openView('nav-datasets', { width: 1500, height: 1000 })
  page = view.page
  pageErrors = view.pageErrors
})

afterAll(async () => {
  await view?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

function createDataset(name: string): Promise<void> {
  return createDatasetInView(page, name)
}

async function waitForImport(): Promise<void> {
  await page.getByTestId('import-summary').waitFor({ timeout: 120_000 })
}

describe('dataset curation in web mode', () => {
  it('imports a folder of landmark tiles and reports the bad files without stopping', async () => {
    await createDataset('landmarks-e2e')
    await page.getByTestId('annotator-name').fill('alice')
    await page.getByTestId('annotator-name').press('Tab')
    await page.getByTestId('tab-import').click()
    await page.getByTestId('import-path').fill(`${LANDMARKS}\n${scratch}`)
    await page.getByTestId('import-run').click()
    await waitForImport()
    expect(Number(await page.getByTestId('import-imported').textContent())).toBe(TILE_COUNT)
    expect(Number(await page.getByTestId('import-failed-count').textContent())).toBe(3)
    const failed = await page.getByTestId('import-failed').textContent()
    expect(failed).toMatch(/corrupt\.jpg.*not a readable image/)
    expect(failed).toMatch(/empty\.png: empty file/)
    expect(failed).toMatch(/notes\.txt: unsupported file type/)
    await expect.poll(() => page.getByTestId('dataset-tiles').textContent()).toBe(String(TILE_COUNT))
  })

  it('labels tiles by keyboard in a virtualised grid', async () => {
    await page.getByTestId('tab-tiles').click()
    const grid = page.getByTestId('tile-grid')
    await expect.poll(() => grid.getAttribute('data-count')).toBe(String(TILE_COUNT))
    // Only the rows on screen are in the DOM.
    expect(await grid.locator('.tile-cell').count()).toBeLessThan(300)
    const first = grid.locator('.tile-cell').first()
    await first.click()
    const ids = await grid.locator('.tile-cell').evaluateAll((els) => els.slice(0, 3).map((e) => e.getAttribute('data-testid')!))
    await page.keyboard.press('1')
    await page.keyboard.press('2')
    await page.keyboard.press('1')
    await expect.poll(() => page.getByTestId(ids[0]!).getAttribute('data-label')).toBe('crater')
    await expect.poll(() => page.getByTestId(ids[1]!).getAttribute('data-label')).toBe('no-crater')
    await expect.poll(() => page.getByTestId(ids[2]!).getAttribute('data-label')).toBe('crater')
    // Scrolling far down renders the rows there and still only those.
    await grid.evaluate((el) => (el.scrollTop = el.scrollHeight / 2))
    await expect.poll(() => grid.locator('.tile-cell').count()).toBeGreaterThan(0)
    expect(await grid.locator('.tile-cell').count()).toBeLessThan(300)
    await grid.evaluate((el) => (el.scrollTop = 0))
    await page.getByTestId(ids[0]!).click()
  })

  it('draws a crater polygon with undo and saves it', async () => {
    await page.getByTestId('tab-annotate').click()
    const canvas = page.getByTestId('polygon-canvas')
    await canvas.waitFor()
    const box = (await canvas.boundingBox())!
    const at = (fx: number, fy: number) => ({ x: box.x + fx * box.width, y: box.y + fy * box.height })
    for (const [fx, fy] of [[0.3, 0.3], [0.7, 0.3], [0.9, 0.9], [0.7, 0.7], [0.3, 0.7]] as const) {
      const p = at(fx, fy)
      await page.mouse.click(p.x, p.y)
    }
    await page.keyboard.press('Control+z') // takes back the stray fifth vertex… (undo)
    await page.keyboard.press('Control+z') // …and the fourth
    await page.keyboard.press('Control+y') // redo the fourth
    const last = at(0.3, 0.7)
    await page.mouse.click(last.x, last.y)
    await page.keyboard.press('Enter')
    await expect.poll(() => canvas.getAttribute('data-shapes')).toBe('1')
    await page.getByTestId('annotations-save').click()
    await expect.poll(() => page.getByTestId('annotations-status').textContent()).toBe('saved 1 shapes')
  })

  it('splits grouped by observation, flags a forced leak, and splits clean again', async () => {
    await page.getByTestId('tab-split').click()
    await page.getByTestId('split-run').click()
    await page.getByTestId('split-report').waitFor()
    await page.getByTestId('split-leaks-none').waitFor()
    const train = Number(await page.getByTestId('split-count-train').textContent())
    const valid = Number(await page.getByTestId('split-count-valid').textContent())
    expect(train + valid).toBe(TILE_COUNT)
    expect(train / TILE_COUNT).toBeGreaterThan(0.75)
    expect(train / TILE_COUNT).toBeLessThan(0.85)

    // Move one training tile to valid by hand: its observation now spans two splits.
    await page.getByTestId('tab-tiles').click()
    await page.getByTestId('filter-split').selectOption('train')
    const grid = page.getByTestId('tile-grid')
    await expect.poll(() => grid.getAttribute('data-count')).toBe(String(train))
    // A training tile whose observation has other training tiles: moving it alone leaks.
    const target = await grid.locator('.tile-cell').evaluateAll((els) => {
      const obs = els.map((e) => / · (\S+)$/.exec(e.getAttribute('title') ?? '')?.[1] ?? '')
      const i = obs.findIndex((o, k) => o && obs.indexOf(o) !== k)
      return els[obs.indexOf(obs[i]!)]!.getAttribute('data-testid')!
    })
    await page.getByTestId(target).click()
    await page.getByTestId('move-valid').click()
    await expect.poll(() => page.getByTestId('grid-leaks').textContent()).toMatch(/Leak: 1 observations/)
    await page.getByTestId('filter-split').selectOption('')
    await page.getByTestId('tab-split').click()
    await page.getByTestId('leaks-check').click()
    await expect.poll(() => page.getByTestId('split-leaks').textContent()).toMatch(/Leak: 1 observations span two splits/)

    await page.getByTestId('split-run').click()
    await page.getByTestId('split-leaks-none').waitFor()
  })

  it('freezes a version and exports ImageFolder and COCO byte-for-byte reproducibly', async () => {
    await page.getByTestId('freeze-note').fill('e2e: 3 keyboard labels, 1 polygon')
    await page.getByTestId('freeze-run').click()
    await page.getByTestId('version-1').waitFor()
    await expect.poll(() => page.getByTestId('dataset-state').textContent()).toBe('v1')

    const exportTo = async (format: string, dir: string) => {
      await page.getByTestId('export-format').selectOption(format)
      await page.getByTestId('export-dir').fill(dir)
      await page.getByTestId('export-run').click()
      await expect.poll(() => page.getByTestId('export-result').textContent(), { timeout: 120_000 }).toContain(dir)
    }
    await exportTo('imagefolder', join(scratch, 'out-if'))
    expect(Number(await page.getByTestId('export-tiles').textContent())).toBe(3)
    await exportTo('coco', join(scratch, 'out-coco'))
    expect(Number(await page.getByTestId('export-tiles').textContent())).toBe(TILE_COUNT)
    const coco = readdirSync(join(scratch, 'out-coco')).filter((d) => !d.endsWith('.json'))
    expect(coco.sort()).toEqual(['train', 'valid'])
    const cocoJson = [...['train', 'valid']].map((s) => JSON.parse(readFileSync(join(scratch, 'out-coco', s, '_annotations.coco.json'), 'utf8')) as { annotations: unknown[] })
    expect(cocoJson.reduce((n, c) => n + c.annotations.length, 0)).toBe(1)

    // The same version exported again writes the same bytes.
    const before = readFileSync(join(scratch, 'out-coco', 'train', '_annotations.coco.json'))
    await exportTo('coco', join(scratch, 'out-coco-2'))
    expect(readFileSync(join(scratch, 'out-coco-2', 'train', '_annotations.coco.json')).equals(before)).toBe(true)
  })

  it('re-imports the exports and finds the same labels and crater', async () => {
    await createDataset('reimported-e2e')
    await page.getByTestId('tab-import').click()
    await page.getByTestId('import-format').selectOption('imagefolder')
    await page.getByTestId('import-path').fill(join(scratch, 'out-if'))
    await page.getByTestId('import-run').click() // the class-mapping step first
    await page.getByTestId('import-mapping').waitFor({ timeout: 30_000 })
    await page.getByTestId('import-run').click()
    await expect.poll(() => page.getByTestId('import-imported').textContent(), { timeout: 60_000 }).toBe('3')
    await page.getByTestId('tab-tiles').click()
    await page.getByTestId('filter-label').selectOption('crater')
    await expect.poll(() => page.getByTestId('tile-grid').getAttribute('data-count')).toBe('2')
    await page.getByTestId('filter-label').selectOption('no-crater')
    await expect.poll(() => page.getByTestId('tile-grid').getAttribute('data-count')).toBe('1')
    await page.getByTestId('filter-label').selectOption('')

    await createDataset('reimported-coco-e2e')
    await page.getByTestId('tab-import').click()
    await page.getByTestId('import-format').selectOption('coco')
    await page.getByTestId('import-path').fill(join(scratch, 'out-coco'))
    await page.getByTestId('import-run').click()
    await page.getByTestId('import-mapping').waitFor({ timeout: 30_000 })
    await page.getByTestId('import-run').click()
    await expect.poll(() => page.getByTestId('import-imported').textContent(), { timeout: 120_000 }).toBe(String(TILE_COUNT))
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toMatch(/1 shapes/)
    expect(pageErrors).toEqual([])
  })
})

// Web mode in Chromium: the Import panel's class-mapping step on a real landmark list (classes
// found with counts, keep all but edge, recorded in the frozen version's details), the labelling
// tools (jump to a tile by index or name, zoom, pan, contrast stretch, mask opacity, the file name)
// and a correction that goes to adjudication and is decided there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { SHARED_DATA } from '../support/built'
import { createDatasetInView, openView, type OpenView } from '../support/web-app'

const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1')
const PER_CLASS = 4

let view: OpenView
let page: Page
let pageErrors: string[]
let scratch: string
let list: string

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'marsfm-e2e-labels-'))
  // The real list's first lines of each class: a real 6-class list that imports in seconds.
  const byClass = new Map<string, string[]>()
  for (const l of readFileSync(join(LANDMARKS, 'labels-map-proj.txt'), 'utf8').split(/\r?\n/).filter(Boolean)) {
    const c = l.split(/\s+/)[1]!
    byClass.set(c, [...(byClass.get(c) ?? []), l])
  }
  list = join(scratch, 'labels.txt')
  writeFileSync(list, [...byClass.values()].flatMap((ls) => ls.slice(0, PER_CLASS)).join('\n') + '\n')
  view = await openView('nav-datasets')
  page = view.page
  pageErrors = view.pageErrors
})

afterAll(async () => {
  await view?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe('class mapping, labelling tools and adjudication', () => {
  it('shows the classes found with counts and imports with the chosen mapping, recorded in the version', async () => {
    await createDatasetInView(page, 'landmarks-e2e')
    await page.getByTestId('tab-import').click()
    await page.getByTestId('import-format').selectOption('landmarks')
    await page.getByTestId('import-path').fill(list)
    await page.getByTestId('import-images-dir').fill(join(LANDMARKS, 'map-proj'))
    expect((await page.getByTestId('import-run').textContent())!.trim()).toBe('Next: classes…')
    await page.getByTestId('import-run').click()
    await page.getByTestId('import-mapping').waitFor({ timeout: 30_000 })
    for (const c of ['other', 'crater', 'dark-dune', 'slope-streak', 'bright-dune', 'edge']) expect(await page.getByTestId(`source-count-${c}`).textContent()).toBe(String(PER_CLASS))
    // The default: crater vs rest with edge dropped, as the data's README advises.
    expect(await page.getByTestId('mapping-crater-vs-rest').isChecked()).toBe(true)
    expect(await page.getByTestId('drop-edge').isChecked()).toBe(true)
    expect(await page.getByTestId('becomes-dark-dune').textContent()).toBe('no-crater')
    await page.getByTestId('mapping-keep').check()
    expect(await page.getByTestId('becomes-dark-dune').textContent()).toBe('dark-dune')
    expect(await page.getByTestId('becomes-edge').textContent()).toBe('(dropped)')
    expect(await page.getByTestId('mapping-result').textContent()).toMatch(/Imports as 5 classes/)
    await page.getByTestId('import-run').click()
    await expect.poll(() => page.getByTestId('import-imported').textContent(), { timeout: 60_000 }).toBe(String(PER_CLASS * 5))
    await expect.poll(() => page.getByTestId('dataset-summary').textContent()).toMatch(/classes: crater, bright-dune, dark-dune, other, slope-streak/)
    expect(await page.getByTestId('dataset-summary').textContent()).not.toMatch(/edge/)
    expect(await page.getByTestId('dataset-labelled').textContent()).toBe(String(PER_CLASS * 5))

    await page.getByTestId('tab-split').click()
    await page.getByTestId('freeze-note').fill('five classes')
    await page.getByTestId('freeze-run').click()
    await page.getByTestId('version-1-details').waitFor()
    await page.getByTestId('version-1-details').locator('summary').click()
    const mapping = await page.getByTestId('version-1-mapping').textContent()
    expect(mapping).toMatch(/landmarks .*labels\.txt.* keep:/)
    expect(mapping).toMatch(/edge \(4\) dropped/)
  })

  it('jumps to a tile by index or name, zooms, pans, stretches contrast and fades the mask', async () => {
    await page.getByTestId('tab-tiles').click()
    await expect.poll(() => page.getByTestId('tile-grid').getAttribute('data-count')).toBe(String(PER_CLASS * 5))
    await page.keyboard.press('Control+g')
    await page.getByTestId('tile-jump').fill('7')
    await page.getByTestId('tile-jump').press('Enter')
    await expect.poll(() => page.getByTestId('focused-tile-name').textContent()).toMatch(/^\s*7 \/ 20/)
    const seventh = (await page.getByTestId('focused-tile-name').locator('b').textContent())!
    await page.getByTestId('tile-jump').fill('1')
    await page.getByTestId('tile-jump').press('Enter')
    await page.getByTestId('tile-jump').fill(seventh.replace(/\.jpg$/, '').slice(-12))
    await page.getByTestId('tile-jump').press('Enter')
    await expect.poll(() => page.getByTestId('focused-tile-name').locator('b').textContent()).toBe(seventh)
    await page.getByTestId('tile-jump').fill('no-such-tile')
    await page.getByTestId('tile-jump').press('Enter')
    await page.getByTestId('tile-jump-miss').waitFor()

    await page.getByTestId('tab-annotate').click()
    expect(await page.getByTestId('editor-file-name').textContent()).toBe(seventh)
    await page.getByTestId('editor-picture').waitFor()
    const original = await page.getByTestId('editor-picture').getAttribute('src')
    const zoom0 = Number(await page.getByTestId('editor-stage').getAttribute('data-zoom'))
    await page.getByTestId('zoom-in').click()
    await page.locator('body').press('+')
    await expect.poll(async () => Number(await page.getByTestId('editor-stage').getAttribute('data-zoom'))).toBeCloseTo(zoom0 * 1.25 * 1.25, 5)
    // Zoomed past the viewport: the arrows pan.
    for (let i = 0; i < 4; i++) await page.getByTestId('zoom-in').click()
    await page.locator('body').press('ArrowRight')
    await page.locator('body').press('ArrowDown')
    await expect.poll(() => page.getByTestId('editor-viewport').evaluate((el) => el.scrollLeft)).toBeGreaterThan(0)
    expect(await page.getByTestId('editor-viewport').evaluate((el) => el.scrollTop)).toBeGreaterThan(0)
    await page.locator('body').press('f')
    await expect.poll(async () => Number(await page.getByTestId('editor-stage').getAttribute('data-zoom'))).toBeLessThan(zoom0 * 2)

    await page.locator('body').press('c')
    await expect.poll(() => page.getByTestId('editor-stage').getAttribute('data-stretch')).toMatch(/^\d+-\d+$/)
    const [low, high] = (await page.getByTestId('editor-stage').getAttribute('data-stretch'))!.split('-').map(Number)
    expect(high! - low!).toBeGreaterThan(0)
    expect(high! - low!).toBeLessThan(255) // a real tile's 2–98 % levels are a narrower window
    const stretchedSrc = await page.getByTestId('editor-picture').getAttribute('src')
    expect(stretchedSrc).toMatch(/^data:image\/png/)
    expect(stretchedSrc).not.toBe(original)
    await page.locator('body').press('c')
    await expect.poll(() => page.getByTestId('editor-picture').getAttribute('src')).toBe(original)

    expect(await page.getByTestId('mask-canvas').evaluate((el) => (el as unknown as { style: { opacity: string } }).style.opacity)).toBe('0.45')
    await page.locator('body').press(']')
    await expect.poll(() => page.getByTestId('mask-canvas').evaluate((el) => (el as unknown as { style: { opacity: string } }).style.opacity)).toBe('0.55')
    await page.locator('body').press('PageDown')
    await expect.poll(() => page.getByTestId('editor-file-name').textContent()).not.toBe(seventh)
  })

  it('sends a correction of an imported label to adjudication and decides it there', async () => {
    await page.getByTestId('tab-tiles').click()
    // A tile whose imported label is not crater (import order is not fixed), pinned by its id.
    const candidate = page.getByTestId('tile-grid').locator('.tile-cell:not([data-label="crater"])').first()
    const first = page.getByTestId((await candidate.getAttribute('data-testid'))!)
    const imported = (await first.getAttribute('data-label'))!
    expect(imported).not.toBe('crater')
    await first.click() // selects and focuses it
    await page.locator('body').press('1') // the annotator says crater
    await expect.poll(() => first.getAttribute('data-status')).toBe('corrected')
    expect(await first.getAttribute('data-label')).toBe('crater')

    await page.getByTestId('tab-conflicts').click()
    await page.getByTestId('conflicts-none').waitFor()
    await page.getByTestId('label-policy').selectOption('adjudicate')
    await expect.poll(() => page.getByTestId('conflicts-count').textContent()).toBe('1')
    await expect.poll(() => page.getByTestId('dataset-conflicts').textContent()).toBe('1 in conflict')
    expect(await page.getByTestId('dataset-labelled').textContent()).toBe(String(PER_CLASS * 5 - 1))
    const row = page.getByTestId('conflicts').locator('tbody tr').first()
    expect(await row.textContent()).toMatch(new RegExp(`landmarks \\(import\\): ${imported}`))
    await page.locator('body').press('1') // decide: crater
    await page.getByTestId('conflicts-none').waitFor()
    expect(await page.getByTestId('dataset-labelled').textContent()).toBe(String(PER_CLASS * 5))
    expect(await page.getByTestId('dataset-conflicts').count()).toBe(0)
    expect(pageErrors).toEqual([])
  })
})

// Backbones view in Chromium (web mode): a labelled landmark version imported and frozen through
// `marsfm dataset` in the same data folder; compare the shipped demo model against its untrained
// floor, read the table and the paired tests, switch the map's colouring, ask for the tiles most
// like one, reopen the study after a reload.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { landmarkImageFolder } from '../support/training-data'
import { tempHome } from '../support/temp-home'
import { CLI_ENTRY, requireBuild } from '../support/built'

let app: WebApp
let browser: Browser
let page: Page
let errors: string[]
const data = tempHome('marsfm-e2e-bb-')
const home = tempHome('marsfm-e2e-bb-home-')

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`marsfm ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

beforeAll(async () => {
  requireBuild()
  const landmarks = join(data.dir, 'landmarks')
  landmarkImageFolder(landmarks, { trainPerClass: 12, validPerClass: 6 })
  cli('dataset', 'import', 'lm', landmarks, '--format', 'imagefolder')
  cli('dataset', 'freeze', 'lm', '--note', 'e2e')
  app = await startWebApp({ MARSFM_HOME: home.dir })
  browser = await launchChromium()
  page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1500, height: 1100 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId('nav-backbones').click()
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  data.remove()
  home.remove()
})

describe('Backbones view', () => {
  it('compares the demo model with its random floor and shows the table, the tests and the map', async () => {
    await expect.poll(() => page.getByTestId('backbone-version').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/^lm v1 \(36 tiles\)/))
    await expect.poll(() => page.getByTestId('backbone-form').locator('input[type=checkbox]:checked').count()).toBeGreaterThan(0)
    await page.getByTestId('backbone-seeds').fill('0')
    await page.getByTestId('backbone-device').selectOption('cpu')
    await page.getByTestId('backbone-start').click()
    await page.getByTestId('backbone-results').waitFor({ timeout: 180_000 })
    const rows = page.getByTestId('probe-table').locator('tbody tr')
    await expect.poll(() => rows.count()).toBe(8) // 2 backbones × 2 poolings × 2 probes
    expect(await rows.first().textContent()).toMatch(/MarsFM demo.*cls.*linear\s*\d+\.\d ± 0\.0 \[\d+\.\d, \d+\.\d\]/)
    expect(await page.getByTestId('probe-comparisons').locator('tbody tr').count()).toBe(4)
    // A fresh dataset takes an import's classes, crater first (class mapping at import).
    expect((await page.getByTestId('backbone-results').textContent())!.replace(/\s+/g, ' ')).toMatch(/36 tiles from \d+ observations · classes 1-crater, 0-other · positive class 1-crater/)
    // The CSV: one record per backbone × pooling × probe × seed, RFC 4180 (the names hold commas and parentheses).
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('backbone-export-csv').click()])
    const text = await readFile((await csv.path())!, 'utf8')
    const records = text.split('\r\n').filter(Boolean)
    expect(records[0]).toBe('backbone,pooling,probe,seed,balanced_accuracy,balanced_accuracy_lower,balanced_accuracy_upper,auc,accuracy,observations,tiles')
    expect(records).toHaveLength(9)
    expect(records[1]).toMatch(/^"MarsFM demo \(tiny, Mars pre-trained\)",cls,logistic,0,0\.\d+,/)
    expect(records[5]).toMatch(/^"random init \(MarsFM demo \(tiny, Mars pre-trained\) architecture\)",cls,logistic,0,/)
    await page.getByTestId('map-colour').selectOption('observation')
    expect(await page.getByTestId('embedding-map').locator('canvas').isVisible()).toBe(true)
  })

  it('finds the tiles most like a tile, with their pictures', async () => {
    await page.getByTestId('neighbour-index').fill('2')
    await page.getByTestId('neighbour-find').click()
    const figures = page.getByTestId('neighbours').locator('figure')
    await expect.poll(() => figures.count(), { timeout: 30_000 }).toBe(13) // the query and 12 neighbours
    await expect.poll(() => page.getByTestId('neighbours').locator('img').count(), { timeout: 30_000 }).toBe(13)
    expect(await page.getByTestId('neighbours').textContent()).toMatch(/More tiles like tile 2/)
  })

  it('reopens the study from the ledger after a reload, without page errors', async () => {
    await page.reload()
    await page.getByTestId('nav-backbones').click()
    await page.getByTestId('backbone-studies').getByRole('button', { name: /^#1 / }).click()
    await expect.poll(() => page.getByTestId('probe-table').locator('tbody tr').count(), { timeout: 30_000 }).toBe(8)
    expect(errors).toEqual([])
  })
})

// A job that finishes before the reply carrying its id reaches the page (quality checks on a
// two-image dataset) must still be seen to finish: the Quality panel used to stay on "starting…".
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'

let app: WebApp
let browser: Browser
let page: Page
let pageErrors: string[]
let scratch: string

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'marsfm-e2e-fast-'))
  for (let i = 0; i < 2; i++) await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40 + 100 * i, g: 90, b: 60 } } }).png().toFile(join(scratch, `ESP_00000${i}_0000_tile.png`))
  app = await startWebApp()
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  pageErrors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId('nav-datasets').click()
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe('fast jobs in the page', () => {
  it('quality checks on a tiny dataset finish in the panel, every time', async () => {
    await page.getByTestId('dataset-new-name').fill('fast')
    await page.getByTestId('dataset-create').click()
    await expect.poll(() => page.getByTestId('dataset-select').locator('option:checked').textContent()).toBe('fast')
    await page.getByTestId('tab-import').click()
    await page.getByTestId('import-path').fill(scratch)
    await page.getByTestId('import-run').click()
    await page.getByTestId('import-summary').waitFor({ timeout: 60_000 })
    await page.getByTestId('tab-quality').click()
    // Several runs: each one is a fresh job whose events may beat its id to the page.
    for (let i = 0; i < 5; i++) {
      await page.getByTestId('quality-run').click()
      await page.getByTestId('quality-report').waitFor({ timeout: 10_000 })
      await expect.poll(() => page.getByTestId('quality-run').isEnabled(), { timeout: 10_000 }).toBe(true)
    }
    expect(pageErrors).toEqual([])
  })
})

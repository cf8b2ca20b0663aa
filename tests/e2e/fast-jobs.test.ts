// A job that finishes before the reply carrying its id reaches the page (quality checks on a
// two-image dataset) must still be seen to finish: the Quality panel used to stay on "starting…".
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Page } from 'playwright-core'
import { createDatasetInView, openView, type OpenView } from '../support/web-app'

let view: OpenView
let page: Page
let pageErrors: string[]
let scratch: string

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'marsfm-e2e-fast-'))
  for (let i = 0; i < 2; i++) await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40 + 100 * i, g: 90, b: 60 } } }).png().toFile(join(scratch, `ESP_00000${i}_0000_tile.png`))
  view = await openView('nav-datasets')
  page = view.page
  pageErrors = view.pageErrors
})

afterAll(async () => {
  await view?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe('fast jobs in the page', () => {
  it('quality checks on a tiny dataset finish in the panel, every time', async () => {
    await createDatasetInView(page, 'fast')
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

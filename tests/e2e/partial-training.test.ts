// Training view in Chromium, partial fine-tuning: "Frozen blocks" says what trains, Start refuses a
// K beyond the demo model's depth and says why, and a short run with K = 1, the linear-probe head
// start (its features through the frozen blocks in ONNX Runtime) and test-time augmentation (8
// orientations through those blocks at each evaluation) trains to the end with all three recorded
// in the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { landmarkImageFolder } from '../support/training-data'
import { tempHome } from '../support/temp-home'

let app: WebApp
let browser: Browser
let page: Page
let errors: string[]
const data = tempHome('marsfm-e2e-partial-')

beforeAll(async () => {
  landmarkImageFolder(join(data.dir, 'landmarks'), { trainPerClass: 8, validPerClass: 4 })
  app = await startWebApp()
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId('nav-training').click()
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  data.remove()
})

describe('Training view: frozen blocks', () => {
  it('refuses K beyond the depth, then trains a run with K = 1 recorded in the ledger', async () => {
    await expect.poll(() => page.getByTestId('train-model').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/demo/))
    await page.getByTestId('train-preset').selectOption('study-classification')
    await page.getByTestId('train-name').fill('e2e partial run')
    await page.getByTestId('train-data').fill(join(data.dir, 'landmarks'))
    expect(await page.getByTestId('train-freeze-summary').textContent()).toBe('every block trains')
    await page.getByTestId('train-freeze-blocks').fill('99')
    await expect.poll(() => page.getByTestId('train-start-why').textContent(), { timeout: 10_000 }).toMatch(/^Frozen blocks: this model has (\d+) encoder blocks \(\1 trains the head only\)\.$/)
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true)
    await page.getByTestId('train-freeze-blocks').fill('1')
    await expect.poll(() => page.getByTestId('train-freeze-summary').textContent()).toMatch(/^blocks 1\.\.\d+, the final norm and the head train$/)
    expect(await page.getByTestId('train-start-why').count()).toBe(0)
    await page.getByTestId('train-steps').fill('6')
    await page.getByTestId('train-batch').fill('4')
    await page.getByTestId('train-warmup').fill('0')
    await page.getByTestId('train-eval-every').fill('3')
    await page.getByTestId('train-img-size').fill('64')
    await page.getByTestId('train-head-init').selectOption('linear-probe')
    await page.getByTestId('train-tta').check()
    await page.getByTestId('train-start').click()
    await expect.poll(() => page.getByTestId('run-live').getAttribute('data-status'), { timeout: 120_000 }).toBe('done')
    expect(await page.getByTestId('train-error').count()).toBe(0)
    const db = new Database(join(app.home, 'ledger.sqlite'), { readonly: true })
    try {
      const row = db.prepare("SELECT status, config_json FROM runs WHERE name = 'e2e partial run'").get() as { status: string; config_json: string }
      expect(row.status).toBe('done')
      expect(JSON.parse(row.config_json)).toMatchObject({ freezeBlocks: 1, headInit: 'linear-probe', tta: 'dihedral' })
    } finally {
      db.close()
    }
    expect(app.stderr()).toMatch(/linear-probe head: logistic regression on the pooled features of 16 training images/)
    expect(app.stderr()).toMatch(/test-time augmentation: each evaluation scores every image in its 8 orientations/)
    expect(errors).toEqual([])
  })
})

// Sweeps view in Chromium: Alt+9 opens it; a sweep made with the small form (demo preset, a few
// steps, two seeds) on HiRISE landmark tiles runs both trials one at a time and shows progress,
// the best run and the trials table; a JSON spec with an unknown key is refused with the key named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { landmarkImageFolder } from '../support/training-data'
import { tempHome } from '../support/temp-home'

let app: WebApp
let browser: Browser
let page: Page
let errors: string[]
const data = tempHome('marsfm-e2e-sweeps-')

beforeAll(async () => {
  landmarkImageFolder(join(data.dir, 'landmarks'), { trainPerClass: 8, validPerClass: 4 })
  app = await startWebApp()
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  data.remove()
})

describe('Sweeps view', () => {
  it('creates a sweep from the form and shows its trials, progress and best run', async () => {
    await page.getByTestId('nav-datasets').waitFor()
    await page.keyboard.press('Alt+9')
    await page.getByTestId('sweeps-view').waitFor()
    await page.getByTestId('sweep-name').fill('e2e seeds')
    await page.getByTestId('sweep-folder').fill(join(data.dir, 'landmarks'))
    await page.getByTestId('sweep-steps').fill('2')
    await page.getByTestId('sweep-parameters').fill('seed = 0, 1')
    await page.getByTestId('sweep-create').click()
    await expect.poll(() => page.getByTestId('sweep-status').textContent(), { timeout: 240_000 }).toBe('done')
    await expect.poll(() => page.getByTestId('sweep-trials').locator('tbody tr').count()).toBe(2)
    expect(await page.getByTestId('sweep-trial-0').textContent()).toMatch(/#1\s*done\s*0\s*\d\.\d{4}/)
    expect(await page.getByTestId('sweep-trial-1').textContent()).toMatch(/#2\s*done\s*1\s*\d\.\d{4}/)
    expect((await page.getByTestId('sweep-best').textContent())?.trim()).toMatch(/^Best: trial [12], run #[12], val\/balanced_accuracy \d\.\d{4}\s*\(seed=[01]\)/)
    expect(await page.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('2')
    // Parallel coordinates: the swept key and the metric as axes, one line per trial's run.
    expect(await page.getByTestId('sweep-parallel').getAttribute('data-runs')).toBe('2')
    expect(await page.getByTestId('sweep-parallel').getAttribute('data-axes')).toBe('seed,val/balanced_accuracy')
    expect(await page.getByTestId('sweep-parallel-run-1').count()).toBe(1)
    expect(await page.getByTestId('sweep-list').textContent()).toMatch(/#1 e2e seeds\s*done · 2 done/)
    // The trials are ordinary runs: Experiments lists them by name.
    await page.keyboard.press('Alt+4')
    await expect.poll(() => page.getByText('e2e seeds #2').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    await page.keyboard.press('Alt+9')
    await page.getByTestId('sweep-page').waitFor()
    expect(errors).toEqual([])
  })

  it('cancels a running sweep from its page: the running trial stops, the pending one is dropped', async () => {
    await page.getByTestId('sweep-mode-form').click()
    await page.getByTestId('sweep-name').fill('e2e cancel')
    await page.getByTestId('sweep-steps').fill('2000')
    await page.getByTestId('sweep-create').click()
    await expect.poll(() => page.getByTestId('sweep-running').textContent(), { timeout: 120_000 }).toMatch(/trial 1 \(run #3\) at step [1-9]\d* \/ 2000/)
    await page.getByTestId('sweep-cancel').click()
    await expect.poll(() => page.getByTestId('sweep-status').textContent(), { timeout: 60_000 }).toBe('cancelled')
    await expect.poll(() => page.getByTestId('sweep-trial-0').textContent(), { timeout: 30_000 }).toMatch(/#3\s*cancelled/)
    expect(await page.getByTestId('sweep-trial-1').textContent()).toMatch(/^2–cancelled/)
    expect(await page.getByTestId('sweep-cancel').count()).toBe(0)
    expect(errors).toEqual([])
  })

  it('refuses a JSON spec with an unknown key, naming it, and records nothing', async () => {
    await page.getByTestId('sweep-mode-json').click()
    const spec = JSON.parse(await page.getByTestId('sweep-json').inputValue()) as { parameters: Record<string, unknown> }
    expect(spec.parameters).toEqual({ seed: { values: [0, 1] } })
    await page.getByTestId('sweep-json').fill(JSON.stringify({ ...spec, name: 'bad', parameters: { learning_rate: { values: [1e-3] } } }))
    await page.getByTestId('sweep-create').click()
    await expect.poll(() => page.getByTestId('sweep-form-error').textContent(), { timeout: 30_000 }).toMatch(/unknown run-config key "learning_rate"/)
    expect(await page.getByTestId('sweep-list').locator('li').count()).toBe(2)
    expect(errors).toEqual([])
  })
})

// Training view in Chromium: pick the demo model and a landmark ImageFolder, start a short
// classification run, watch the charts move, pause, resume to the end, find the run in Experiments,
// and delete it there (asked in place, "Keep" backs out).
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
const data = tempHome('marsfm-e2e-data-')

beforeAll(async () => {
  landmarkImageFolder(join(data.dir, 'landmarks'), { trainPerClass: 40, validPerClass: 16 })
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

const points = (id: string) => page.getByTestId(id).getAttribute('data-points').then(Number)
const status = () => page.getByTestId('run-live').getAttribute('data-status')

describe('Training view', () => {
  it('shows the memory estimate next to Start and refuses a run that cannot fit, recording nothing', async () => {
    await expect.poll(() => page.getByTestId('train-model').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/demo/))
    await expect.poll(() => page.getByTestId('train-memory').textContent(), { timeout: 30_000 }).toMatch(/^Memory: batch 4 at \d+² needs about \d+(\.\d)? [MG]B/)
    await page.getByTestId('train-name').fill('e2e too big')
    await page.getByTestId('train-data').fill(join(data.dir, 'landmarks'))
    await page.getByTestId('train-batch').fill('1024')
    await page.getByTestId('train-img-size').fill('1024')
    await expect.poll(() => page.getByTestId('train-memory').textContent(), { timeout: 30_000 }).toMatch(/^Memory: batch 1024 at 1024² needs (about|one tensor of about) [\d.]+ [GT]B.*; (the largest batch that fits is about \d+|not even batch 1 fits)/)
    await page.getByTestId('train-start').click()
    await expect.poll(() => page.getByTestId('train-error').textContent(), { timeout: 30_000 }).toMatch(/^batch 1024 at 1024² needs/)
    expect(await page.getByText('e2e too big').count()).toBe(0)
  })

  it('starts a classification run on the demo model and shows live charts', async () => {
    await expect.poll(() => page.getByTestId('train-model').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/demo/))
    // The demo preset fills in its own settings (128 px, standardised tiles, augmentation).
    await page.getByTestId('train-preset').selectOption('demo-classification')
    expect(await page.getByTestId('train-img-size').inputValue()).toBe('128')
    expect(await page.getByTestId('train-tile-norm').inputValue()).toBe('standardize')
    expect(await page.getByTestId('train-augment').isChecked()).toBe(true)
    await page.getByTestId('train-preset').selectOption('study-classification')
    expect(await page.getByTestId('train-tile-norm').inputValue()).toBe('model')
    expect(await page.getByTestId('train-augment').isChecked()).toBe(false)
    // No dataset has been frozen in this app yet: the version source says where to make one.
    const versionSource = page.getByTestId('train-data-source').locator('option[value="version"]')
    expect(await versionSource.isDisabled()).toBe(true)
    expect(await versionSource.textContent()).toMatch(/none yet: Datasets view/)
    await page.getByTestId('train-name').fill('e2e crater run')
    await page.getByTestId('train-data').fill(join(data.dir, 'landmarks'))
    await page.getByTestId('train-steps').fill('600')
    await page.getByTestId('train-batch').fill('4')
    await page.getByTestId('train-lr').fill('0.0003')
    await page.getByTestId('train-warmup').fill('5')
    await page.getByTestId('train-eval-every').fill('50')
    await page.getByTestId('train-img-size').fill('64')
    await page.getByTestId('train-start').click()
    await expect.poll(status, { timeout: 60_000 }).toBe('running')
    await expect.poll(() => points('chart-loss'), { timeout: 60_000 }).toBeGreaterThan(5)
    const before = await points('chart-loss')
    await expect.poll(() => points('chart-loss'), { timeout: 30_000 }).toBeGreaterThan(before)
    await expect.poll(() => points('chart-lr'), { timeout: 30_000 }).toBeGreaterThan(5)
    await expect.poll(() => points('chart-score'), { timeout: 60_000 }).toBeGreaterThan(0)
    expect(await page.getByTestId('run-throughput').textContent()).toMatch(/\d/)
    await page.getByTestId('confusion').waitFor()
  })

  it('pauses with a checkpoint and resumes to the end', async () => {
    await page.getByTestId('run-pause').first().click()
    await expect.poll(status, { timeout: 60_000 }).toBe('paused')
    const pausedAt = Number(await page.getByTestId('run-step').textContent())
    expect(pausedAt).toBeLessThan(600)
    await page.getByTestId('run-resume').first().click()
    await expect.poll(status, { timeout: 60_000 }).toMatch(/queued|running|done/)
    await expect.poll(status, { timeout: 240_000 }).toBe('done')
    expect(Number(await page.getByTestId('run-step').textContent())).toBe(600)
  })

  it('lists the run in Experiments with its metrics', async () => {
    await page.getByTestId('nav-experiments').click()
    const table = page.getByTestId('experiments-table')
    await table.waitFor()
    expect(await table.textContent()).toMatch(/e2e crater run/)
    expect(await table.locator('th').allTextContents()).toEqual(expect.arrayContaining(['accuracy', 'f1']))
    await page.locator('[data-testid^="compare-"]').first().check()
    await expect.poll(() => points('chart-compare'), { timeout: 10_000 }).toBeGreaterThan(0)
    expect(errors).toEqual([])
  })

  it('deletes the run from Experiments after asking in place', async () => {
    const id = (await page.locator('[data-testid^="experiment-row-"]').first().getAttribute('data-testid'))!.replace('experiment-row-', '')
    await page.getByTestId(`run-delete-${id}`).click()
    await page.getByTestId(`run-delete-keep-${id}`).click()
    expect(await page.getByTestId(`experiment-row-${id}`).count()).toBe(1)
    await page.getByTestId(`run-delete-${id}`).click()
    await page.getByTestId(`run-delete-confirm-${id}`).click()
    await expect.poll(() => page.getByTestId(`experiment-row-${id}`).count(), { timeout: 10_000 }).toBe(0)
    expect(await page.getByTestId('chart-compare').count()).toBe(0)
    await page.getByTestId('nav-training').click()
    await page.getByTestId('train-start').waitFor()
    expect(await page.getByTestId(`run-row-${id}`).count()).toBe(0)
    expect(errors).toEqual([])
  })
})

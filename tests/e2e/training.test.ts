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
    // The form keeps its state across navigation: leave it as a new user finds it.
    await page.getByTestId('train-data').fill('')
  })

  it('starts a classification run on the demo model and shows live charts', async () => {
    await expect.poll(() => page.getByTestId('train-model').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/demo/))
    // The demo preset fills in its own settings (128 px, standardised tiles, augmentation).
    await page.getByTestId('train-preset').selectOption('demo-classification')
    // ...and picks the model it was made for, the shipped crater encoder.
    expect(await page.getByTestId('train-model').locator('option:checked').textContent()).toMatch(/crater encoder.*\(demo\)/)
    expect(await page.getByTestId('train-img-size').inputValue()).toBe('128')
    expect(await page.getByTestId('train-tile-norm').inputValue()).toBe('standardize')
    expect(await page.getByTestId('train-augment').isChecked()).toBe(true)
    expect(await page.getByTestId('train-head-init').inputValue()).toBe('linear-probe')
    expect(await page.getByTestId('train-tta').isChecked()).toBe(true)
    await page.getByTestId('train-preset').selectOption('study-classification')
    expect(await page.getByTestId('train-tile-norm').inputValue()).toBe('model')
    expect(await page.getByTestId('train-augment').isChecked()).toBe(false)
    expect(await page.getByTestId('train-head-init').inputValue()).toBe('uniform')
    expect(await page.getByTestId('train-tta').isChecked()).toBe(false)
    // No dataset has been frozen in this app yet: the version source says where to make one.
    const versionSource = page.getByTestId('train-data-source').locator('option[value="version"]')
    expect(await versionSource.isDisabled()).toBe(true)
    expect(await versionSource.textContent()).toMatch(/none yet: Datasets view/)
    // A disabled Start says why.
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true)
    expect(await page.getByTestId('train-start-why').textContent()).toBe('Enter a dataset folder.')
    await page.getByTestId('train-name').fill('e2e crater run')
    await page.getByTestId('train-data').fill(join(data.dir, 'landmarks'))
    expect(await page.getByTestId('train-start-why').count()).toBe(0)
    expect(await page.getByTestId('train-best-metric').inputValue()).toBe('val/balanced_accuracy')
    await page.getByTestId('train-steps').fill('600')
    await page.getByTestId('train-batch').fill('4')
    await page.getByTestId('train-lr').fill('0.0003')
    await page.getByTestId('train-warmup').fill('5')
    await page.getByTestId('train-eval-every').fill('50')
    await page.getByTestId('train-img-size').fill('64')
    // The form survives leaving the view and coming back.
    await page.getByTestId('nav-experiments').click()
    await page.getByTestId('nav-training').click()
    expect(await page.getByTestId('train-name').inputValue()).toBe('e2e crater run')
    expect(await page.getByTestId('train-steps').inputValue()).toBe('600')
    expect(await page.getByTestId('train-img-size').inputValue()).toBe('64')
    await page.getByTestId('train-start').click()
    await expect.poll(status, { timeout: 60_000 }).toBe('running')
    // The run names its positive class (the crater folder, by name) and the Step column follows live metrics.
    expect(await page.getByTestId('train-error').count()).toBe(0)
    const runId = await page.getByTestId('run-live').getAttribute('data-run')
    await expect.poll(() => page.getByTestId(`run-row-step-${runId}`).textContent().then(Number), { timeout: 60_000 }).toBeGreaterThan(3)
    await expect.poll(() => points('chart-loss'), { timeout: 60_000 }).toBeGreaterThan(5)
    const before = await points('chart-loss')
    await expect.poll(() => points('chart-loss'), { timeout: 30_000 }).toBeGreaterThan(before)
    await expect.poll(() => points('chart-lr'), { timeout: 30_000 }).toBeGreaterThan(5)
    await expect.poll(() => points('chart-score'), { timeout: 60_000 }).toBeGreaterThan(0)
    expect(await page.getByTestId('run-throughput').textContent()).toMatch(/\d/)
    await page.getByTestId('confusion').waitFor()
    expect(await page.getByTestId('run-positive').textContent()).toBe('1_crater')
    expect(await page.getByTestId('run-balanced-accuracy').textContent()).toMatch(/^\d\.\d{3}$/)
    expect(await page.getByTestId('confusion').textContent()).toMatch(/1_crater \(positive\)/)
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

  it('starts a second run that differs only in the learning rate (then cancels it)', async () => {
    await page.getByTestId('train-lr').fill('0.0001')
    await page.getByTestId('train-start').click()
    await expect.poll(() => page.getByTestId('run-row-2').getAttribute('data-status'), { timeout: 60_000 }).toMatch(/queued|running/)
    await page.getByTestId('run-row-2').getByTestId('run-cancel').click()
    await expect.poll(() => page.getByTestId('run-row-2').getAttribute('data-status'), { timeout: 60_000 }).toBe('cancelled')
  })

  it('lists the run in Experiments with its metrics', async () => {
    await page.getByTestId('nav-experiments').click()
    const table = page.getByTestId('experiments-table')
    await table.waitFor()
    expect(await table.textContent()).toMatch(/e2e crater run/)
    // Balanced accuracy and AUC first; the positive class's metrics say whose they are.
    const heads = await table.locator('th').allTextContents()
    expect(heads).toEqual(expect.arrayContaining(['balanced accuracy', 'auc (1_crater)', 'f1 (1_crater)', 'recall (1_crater)', 'accuracy']))
    expect(heads.indexOf('balanced accuracy')).toBeLessThan(heads.indexOf('accuracy'))
    await page.getByTestId('compare-1').check()
    await expect.poll(() => points('chart-compare'), { timeout: 10_000 }).toBeGreaterThan(0)
    expect(errors).toEqual([])
  })

  it('shows a config diff of the chosen runs: exactly the one setting that differs', async () => {
    expect(await page.getByTestId('config-diff').count()).toBe(0)
    await page.getByTestId('compare-2').check()
    const diff = page.getByTestId('config-diff')
    await diff.waitFor()
    const rows = diff.locator('tbody tr')
    await expect.poll(() => rows.count()).toBe(1)
    expect(await rows.first().getAttribute('data-testid')).toBe('config-diff-optimizer.lr')
    expect((await rows.first().locator('td').allTextContents()).map((t) => t.trim())).toEqual(['optimizer.lr', '0.0003', '0.0001'])
    // One run chosen: no diff.
    await page.getByTestId('compare-1').uncheck()
    expect(await page.getByTestId('config-diff').count()).toBe(0)
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

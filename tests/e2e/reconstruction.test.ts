// Reconstruction view in Chromium (web mode): import the tiny model, run a small study on a
// folder of real HiRISE tiles, see the results table, the chart and the gallery; step through the
// enlarged gallery with the keyboard; export the tables; cancel a study and keep its finished tiles
// as a partial study; reopen the study from the list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { ROOT, SHARED_DATA } from '../support/built'
import { probeWebGpu } from '@engine/gpu/adapter'

const FIX = resolve(ROOT, 'tests/fixtures/checkpoints')
// The study runs on ONNX Runtime's WebGPU provider wherever an adapter exists (lavapipe included).
const device = (await probeWebGpu()).available ? 'webgpu' : 'cpu'
let app: WebApp
let browser: Browser
let page: Page
let errors: string[]

beforeAll(async () => {
  app = await startWebApp()
  browser = await launchChromium()
  page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1500, height: 1000 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
})

describe('Reconstruction view', () => {
  it('runs a study on a folder of real tiles and shows the table, the chart and the gallery', async () => {
    await page.getByTestId('nav-models').click()
    await page.getByTestId('model-path').fill(resolve(FIX, 'tiny_prithvi.pt'))
    await page.getByTestId('model-config').fill(resolve(FIX, 'Prithvi_tiny_config.yaml'))
    await page.getByTestId('model-import').click()
    await expect.poll(() => page.getByTestId('import-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('done')
    await page.getByTestId('nav-reconstruction').click()
    await page.getByTestId('recon-folder').fill(join(SHARED_DATA, 'hirise-rgb'))
    // The shipped demo model is listed too; pick the tiny parity model.
    await expect.poll(() => page.getByTestId('recon-model').locator('option', { hasText: 'tiny_prithvi' }).count(), { timeout: 10_000 }).toBe(1)
    await page.getByTestId('recon-model').selectOption({ label: (await page.getByTestId('recon-model').locator('option', { hasText: 'tiny_prithvi' }).textContent())!.trim() })
    await page.getByTestId('recon-tiles').fill('5')
    await page.getByTestId('method-luminance-dup').check()
    await page.getByTestId('recon-device').selectOption(device)
    await page.getByTestId('recon-start').click()
    await expect.poll(() => page.getByTestId('recon-job').getAttribute('data-state'), { timeout: 120_000 }).toBe('done')
    await page.getByTestId('results-table').waitFor({ timeout: 30_000 })
    for (const m of ['means', 'prenorm-dup', 'postnorm-dup', 'luminance-dup']) {
      expect(await page.getByTestId(`results-row-${m}`).textContent()).toMatch(/\d\.\d{4} ± \d\.\d{4}/)
    }
    expect(await page.getByTestId('pairs-table').locator('tbody tr').count()).toBe(12)
    // A cell is two lines at most: mean ± SD, then the interval (also on hover); it never wraps.
    const cell = page.getByTestId('results-cell-means-modelLoss')
    type Styled = { getComputedStyle(el: unknown): { whiteSpace: string; fontSize: string } }
    expect(await cell.evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).whiteSpace)).toBe('nowrap')
    expect(await cell.getAttribute('title')).toMatch(/^95 % interval \[\d\.\d{4}, \d\.\d{4}\], n = 5$/)
    // Each of the two parts is one line high (a line is at most about 1.5 × its font size).
    for (const part of ['.mean', '.interval']) {
      const ratio = await cell
        .locator(part)
        .evaluate((el) => (el as unknown as { getBoundingClientRect(): { height: number } }).getBoundingClientRect().height / parseFloat((globalThis as unknown as Styled).getComputedStyle(el).fontSize))
      expect(ratio).toBeLessThan(1.9)
    }
    // Tiled at native resolution by default: the five tiles are cells of the first image.
    expect(await page.getByTestId('study-results').textContent()).toContain('native-resolution tiles')
    expect(await page.getByTestId('study-device').textContent()).toBe(`ort on ${device}`)
    // The chart drew bars on its canvas.
    type Canvas2d = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } }
    const painted = await page.getByTestId('loss-chart').locator('canvas').evaluate((el) => {
      const c = el as unknown as Canvas2d
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++
      return n
    })
    expect(painted).toBeGreaterThan(1000)
    // Five gallery rows: original, masked, 4 reconstructions, 4 heat maps.
    await expect.poll(() => page.getByTestId('gallery').locator('.gallery-row').count(), { timeout: 30_000 }).toBe(5)
    expect(await page.getByTestId('gallery-row-0').locator('img').count()).toBe(10)
    expect(await page.getByTestId('gallery-row-0').locator('img').first().getAttribute('src')).toMatch(/^data:image\/png;base64,/)
    expect(errors).toEqual([])
  })

  it('enlarges a panel and steps with the arrow keys; Esc closes', async () => {
    await page.getByTestId('gallery-row-0').locator('img').first().click()
    const lightbox = page.getByTestId('lightbox')
    await lightbox.waitFor()
    expect(await lightbox.textContent()).toMatch(/original/)
    await page.keyboard.press('ArrowRight')
    expect(await lightbox.textContent()).toMatch(/masked input/)
    await page.keyboard.press('ArrowLeft')
    await page.keyboard.press('ArrowLeft')
    expect(await lightbox.textContent()).toMatch(/ESP_011472_1225_\d+_0\.jpg/)
    await page.keyboard.press('Escape')
    await lightbox.waitFor({ state: 'detached' })
  })

  it('exports the per-tile table as CSV and the figure as PNG', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-results').click()])
    expect(csv.suggestedFilename()).toMatch(/^study-\d+-results\.csv$/)
    const text = await (await import('node:fs/promises')).readFile((await csv.path())!, 'utf8')
    expect(text.split('\r\n')[0]).toBe('tile,method,mask_seed,model_loss,rgb_loss,display_mse,psnr,ssim')
    expect(text.trim().split('\r\n')).toHaveLength(1 + 5 * 4)
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-figure').click()])
    expect(png.suggestedFilename()).toMatch(/figure\.png$/)
    const bytes = await (await import('node:fs/promises')).readFile((await png.path())!)
    expect(bytes.subarray(1, 4).toString()).toBe('PNG')
  })

  it('cancelling keeps the finished tiles as a partial study, marked with its counts', async () => {
    await page.getByTestId('recon-tiles').fill('1024')
    await page.getByTestId('recon-device').selectOption('cpu')
    await page.getByTestId('recon-start').click()
    const job = page.getByTestId('recon-job')
    await expect.poll(async () => {
      const text = (await job.textContent()) ?? ''
      const m = /(\d+) of 1024 tiles/.exec(text)
      return m ? Number(m[1]) : 0
    }, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(4)
    await page.getByTestId('recon-cancel').click()
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 60_000 }).toBe('cancelled')
    const banner = page.getByTestId('study-partial')
    await banner.waitFor({ timeout: 30_000 })
    const m = /cancelled after (\d+) of 1024 tiles/.exec((await banner.textContent())!)
    expect(m).not.toBeNull()
    const done = Number(m![1])
    expect(done).toBeGreaterThanOrEqual(4)
    expect(done).toBeLessThan(1024)
    const row = page.getByTestId('studies-table').locator('tbody tr').first()
    expect(await row.textContent()).toContain(`partial${done} of 1024`)
    expect(await page.getByTestId('results-table').locator('tbody tr').count()).toBe(4)
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-results').click()])
    const text = await (await import('node:fs/promises')).readFile((await csv.path())!, 'utf8')
    expect(text.trim().split('\r\n')).toHaveLength(1 + done * 4)
    expect(errors).toEqual([])
  })

  it('lists the study and reopens it after a reload', async () => {
    await page.reload()
    await page.getByTestId('studies-table').waitFor()
    // The first study (the newest is the partial one above).
    const row = page.getByTestId('studies-table').locator('tbody tr').last()
    expect(await row.textContent()).toMatch(/done/)
    await row.click()
    await page.getByTestId('results-table').waitFor()
    expect(await page.getByTestId('results-table').locator('tbody tr').count()).toBe(4)
    await expect.poll(() => page.getByTestId('gallery').locator('.gallery-row').count(), { timeout: 30_000 }).toBe(5)
    expect(errors).toEqual([])
  })

  it('runs a MOMO-layout MAE with its own input (native) on the same tiles', async () => {
    const mae = resolve(ROOT, 'tests/fixtures/mae')
    await page.getByTestId('nav-models').click()
    await page.getByTestId('model-path').fill(resolve(mae, 'tiny_mae.pth'))
    await page.getByTestId('model-config').fill(resolve(mae, 'tiny_mae.json'))
    await page.getByTestId('model-import').click()
    await expect.poll(() => page.getByTestId('import-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('done')
    await page.getByTestId('nav-reconstruction').click()
    await page.getByTestId('recon-folder').fill(join(SHARED_DATA, 'hirise-rgb'))
    await expect.poll(() => page.getByTestId('recon-model').locator('option', { hasText: 'tiny_mae' }).count(), { timeout: 10_000 }).toBe(1)
    await page.getByTestId('recon-model').selectOption({ label: (await page.getByTestId('recon-model').locator('option', { hasText: 'tiny_mae' }).textContent())!.trim() })
    // No recipes for this family: its one method, with its statistics.
    expect(await page.getByTestId('recon-native').textContent()).toMatch(/native.*mean 0\.5006/)
    expect(await page.getByTestId('recon-methods').count()).toBe(0)
    await page.getByTestId('recon-tiles').fill('3')
    await page.getByTestId('recon-start').click()
    await expect.poll(() => page.getByTestId('recon-job').getAttribute('data-state'), { timeout: 120_000 }).toBe('done')
    await page.getByTestId('results-row-native').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('results-row-native').textContent()).toMatch(/\d\.\d{4} ± \d\.\d{4}/)
    // The study says what input it recorded.
    expect(await page.getByTestId('study-preprocessing').textContent()).toBe('native: 0-1 scale, grey replicated to RGB, mean 0.5006/0.5006/0.5006 std 0.1664/0.1664/0.1664')
    expect(errors).toEqual([])
  })
})

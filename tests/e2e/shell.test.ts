// The workstation in Debian's Chromium through web mode: every view renders, a demo job runs
// with live progress and can be cancelled, and the System view shows the engine's backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'

let app: WebApp
let browser: Browser
let page: Page
let pageErrors: string[]

beforeAll(async () => {
  app = await startWebApp()
  browser = await launchChromium()
  page = await browser.newPage()
  pageErrors = watchPageErrors(page)
  await page.goto(app.url)
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
})

const VIEWS = ['datasets', 'reconstruction', 'training', 'experiments', 'inference', 'models', 'system']

describe('app shell in web mode', () => {
  it('visits every view from the sidebar', async () => {
    for (const view of VIEWS) {
      await page.getByTestId(`nav-${view}`).click()
      await page.waitForURL(new RegExp(`#/${view}$`))
      await expect(page.locator('main h1').first().textContent()).resolves.toBeTruthy()
    }
    expect(pageErrors).toEqual([])
  })

  it('switches views with keyboard shortcuts', async () => {
    await page.keyboard.press('Alt+6')
    await page.waitForURL(/#\/models$/)
    await page.keyboard.press('Alt+7')
    await page.waitForURL(/#\/system$/)
  })

  it('shows the engine backend and ONNX Runtime in the System view', async () => {
    await page.getByTestId('nav-system').click()
    await expect.poll(() => page.getByTestId('engine-state').textContent(), { timeout: 60_000 }).toBe('ready')
    expect(['wasm', 'cpu', 'tensorflow']).toContain(await page.getByTestId('tf-backend').textContent())
    await expect.poll(() => page.getByTestId('ort-version').textContent(), { timeout: 30_000 }).toMatch(/^\d+\.\d+/)
    expect(await page.getByTestId('data-dir').textContent()).toContain(app.home)
    // The GPU card describes the adapter Dawn found (lavapipe here: software, never picked automatically)
    // or says that there is none and what WebGPU needs.
    const gpuCard = page.getByTestId('gpu-card')
    await expect.poll(() => gpuCard.textContent()).toMatch(/Native API(Vulkan|Metal|D3D12)|No WebGPU adapter was found/)
    if (await page.getByTestId('gpu-kind').count()) {
      const software = (await page.getByTestId('gpu-kind').textContent())!.startsWith('software')
      if (software) expect(await page.getByTestId('tried-webgpu').textContent()).toMatch(/never picked automatically.*to use it:.*MARSFM_TF_BACKEND=webgpu/s)
    }
  })

  it('starts a demo job, shows its progress in the jobs tray, and cancels it', async () => {
    await page.getByTestId('demo-steps').fill('100000')
    await page.getByTestId('demo-step-ms').fill('50')
    await page.getByTestId('demo-start').click()
    await page.getByTestId('jobs-toggle').click()
    const job = page.locator('[data-testid^="job-"][data-state="running"]').first()
    await job.waitFor()
    // Progress moves: the label reads "n / 100000" with n growing.
    const label = job.locator('.progress-label')
    await expect.poll(async () => Number((await label.textContent())?.split('/')[0]), { timeout: 30_000 }).toBeGreaterThan(2)
    const id = await job.getAttribute('data-testid')
    await job.getByTestId('job-cancel').click()
    await expect.poll(() => page.getByTestId(id!).getAttribute('data-state'), { timeout: 30_000 }).toBe('cancelled')
    expect(pageErrors).toEqual([])
  })
})

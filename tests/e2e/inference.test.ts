// Inference view in Chromium (web mode): with a tiny classification run trained beforehand through
// `marsfm train` in the same data folder, classify its validation folder and see the table, the
// histogram and the metrics; move the threshold and watch the confusion matrix follow; filter to
// misclassified rows, sort, step with the keyboard and enlarge; export the CSV; reopen after a reload.
// Then a heat map over a real 2000² CTX tile: drawn over the image, its opacity, PNG and CSV exports.
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { landmarkImageFolder } from '../support/training-data'
import { tempHome } from '../support/temp-home'
import { CLI_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { probeWebGpu } from '@engine/gpu/adapter'
import { listExecutionProviders } from '@engine/onnx/runtime'

const gpu = await probeWebGpu()
// Where 'auto' must stay on the CPU: a software adapter only (or none), and no CUDA provider.
const autoIsCpu = (!gpu.available || gpu.adapter.software) && !listExecutionProviders().cuda.installed

let app: WebApp
let browser: Browser
let page: Page
let errors: string[]
const data = tempHome('marsfm-e2e-infer-')
const home = tempHome('marsfm-e2e-infer-home-')
const VALID = 8 // per class
const CTX_TILE = join(SHARED_DATA, 'ctx-crater-catalogue', 'images', 'MC11E-A.png')
let validFolder = ''

beforeAll(async () => {
  requireBuild()
  const landmarks = join(data.dir, 'landmarks')
  validFolder = join(landmarks, 'valid')
  landmarkImageFolder(landmarks, { trainPerClass: 12, validPerClass: VALID })
  const config = join(data.dir, 'run.json')
  writeFileSync(
    config,
    JSON.stringify({
      name: 'tiny crater run',
      task: 'classification',
      model: { demo: true },
      data: { kind: 'folder', path: landmarks, layout: 'imagefolder' },
      imgSize: 64,
      steps: 4,
      batchSize: 4,
      optimizer: { name: 'adamw', lr: 3e-4 },
      eval: { everySteps: 4, maxImages: 0 },
      checkpoint: { everySteps: 0, bestMetric: 'val/accuracy', mode: 'max' }
    })
  )
  const r = spawnSync(process.execPath, [CLI_ENTRY, 'train', '--config', config], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`marsfm train failed: ${r.stderr}`)
  app = await startWebApp({ MARSFM_HOME: home.dir })
  browser = await launchChromium()
  page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1500, height: 1000 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId('nav-inference').click()
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  data.remove()
  home.remove()
})

const cell = (t: number, p: number) => page.getByTestId(`cm-${t}-${p}`).textContent().then(Number)
const rowCount = () => page.getByTestId('predictions-table').locator('tbody tr').count()

describe('Inference view', () => {
  it('classifies a folder with the run’s best checkpoint and shows the table, histogram and metrics', async () => {
    await expect.poll(() => page.getByTestId('infer-run').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/tiny crater run/))
    const checkpoints = await page.getByTestId('infer-checkpoint').locator('option').allTextContents()
    expect(checkpoints).toContainEqual(expect.stringMatching(/^best @ step 4 · val\/accuracy \d/))
    expect(checkpoints).toContainEqual(expect.stringMatching(/^last @ step 4/))
    await page.getByTestId('infer-folder').fill(validFolder)
    await page.getByTestId('infer-start').click()
    await expect.poll(() => page.getByTestId('infer-job').getAttribute('data-state'), { timeout: 120_000 }).toBe('done')
    await page.getByTestId('infer-results').waitFor({ timeout: 30_000 })
    expect(await rowCount()).toBe(2 * VALID)
    // The Device choice was left at auto: the results say where it ran and, on the CPU, why.
    expect(await page.getByTestId('infer-device').inputValue()).toBe('auto')
    const used = (await page.getByTestId('infer-device-used').textContent())!
    if (autoIsCpu) {
      expect(used).toBe('ort on cpu (asked: auto)')
      expect(await page.getByTestId('infer-device-fallback').textContent()).toMatch(/Device auto → cpu: .*WebGPU/)
    } else expect(used).toMatch(/^ort on (webgpu|cuda) \(asked: auto\)$/)
    expect(await page.getByTestId('predictions-table').locator('tbody img').count()).toBe(2 * VALID) // thumbnails for the first 100 rows
    expect(await page.getByTestId('metric-labelled').textContent()).toBe(String(2 * VALID))
    expect(await page.getByTestId('metric-accuracy').textContent()).toMatch(/^\d+\.\d %$/)
    // Everything binary names the positive class; balanced accuracy and AUC lead.
    expect(await page.getByTestId('threshold-label').textContent()).toMatch(/p\(1_crater\), the positive class/)
    expect(await page.getByTestId('metric-recall-label').textContent()).toBe('Recall (1_crater)')
    expect(await page.getByTestId('metric-balanced-accuracy').textContent()).toMatch(/^\d+\.\d %$/)
    expect(Number(await page.getByTestId('metric-auc').textContent())).toBeGreaterThanOrEqual(0)
    // The threshold that maximised balanced accuracy on the run's validation set (these same images).
    const suggested = Number(await page.getByTestId('threshold-suggested').getAttribute('data-value'))
    expect(suggested).toBeGreaterThan(0)
    expect(suggested).toBeLessThan(1)
    const stated = Number((await page.getByTestId('threshold-suggested').textContent())!.match(/balanced accuracy \((\d\.\d+) on/)![1])
    await page.getByTestId('threshold-use-suggested').click()
    expect(await page.getByTestId('threshold-value').textContent()).toBe(suggested.toFixed(2))
    // Inference on the validation images at that threshold gives the stated balanced accuracy (within the stored precision).
    expect(Number((await page.getByTestId('metric-balanced-accuracy').textContent())!.replace(' %', '')) / 100).toBeCloseTo(stated, 2)
    expect((await cell(0, 0)) + (await cell(0, 1)) + (await cell(1, 0)) + (await cell(1, 1))).toBe(2 * VALID)
    expect(await page.getByTestId('prob-histogram').getAttribute('data-count')).toBe(String(2 * VALID))
    type Canvas2d = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } }
    const painted = await page.getByTestId('prob-histogram').locator('canvas').evaluate((el) => {
      const c = el as unknown as Canvas2d
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++
      return n
    })
    expect(painted).toBeGreaterThan(1000)
    expect(errors).toEqual([])
  })

  it('recomputes the confusion matrix at the threshold; filters misclassified rows; sorts by probability', async () => {
    await page.getByTestId('threshold').fill('0')
    expect(await page.getByTestId('threshold-value').textContent()).toBe('0.00')
    // Everything is predicted positive at 0.
    expect(await cell(0, 0)).toBe(0)
    expect(await cell(0, 1)).toBe(VALID)
    expect(await cell(1, 1)).toBe(VALID)
    await page.getByTestId('misclassified-only').check()
    expect(await rowCount()).toBe(VALID)
    await page.getByTestId('misclassified-only').uncheck()
    await page.getByTestId('threshold').fill('0.5')
    const scores = async () => (await page.getByTestId('predictions-table').locator('tbody td.score .value').allTextContents()).map(Number)
    const desc = await scores()
    expect(desc).toEqual([...desc].sort((a, b) => b - a))
    await page.getByTestId('sort-score').click()
    const asc = await scores()
    expect(asc).toEqual([...desc].reverse())
  })

  it('moves through the rows with ↑/↓ and enlarges with Enter; Esc closes', async () => {
    await page.locator('body').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    const selected = page.getByTestId('predictions-table').locator('tbody tr.selected')
    expect(await selected.count()).toBe(1)
    const name = (await selected.locator('td.name').textContent())!.trim()
    expect(await page.getByTestId('predictions-table').locator('tbody tr').nth(2).getAttribute('class')).toMatch(/selected/)
    await page.keyboard.press('Enter')
    const box = page.getByTestId('prediction-lightbox')
    await box.waitFor()
    expect(await box.textContent()).toContain(name)
    await expect.poll(() => box.locator('img').getAttribute('src'), { timeout: 15_000 }).toMatch(/^data:image\/png;base64,/)
    await page.keyboard.press('ArrowDown')
    await expect.poll(() => box.textContent()).not.toContain(name)
    await page.keyboard.press('Escape')
    await box.waitFor({ state: 'detached' })
  })

  it('exports the table as CSV', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()])
    expect(csv.suggestedFilename()).toMatch(/^inference-\d+\.csv$/)
    const lines = (await readFile((await csv.path())!, 'utf8')).trim().split('\r\n')
    expect(lines[0]).toBe('name,path,p_0_other,p_1_crater,predicted,true,correct')
    expect(lines).toHaveLength(1 + 2 * VALID)
  })

  it('lists the job and reopens it after a reload', async () => {
    await page.reload()
    await page.getByTestId('inference-list').waitFor()
    const row = page.getByTestId('inference-list').locator('tbody tr').first()
    expect(await row.textContent()).toMatch(/done/)
    await row.click()
    await page.getByTestId('infer-results').waitFor()
    expect(await rowCount()).toBe(2 * VALID)
    expect(errors).toEqual([])
  })

  it('maps a 2000² CTX tile window by window and shows the map over the image, with its opacity', async () => {
    const card = page.getByTestId('heatmap-card')
    await expect.poll(() => card.getByTestId('heatmap-run').locator('option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/tiny crater run/))
    expect(await card.getByTestId('heatmap-class').textContent()).toContain('p(1_crater)')
    await card.getByTestId('heatmap-image').fill(CTX_TILE)
    await card.getByTestId('heatmap-window').fill('256')
    await card.getByTestId('heatmap-stride').fill('512')
    // A stride larger than the window would skip pixels: Map stays disabled and says why.
    expect(await card.getByTestId('heatmap-start').isDisabled()).toBe(true)
    expect(await card.textContent()).toContain('The stride must not exceed the window')
    await card.getByTestId('heatmap-stride').fill('256')
    await card.getByTestId('heatmap-start').click()
    await expect.poll(() => card.getByTestId('heatmap-job').getAttribute('data-state'), { timeout: 120_000 }).toBe('done')
    await card.getByTestId('heatmap').waitFor({ timeout: 30_000 })
    expect(await card.getByTestId('heatmap-windows').textContent()).toBe('64')
    // The map is painted over the whole image (every pixel is covered by some window).
    type Canvas2d = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } }
    const overlay = card.getByTestId('heatmap-overlay')
    const painted = await overlay.evaluate((el) => {
      const c = el as unknown as Canvas2d
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++
      return { n, total: c.width * c.height }
    })
    expect(painted.total).toBe(1600 * 1600)
    expect(painted.n).toBe(painted.total)
    await card.getByTestId('heatmap-opacity').fill('0.2')
    expect(await overlay.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el).opacity)).toBe('0.2')
    await overlay.hover({ position: { x: 50, y: 50 } })
    expect(await card.getByTestId('heatmap-hover').textContent()).toMatch(/x \d+, y \d+: p = \d\.\d{3}/)
  })

  it('exports the heat map as PNG and its windows as CSV', async () => {
    const card = page.getByTestId('heatmap-card')
    const [csv] = await Promise.all([page.waitForEvent('download'), card.getByTestId('heatmap-export-csv').click()])
    expect(csv.suggestedFilename()).toBe('MC11E-A-windows.csv')
    const lines = (await readFile((await csv.path())!, 'utf8')).trim().split('\r\n')
    expect(lines[0]).toBe('x,y,width,height,probability')
    expect(lines).toHaveLength(1 + 64)
    expect(lines[64]!.split(',').slice(0, 4)).toEqual(['1744', '1744', '256', '256'])
    const [png] = await Promise.all([page.waitForEvent('download'), card.getByTestId('heatmap-export-png').click()])
    expect(png.suggestedFilename()).toBe('MC11E-A-heatmap.png')
    const bytes = await readFile((await png.path())!)
    expect(bytes.subarray(1, 4).toString()).toBe('PNG')
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1600, 1600])
    expect(errors).toEqual([])
  })
})

// Experiments in Chromium over web mode, on a ledger seeded with six finished runs (two learning
// rates × three seeds, a frozen dataset version): names instead of hashes, filter and sort, overlay
// panels with EMA smoothing, group by the learning rate with mean ± std bands, parallel coordinates
// (hover names a run, click chooses it), CSV and PNG export, and a run page whose notes and tags are
// saved in the ledger and survive a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { openLedger } from '@main/ledger/ledger'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { seedDatasetVersion, seedRuns, type SeededRun } from '../support/experiment-ledger'

let app: WebApp
let browser: Browser
let page: Page
let errors: string[]
let runs: SeededRun[] = []

beforeAll(async () => {
  app = await startWebApp({}, {
    seed: (home) => {
      const ledger = openLedger(home)
      const versionId = seedDatasetVersion(ledger.db, 'craters')
      runs = seedRuns(ledger.db, { versionId, modelId: null, lrs: [0.001, 0.01], seeds: [0, 1, 2], steps: 200, checkpointDir: join(home, 'runs') })
      ledger.close()
    }
  })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId('nav-experiments').click()
  await page.getByTestId('experiments-table').waitFor()
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
})

const rowIds = async () => (await page.locator('[data-testid^="experiment-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid')!))).map((t) => Number(t.replace('experiment-row-', '')))
const attr = (id: string, name: string) => page.getByTestId(id).getAttribute(name)

describe('Experiments view', () => {
  it('lists every run with the dataset version and model by name, filters and sorts', async () => {
    await expect.poll(rowIds, { timeout: 20_000 }).toHaveLength(6)
    const first = page.getByTestId(`experiment-row-${runs[0]!.id}`)
    expect(await first.textContent()).toContain('craters v1')
    expect(await first.textContent()).toContain('demo model')
    expect(await first.textContent()).not.toContain('ffffffff')
    await page.getByTestId('experiments-filter').fill('optimizer.lr=0.01')
    await expect.poll(rowIds).toEqual(runs.filter((r) => r.lr === 0.01).map((r) => r.id).reverse())
    await page.getByTestId('experiments-filter').fill('')
    // Sorting by a loss puts the lowest first (here the higher lr and the lower seed), a second click reverses.
    await page.getByTestId('experiments-col-val/loss').click()
    expect(await attr('experiments-col-val/loss', 'aria-sort')).toBe('ascending')
    const order = [...runs].sort((a, b) => b.lr - a.lr || a.seed - b.seed).map((r) => r.id)
    expect(await rowIds()).toEqual(order)
    await page.getByTestId('experiments-col-val/loss').click()
    expect(await attr('experiments-col-val/loss', 'aria-sort')).toBe('descending')
    expect(await rowIds()).toEqual([...order].reverse())
    await page.getByTestId('experiments-sort-id').click()
  })

  it('overlays the chosen runs in several panels, with EMA smoothing', async () => {
    await page.getByTestId('experiments-choose-shown').click()
    await expect.poll(() => attr('chart-compare', 'data-lines'), { timeout: 20_000 }).toBe('6')
    // Two default panels: balanced accuracy (20 evaluations per run) and the training loss (200 steps).
    expect(await page.getByTestId('compare-metric').inputValue()).toBe('val/balanced_accuracy')
    await expect.poll(() => attr('chart-compare', 'data-points')).toBe(String(6 * 20))
    await expect.poll(() => attr('chart-compare-1', 'data-points')).toBe(String(6 * 200))
    await page.getByTestId('overlay-add-metric').selectOption('val/loss')
    await expect.poll(() => attr('chart-compare-2', 'data-lines'), { timeout: 10_000 }).toBe('6')
    await page.getByTestId('overlay-ema').fill('0.9')
    expect(await page.getByTestId('overlay-ema-value').textContent()).toBe('0.90')
    await page.getByTestId('overlay-remove-2').click()
    expect(await page.getByTestId('chart-compare-2').count()).toBe(0)
  })

  it('groups by the learning rate: one mean line with a ± std band per group', async () => {
    await page.getByTestId('overlay-group-by').selectOption('optimizer.lr')
    await expect.poll(() => attr('chart-compare-1', 'data-lines')).toBe('2')
    expect(await attr('chart-compare-1', 'data-bands')).toBe('2')
    expect(await attr('chart-compare-1', 'data-labels')).toBe('optimizer.lr = 0.001 (3 runs)|optimizer.lr = 0.01 (3 runs)')
    expect(await page.getByTestId('overlay-groups').textContent()).toMatch(/2 groups by optimizer\.lr/)
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('overlay-png-1').click()])
    expect(png.suggestedFilename()).toBe('marsfm-train_loss.png')
    const bytes = await readFile((await png.path())!)
    expect(bytes.subarray(1, 4).toString()).toBe('PNG')
    await page.getByTestId('overlay-group-by').selectOption('')
    await expect.poll(() => attr('chart-compare-1', 'data-lines')).toBe('6')
    await page.getByTestId('overlay-ema').fill('0')
  })

  it('draws parallel coordinates of the hyper-parameters against a metric; hover names a run, click chooses it', async () => {
    const pc = page.getByTestId('parallel-coordinates')
    await pc.waitFor()
    expect(await pc.getAttribute('data-axes')).toBe('optimizer.lr,seed,val/balanced_accuracy')
    const target = runs[2]!
    await page.getByTestId('experiments-choose-none').click()
    // Lines cross, so the events go to the line itself rather than to a point under the mouse.
    await page.getByTestId(`parallel-coordinates-run-${target.id}`).dispatchEvent('mouseenter')
    expect(await page.getByTestId('parallel-coordinates-caption').textContent()).toContain(`#${target.id} ${target.name}`)
    await page.getByTestId(`parallel-coordinates-run-${target.id}`).dispatchEvent('click')
    expect(await page.getByTestId(`compare-${target.id}`).isChecked()).toBe(true)
    await page.getByTestId('parallel-metric').selectOption('val/loss')
    expect(await pc.getAttribute('data-axes')).toBe('optimizer.lr,seed,val/loss')
  })

  it('exports the table as CSV with names', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('experiments-csv').click()])
    const lines = (await readFile((await csv.path())!, 'utf8')).trim().split('\r\n')
    expect(lines).toHaveLength(7)
    const head = lines[0]!.split(',')
    const row = lines[1]!.split(',')
    expect(row[head.indexOf('dataset')]).toBe('craters v1')
    expect(row[head.indexOf('model')]).toBe('demo model')
  })
})

describe('run page', () => {
  it('shows the run: names, backend, device, seed, duration, checkpoints, full config and charts', async () => {
    const r = runs[1]!
    await page.getByTestId(`run-link-${r.id}`).click()
    await page.getByTestId('run-page').waitFor()
    expect(page.url()).toMatch(new RegExp(`#/experiments/runs/${r.id}$`))
    expect(await page.getByTestId('run-page-name').textContent()).toBe(`#${r.id} ${r.name}`)
    expect(await page.getByTestId('run-page-dataset').textContent()).toBe('craters v1')
    expect(await page.getByTestId('run-page-model').textContent()).toBe('demo model')
    expect(await page.getByTestId('run-page-backend').textContent()).toBe('wasm')
    expect(await page.getByTestId('run-page-device').textContent()).toBe('cpu')
    expect(await page.getByTestId('run-page-app-version').textContent()).toBe('0.0.0-test')
    expect(await page.getByTestId('run-page-seed').textContent()).toBe(String(r.seed))
    expect(await page.getByTestId('run-page-duration').textContent()).toMatch(/^\d+ s$/)
    expect(await page.getByTestId('run-page-checkpoints').locator('tbody tr').count()).toBe(2)
    expect(await page.getByTestId('run-config-optimizer.lr').locator('td').textContent()).toBe(String(r.lr))
    await expect.poll(() => attr('run-chart-train/loss', 'data-points'), { timeout: 10_000 }).toBe('200')
  })

  it('edits notes and tags, saves them in the ledger, and they survive a reload', async () => {
    const r = runs[1]!
    expect(await page.getByTestId('run-page-save').isDisabled()).toBe(true)
    await page.getByTestId('run-page-notes').fill('warm-up too short;\nretry with 500 steps')
    await page.getByTestId('run-page-new-tag').fill('baseline')
    await page.getByTestId('run-page-new-tag').press('Enter')
    await page.getByTestId('run-page-new-tag').fill('lr-sweep, baseline')
    await page.getByTestId('run-page-new-tag').press('Enter')
    await page.getByTestId('run-page-save').click()
    await page.getByTestId('run-page-saved').waitFor()
    const db = new Database(join(app.home, 'ledger.sqlite'), { readonly: true })
    const row = db.prepare('SELECT notes, tags_json FROM runs WHERE id = ?').get(r.id)
    db.close()
    expect(row).toEqual({ notes: 'warm-up too short;\nretry with 500 steps', tags_json: '["baseline","lr-sweep"]' })
    await page.reload()
    await page.getByTestId('run-page').waitFor()
    await expect.poll(() => page.getByTestId('run-page-notes').inputValue(), { timeout: 10_000 }).toBe('warm-up too short;\nretry with 500 steps')
    expect(await page.getByTestId('run-tag-baseline').count()).toBe(1)
    expect(await page.getByTestId('run-tag-lr-sweep').count()).toBe(1)
    // Ctrl+S saves too: remove a tag with the keyboard shortcut.
    await page.getByRole('button', { name: 'remove tag baseline' }).click()
    await page.keyboard.press('Control+s')
    await page.getByTestId('run-page-saved').waitFor()
    // Back in Experiments the tag shows and filters.
    await page.getByTestId('run-page-back').click()
    await page.getByTestId('experiments-filter').fill('tag:lr-sweep')
    await expect.poll(rowIds, { timeout: 10_000 }).toEqual([r.id])
    expect(await page.getByTestId(`experiment-row-${r.id}`).textContent()).toContain('lr-sweep')
    expect(errors).toEqual([])
  })
})

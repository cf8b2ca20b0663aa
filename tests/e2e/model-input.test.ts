// The views follow the selected model's input, in Chromium (web mode), with Prithvi-EO-2.0 and the
// facebookresearch-MAE fixtures imported through `marsfm model import`: the Reconstruction view
// describes the pipeline and the recipes with EO-2.0's own statistics and offers an MAE model only
// its native input (saying why); the Training view swaps the band recipe for the native input and
// says why tiles are standardised; a backbone study and a training run of the MAE model with
// "standardise per tile", started from the keyboard, run and are recorded with it in the ledger.
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Locator, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { landmarkImageFolder } from '../support/training-data'
import { tempHome } from '../support/temp-home'
import { CLI_ENTRY, ROOT, requireBuild } from '../support/built'

const FIX = resolve(ROOT, 'tests/fixtures')
let app: WebApp
let browser: Browser
let page: Page
let errors: string[]
const data = tempHome('marsfm-e2e-input-')
const home = tempHome('marsfm-e2e-input-home-')
let ids: Record<string, number> = {}

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`marsfm ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}
/** Picks the option named `name` (the lists may add sizes in parentheses). */
async function choose(select: Locator, name: string) {
  const option = select.locator('option', { hasText: new RegExp(`^\\s*${name}(\\s*\\(.*)?\\s*$`) })
  await expect.poll(() => option.count(), { timeout: 30_000 }).toBe(1)
  await select.selectOption({ label: (await option.textContent())!.trim() })
}
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim()

beforeAll(async () => {
  requireBuild()
  const landmarks = join(data.dir, 'landmarks')
  landmarkImageFolder(landmarks, { trainPerClass: 6, validPerClass: 3 })
  cli('dataset', 'import', 'lm', landmarks, '--format', 'imagefolder')
  cli('dataset', 'freeze', 'lm', '--note', 'e2e')
  cli('model', 'import', join(FIX, 'mae/tiny_mae.pth'), '--config', join(FIX, 'mae/tiny_mae.json'), '--name', 'tiny mae')
  cli('model', 'import', join(FIX, 'mae/tiny_mae_encoder.pth'), '--config', join(FIX, 'mae/tiny_mae.json'), '--name', 'tiny mae encoder')
  cli('model', 'import', join(FIX, 'prithvi-eo2/Prithvi_EO_V2_tiny_TL.pt'), '--config', join(FIX, 'prithvi-eo2/config.json'), '--name', 'tiny eo2')
  ids = Object.fromEntries((JSON.parse(cli('model', 'list', '--json')) as { id: number; name: string }[]).map((m) => [m.name, m.id]))
  app = await startWebApp({ MARSFM_HOME: home.dir })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1500, height: 1100 } })
  errors = watchPageErrors(page)
  await page.goto(app.url)
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  data.remove()
  home.remove()
})

describe('views follow the selected model', () => {
  it("Reconstruction: EO-2.0's own statistics in the pipeline and the recipes; an MAE model gets native only, and why", async () => {
    await page.getByTestId('nav-reconstruction').click()
    await choose(page.getByTestId('recon-model'), 'tiny eo2')
    const pipeline = page.getByTestId('recon-pipeline')
    await expect.poll(() => text(pipeline)).toContain('BLUE (1087.0 + 2·2248.0)/255 = 21.894')
    expect(await text(pipeline)).toContain('from its config file')
    expect(await text(page.getByTestId('method-text-means'))).toContain('NIR_NARROW = 2734.0 → 0.00')
    expect(await text(page.getByTestId('method-text-zero-reflectance'))).toContain('NIR_NARROW = 0.0 → -1.48')
    // Prithvi-100M's HLS constants appear nowhere for this model.
    expect(await text(page.getByTestId('study-form'))).not.toMatch(/775\.2|B02/)
    await page.getByRole('button', { name: 'Band recipes' }).click()
    expect(await text(page.getByTestId('recipes-stats'))).toContain("Presets below are built for tiny eo2's statistics")

    await choose(page.getByTestId('recon-model'), 'tiny mae')
    await expect.poll(() => page.getByTestId('recon-methods').count()).toBe(0)
    const native = await text(page.getByTestId('recon-native'))
    expect(native).toContain('Method: native')
    expect(native).toContain('x / 255 (0-1 scale), three channels: RGB as it is, a grey tile replicated to R = G = B, then (x − mean) / std with mean 0.5006 (each channel), std 0.1664 (each channel)')
    expect(await text(page.getByTestId('recon-why-native'))).toMatch(/recipes build Prithvi's six HLS bands .* tiny mae is a facebookresearch-style MAE with 3 input channels on the 0-1 scale/)
    expect(await text(page.getByTestId('recon-pipeline'))).not.toMatch(/775\.2|\+ 2·/)
    expect(await text(page.getByTestId('recipes-not-for-mae'))).toContain('studied on its own input only')
    // An encoder-only checkpoint cannot reconstruct: Run is disabled and says why, and Enter starts nothing.
    await choose(page.getByTestId('recon-model'), 'tiny mae encoder')
    await page.getByTestId('recon-folder').fill('/data/tiles')
    expect(await text(page.getByTestId('recon-problem'))).toMatch(/encoder only \(no decoder weights\).*reconstruction needs the full masked autoencoder/)
    expect(await page.getByTestId('recon-start').isDisabled()).toBe(true)
    await page.getByTestId('recon-folder').press('Enter')
    expect(await page.getByTestId('recon-job').count()).toBe(0)
  })

  it('Training: the MAE model takes its native input; tile standardisation is offered with why, and recorded with the run', async () => {
    await page.getByTestId('nav-training').click()
    await page.getByTestId('train-preset').selectOption('study-classification')
    await choose(page.getByTestId('train-model'), 'tiny eo2')
    expect(await page.getByTestId('train-recipe').count()).toBe(1)
    expect(await text(page.getByTestId('train-tile-norm-hint'))).toMatch(/band statistics before the reflectance scaling\. HiRISE observations are stretched differently/)
    await choose(page.getByTestId('train-model'), 'tiny mae')
    await expect.poll(() => page.getByTestId('train-recipe').count()).toBe(0)
    expect(await text(page.getByTestId('train-native'))).toBe('native (3 channels, 0-1 scale)')
    expect(await text(page.getByTestId('train-tile-norm-hint'))).toMatch(/mean 0 and std 1 over the tile .* stretched differently/)
    await page.getByTestId('train-tile-norm').selectOption('standardize')
    await page.getByTestId('train-data-source').selectOption('version')
    await page.getByTestId('train-steps').fill('2')
    await page.getByTestId('train-batch').fill('4')
    await page.getByTestId('train-warmup').fill('0')
    await page.getByTestId('train-eval-every').fill('2')
    await page.getByTestId('train-name').fill('e2e mae standardised')
    // Enter in a field submits the form, as everywhere in the app.
    await page.getByTestId('train-name').press('Enter')
    await expect.poll(() => page.getByTestId('run-live').getAttribute('data-status'), { timeout: 180_000 }).toBe('done')
    expect(await page.getByTestId('train-error').count()).toBe(0)
    const db = new Database(join(home.dir, 'ledger.sqlite'), { readonly: true })
    try {
      const row = db.prepare("SELECT status, config_json FROM runs WHERE name = 'e2e mae standardised'").get() as { status: string; config_json: string }
      expect(row.status).toBe('done')
      expect(JSON.parse(row.config_json).preprocessing.tileNorm).toBe('standardize')
    } finally {
      db.close()
    }
  })

  it('Backbones: an MAE backbone compared on standardised tiles, the choice shown and recorded', async () => {
    await page.getByTestId('nav-backbones').click()
    await expect.poll(() => page.getByTestId('backbone-version').locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    for (const box of await page.getByTestId('backbone-form').locator('fieldset input[type=checkbox]').all()) await box.uncheck()
    await page.getByTestId('backbone-floor').selectOption({ label: 'none' })
    // Nothing to compare: Compare is disabled and says why; Enter in a field starts nothing.
    expect(await text(page.getByTestId('backbone-problem'))).toBe('Choose at least one backbone.')
    expect(await page.getByTestId('backbone-start').isDisabled()).toBe(true)
    await page.getByTestId('backbone-seeds').press('Enter')
    expect(await page.getByTestId('backbone-job-message').count()).toBe(0)
    await page.getByTestId(`backbone-model-${ids['tiny mae']}`).check()
    await page.getByTestId('backbone-tile-norm').selectOption('standardize')
    expect(await text(page.getByTestId('backbone-tile-norm-hint'))).toMatch(/mean 0 and std 1 over the tile/)
    await page.getByTestId('backbone-device').selectOption('cpu')
    await page.getByTestId('backbone-seeds').fill('0')
    await page.getByTestId('backbone-seeds').press('Enter')
    await page.getByTestId('backbone-results').waitFor({ timeout: 180_000 })
    expect(await text(page.getByTestId('backbone-input'))).toBe('Input: tiny mae: native · tile contrast standardised per tile')
    const db = new Database(join(home.dir, 'ledger.sqlite'), { readonly: true })
    try {
      const row = db.prepare('SELECT input_json, output_json FROM backbone_studies ORDER BY id DESC LIMIT 1').get() as { input_json: string; output_json: string }
      expect(JSON.parse(row.input_json).request.preprocessing.tileNorm).toBe('standardize')
      expect(JSON.parse(row.output_json).backbones[0].embed.preprocessing).toMatchObject({ recipe: 'native', tileNorm: 'standardize' })
    } finally {
      db.close()
    }
    expect(errors).toEqual([])
  })
})

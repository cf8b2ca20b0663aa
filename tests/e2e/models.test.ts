// Models view in Chromium: import a checkpoint by path, see its architecture and key report;
// a hostile file is refused with its reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, startWebApp, watchPageErrors, type WebApp } from '../support/web-app'
import { ROOT } from '../support/built'

const FIX = resolve(ROOT, 'tests/fixtures/checkpoints')
let app: WebApp
let browser: Browser
let page: Page
let errors: string[]

beforeAll(async () => {
  app = await startWebApp()
  browser = await launchChromium()
  page = await browser.newPage()
  errors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId('nav-models').click()
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
})

describe('Models view', () => {
  it('imports a Prithvi checkpoint with its config and shows what it holds', async () => {
    await page.getByTestId('model-path').fill(resolve(FIX, 'tiny_prithvi.pt'))
    await page.getByTestId('model-config').fill(resolve(FIX, 'Prithvi_tiny_config.yaml'))
    await page.getByTestId('model-import').click()
    await expect.poll(() => page.getByTestId('import-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('done')
    await page.getByTestId('models-table').waitFor()
    expect(await page.getByTestId('model-encoder').textContent()).toMatch(/32-d, 2 blocks, 4 heads/)
    expect(await page.getByTestId('key-report').textContent()).toMatch(/48 loaded · 0 missing · 0 wrong shape/)
    expect(await page.getByTestId('model-stats').textContent()).toMatch(/775\.23/)
    expect(errors).toEqual([])
  })

  it('imports Prithvi-EO-2.0 with its config.json and shows its model card', async () => {
    const eo2 = resolve(ROOT, 'tests/fixtures/prithvi-eo2')
    await page.getByTestId('model-path').fill(resolve(eo2, 'Prithvi_EO_V2_tiny_TL.pt'))
    await page.getByTestId('model-config').fill(resolve(eo2, 'config.json'))
    await page.getByTestId('model-name').fill('eo2-tiny')
    await page.getByTestId('model-import').click()
    await expect.poll(() => page.getByTestId('import-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('done')
    await page.getByTestId('models-table').getByText('eo2-tiny').click()
    await expect.poll(() => page.getByTestId('card-family').textContent()).toBe('Prithvi-EO-2.0 (TL)')
    expect(await page.getByTestId('card-architecture').textContent()).toMatch(/patch 7.*position tables from the 28² pre-training grid; time \+ location encoding unused/)
    expect(await page.getByTestId('card-statistics').textContent()).toMatch(/^from its config file: BLUE GREEN RED NIR_NARROW SWIR_1 SWIR_2; mean 1087\.0/)
    expect(await page.getByTestId('key-report').textContent()).toMatch(/0 missing · 0 wrong shape · 0 unexpected · not loaded .*: .*temporal_embed_enc\.scale/)
    // The Prithvi-100M fixture imported first has no card recorded from a published model: the view says so.
    await page.getByTestId('models-table').getByText('tiny_prithvi.pt').click()
    await expect.poll(() => page.getByTestId('card-family').textContent()).toBe('Prithvi-EO-1.0 (Prithvi-100M layout)')
    expect(await page.getByTestId('card-published').textContent()).toMatch(/no published model has this architecture/)
    expect(errors).toEqual([])
  })

  it('imports a MOMO-layout encoder with its JSON config and shows its family, own statistics and missing decoder', async () => {
    const mae = resolve(ROOT, 'tests/fixtures/mae')
    await page.getByTestId('model-path').fill(resolve(mae, 'tiny_mae_encoder.pth'))
    await page.getByTestId('model-config').fill(resolve(mae, 'tiny_mae.json'))
    await page.getByTestId('model-name').fill('tiny MOMO encoder')
    await page.getByTestId('model-import').click()
    await expect.poll(() => page.getByTestId('import-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('done')
    await page.getByRole('row', { name: /tiny MOMO encoder/ }).click()
    expect(await page.getByTestId('model-family').textContent()).toMatch(/facebookresearch MAE/)
    expect(await page.getByTestId('model-native-stats').textContent()).toMatch(/mean 0\.5006 \/ 0\.5006 \/ 0\.5006, std 0\.1664/)
    expect(await page.getByTestId('model-no-decoder').textContent()).toMatch(/encoder only/)
    await page.getByTestId('model-name').fill('')
    expect(errors).toEqual([])
  })

  it('refuses a pickle that names os.system and says why', async () => {
    await page.getByTestId('model-path').fill(resolve(FIX, 'evil.pt'))
    await page.getByTestId('model-config').fill('')
    await page.getByTestId('model-import').click()
    await expect.poll(() => page.getByTestId('import-status').getAttribute('data-state'), { timeout: 60_000 }).toBe('failed')
    expect(await page.getByTestId('import-error').textContent()).toMatch(/os\.system/)
  })
})

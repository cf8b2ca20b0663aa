// The import panel in web mode: a refused import (a missing path) shows its error and no longer
// the previous import's summary; an empty folder says that no images were found.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { SHARED_DATA } from '../support/built'
import { createDatasetInView, openView, type OpenView } from '../support/web-app'

const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1', 'map-proj')

let view: OpenView
let page: Page
let pageErrors: string[]
let scratch: string

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'marsfm-e2e-import-panel-'))
  mkdirSync(join(scratch, 'two'))
  mkdirSync(join(scratch, 'empty'))
  for (const f of readdirSync(LANDMARKS).sort().slice(0, 2)) copyFileSync(join(LANDMARKS, f), join(scratch, 'two', f))
  view = await openView('nav-datasets')
  page = view.page
  pageErrors = view.pageErrors
})

afterAll(async () => {
  await view?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe('import panel', () => {
  it('clears the previous summary when an import is refused, and warns about an empty folder', async () => {
    await createDatasetInView(page, 'panel-e2e')
    await page.getByTestId('tab-import').click()

    await page.getByTestId('import-path').fill(join(scratch, 'two'))
    await page.getByTestId('import-run').click()
    await page.getByTestId('import-summary').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('import-imported').textContent()).toBe('2')

    await page.getByTestId('import-path').fill(join(scratch, 'missing-folder'))
    await page.getByTestId('import-run').click()
    await page.getByTestId('datasets-error').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('datasets-error').textContent()).toContain(join(scratch, 'missing-folder'))
    expect(await page.getByTestId('import-summary').count()).toBe(0)

    await page.getByTestId('import-path').fill(join(scratch, 'empty'))
    await page.getByTestId('import-run').click()
    await page.getByTestId('import-summary').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('import-summary').textContent()).toContain(`no images found in ${join(scratch, 'empty')}`)
    expect(pageErrors).toEqual([])
  })
})

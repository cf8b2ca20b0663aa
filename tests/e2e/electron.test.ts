// The same shell checks against the real Electron app, where the Electron binary is installed.
// On machines without it (no binary download possible) the suite is skipped and says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { _electron, type ElectronApplication, type Page } from 'playwright-core'
import { ROOT, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

function electronBinary(): string | null {
  try {
    const bin = createRequire(import.meta.url)('electron') as unknown as string
    return typeof bin === 'string' && existsSync(bin) ? bin : null
  } catch {
    return null
  }
}

const binary = electronBinary()
const reason = 'the optional electron package (and its binary) is not installed on this machine; web-mode e2e covers the same UI'
if (!binary) process.stdout.write(`[e2e] Electron suite skipped: ${reason}\n`)

describe.skipIf(!binary)(`desktop app (Electron)${binary ? '' : ` — skipped: ${reason}`}`, () => {
  let app: ElectronApplication
  let page: Page
  const home = tempHome('marsfm-electron-')

  beforeAll(async () => {
    requireBuild()
    // The ledger's SQLite addon must be built for Electron's ABI (see scripts/electron-native.mjs).
    const native = spawnSync(process.execPath, [resolve(ROOT, 'scripts/electron-native.mjs')], { cwd: ROOT, stdio: 'inherit' })
    expect(native.status).toBe(0)
    const { electronSqliteBinding } = (await import(resolve(ROOT, 'scripts/electron-native.mjs'))) as { electronSqliteBinding(): string }
    app = await _electron.launch({
      executablePath: binary!,
      args: [resolve(ROOT, 'out/main/index.js'), ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      env: { ...process.env, MARSFM_HOME: home.dir, MARSFM_SQLITE_BINDING: electronSqliteBinding() }
    })
    page = await app.firstWindow()
  })
  afterAll(async () => {
    await app?.close()
    home.remove()
  })

  it('has no Node in the page and a working window.api', async () => {
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined')
    const mode = await page.evaluate(async () => (await (globalThis as unknown as { api: { system: { info(): Promise<{ mode: string }> } } }).api.system.info()).mode)
    expect(mode).toBe('desktop')
  })

  it('visits every view and shows the backend', async () => {
    for (const view of ['datasets', 'reconstruction', 'training', 'experiments', 'inference', 'models', 'system']) {
      await page.getByTestId(`nav-${view}`).click()
      await page.waitForURL(new RegExp(`#/${view}$`))
    }
    await expect.poll(() => page.getByTestId('engine-state').textContent(), { timeout: 60_000 }).toBe('ready')
  })
})

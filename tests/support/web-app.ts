// Starts the real web mode (`node out/main/web.js`) in its own MARSFM_HOME and drives it with
// Debian's Chromium through playwright-core. Page objects build on this.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { expect } from 'vitest'
import { WEB_ENTRY, requireBuild } from './built'
import { tempHome } from './temp-home'

export const CHROMIUM_PATH = process.env.MARSFM_CHROMIUM ?? '/usr/bin/chromium'

export interface WebApp {
  url: string
  origin: string
  token: string
  home: string
  proc: ChildProcess
  stderr: () => string
  stop(): Promise<void>
}

/** `seed` fills the fresh MARSFM_HOME (e.g. a ledger with runs) before web mode opens it. */
export async function startWebApp(env: NodeJS.ProcessEnv = {}, opts: { seed?: (home: string) => void } = {}): Promise<WebApp> {
  requireBuild()
  const home = tempHome('marsfm-e2e-')
  opts.seed?.(home.dir)
  const proc = spawn(process.execPath, [WEB_ENTRY], {
    env: { ...process.env, MARSFM_HOME: home.dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  proc.stderr!.on('data', (d) => (err += String(d)))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`web mode did not print its URL in 60 s\n${err}`)), 60_000)
    proc.stdout!.on('data', (d) => {
      out += String(d)
      const m = /MarsFM web mode: (\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`web mode exited with ${code}\n${err}`))
    })
  })
  const parsed = new URL(url)
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    home: home.dir,
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
        if (proc.exitCode === null) proc.kill('SIGKILL')
      }
      home.remove()
    }
  }
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH)
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium) or set MARSFM_CHROMIUM`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/** Fails the test on any uncaught page error, so broken views cannot pass silently. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  return errors
}

export interface OpenView {
  app: WebApp
  browser: Browser
  page: Page
  /** Uncaught page errors so far (see watchPageErrors). */
  pageErrors: string[]
  close(): Promise<void>
}

/** Starts web mode, opens it in Chromium and goes to one view (its sidebar test id, e.g. 'nav-datasets'). */
export async function openView(nav: string, viewport = { width: 1400, height: 900 }): Promise<OpenView> {
  const app = await startWebApp()
  const browser = await launchChromium()
  const page = await browser.newPage({ viewport })
  const pageErrors = watchPageErrors(page)
  await page.goto(app.url)
  await page.getByTestId(nav).click()
  return {
    app,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close()
      await app.stop()
    }
  }
}

/** Creates a dataset in the Datasets view and waits until it is the selected one. */
export async function createDatasetInView(page: Page, name: string): Promise<void> {
  await page.getByTestId('dataset-new-name').fill(name)
  await page.getByTestId('dataset-create').click()
  await expect.poll(() => page.getByTestId('dataset-select').locator('option:checked').textContent()).toBe(name)
}

// Benchmark (issue #12, experiments at scale): a real ledger file of 1,000 runs × 2,000 steps × 10
// metrics (20 M metric rows), filled through the app's own migrations and repositories, then:
//   1. `runs:list` through the router (what opening the Experiments view asks), against the
//      previous per-run queries (three per run, each scanning that run's metrics) as the baseline;
//   2. the series of a 10-run overlay (`runs:series`: one query, downsampled to 1,000 points);
//   3. in Chromium, over the built web mode: from clicking "Experiments" to the 1,000-row table,
//      and from choosing 10 runs to their overlay panels drawn.
// Target: < 1 s each. Prints each time, its ratio to the target and to the baseline.
//
//   npx vite-node --config vitest.config.ts bench/experiments-scale.ts -- [--runs 1000] [--steps 2000]
//     [--metrics 10] [--iters 5] [--home DIR (reuse or keep a filled ledger)] [--no-browser] [--no-baseline]
//
// Filling takes about a minute; --home keeps the ledger so later runs skip it.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openLedger, type Db } from '@main/ledger/ledger'
import { Router } from '@main/ipc/router'
import { appendMetrics, createRun, listRuns, updateRun } from '@main/runs/repository'
import { overlaySeries } from '@main/runs/comparison'
import type { MetricPoint } from '@shared/ipc/schemas/runs'

const argv = process.argv.slice(2)
const num = (name: string, d: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d)
const str = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined)
const RUNS = num('--runs', 1000)
const STEPS = num('--steps', 2000)
const METRICS = num('--metrics', 10)
const ITERS = num('--iters', 5)
const TARGET_S = 1
const ROOT = process.cwd()
const kept = str('--home')
const home = kept ?? mkdtempSync(join(tmpdir(), 'marsfm-bench-experiments-'))
const METRIC_NAMES = ['train/loss', 'train/lr', 'val/loss', 'val/balanced_accuracy', 'val/auc', 'val/f1', 'val/recall', 'val/precision', 'val/accuracy', 'train/grad_norm', 'val/miou', 'val/pixel_accuracy'].slice(0, METRICS)

function fill(db: Db): void {
  const have = (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n
  if (have >= RUNS) return void console.log(`ledger ${home} already holds ${have} runs: not refilled`)
  const t0 = performance.now()
  for (let i = have; i < RUNS; i++) {
    const lr = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3][i % 5]!
    const seed = i % 3
    const name = `sweep run ${i + 1}`
    const config = { name, task: 'classification', model: { demo: true }, data: { kind: 'folder', path: '/data/landmarks' }, steps: STEPS, batchSize: [8, 16][i % 2], seed, optimizer: { name: 'adamw', lr } }
    const id = createRun(db, { name, task: 'classification', config, modelId: null, modelHash: null, seed, appVersion: 'bench' })
    updateRun(db, id, { status: 'done', started: true, finished: true, backend: 'wasm', device: 'cpu' })
    const points: MetricPoint[] = []
    for (let step = 1; step <= STEPS; step++) for (let m = 0; m < METRIC_NAMES.length; m++) points.push({ step, name: METRIC_NAMES[m]!, value: Math.exp(-step * lr) + 0.01 * m + 0.001 * Math.sin(step + i) })
    appendMetrics(db, id, points)
    if ((i + 1) % 100 === 0) process.stdout.write(`  filled ${i + 1}/${RUNS} runs (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`)
  }
  console.log(`filled ${RUNS} runs × ${STEPS} steps × ${METRIC_NAMES.length} metrics in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

/** The list as it was built before: per run, its highest step, its latest metrics and its newest checkpoint. */
function baselineList(db: Db): unknown[] {
  const rows = db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as { id: number; config_json: string }[]
  const step = db.prepare('SELECT MAX(step) AS s FROM metrics WHERE run_id = ?')
  const latest = db.prepare('SELECT name, value FROM metrics WHERE rowid IN (SELECT MAX(rowid) FROM metrics WHERE run_id = ? GROUP BY name)')
  const ckpt = db.prepare(`SELECT * FROM checkpoints WHERE run_id = ? AND kind IN ('last', 'periodic') ORDER BY step DESC, id DESC LIMIT 1`)
  return rows.map((r) => ({ ...r, config: JSON.parse(r.config_json), step: step.get(r.id), latest: latest.all(r.id), ckpt: ckpt.get(r.id) ?? null }))
}

async function median(f: () => unknown | Promise<unknown>, iters = ITERS): Promise<number> {
  await f() // warm: statement cache, page cache
  const times: number[] = []
  for (let i = 0; i < iters; i++) {
    const t = performance.now()
    await f()
    times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]! / 1000
}

const rows: { what: string; seconds: number; baseline?: number }[] = []
const report = (what: string, seconds: number, baseline?: number) => rows.push({ what, seconds, baseline })

/** The little of the DOM the page-side functions use. */
interface MiniDocument {
  querySelectorAll(selector: string): ArrayLike<{ click(): void }>
  querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null
}

async function browserTimes(): Promise<void> {
  const webEntry = join(ROOT, 'out/main/web.js')
  const chromiumPath = process.env.MARSFM_CHROMIUM ?? '/usr/bin/chromium'
  if (!existsSync(webEntry) || !existsSync(chromiumPath)) {
    console.log(`Chromium timing skipped: needs ${existsSync(webEntry) ? chromiumPath : 'the build (npx electron-vite build)'}`)
    return
  }
  const { chromium } = await import('playwright-core')
  const proc = spawn(process.execPath, [webEntry], { env: { ...process.env, MARSFM_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error('web mode did not print its URL in 60 s')), 60_000)
      proc.stdout!.on('data', (d) => {
        out += String(d)
        const m = /MarsFM web mode: (\S+)/.exec(out)
        if (m) (clearTimeout(timer), resolve(m[1]!))
      })
    })
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } })
      const openTimes: number[] = []
      const overlayTimes: number[] = []
      for (let i = 0; i <= Math.min(ITERS, 3); i++) {
        await page.goto(url.replace(/#.*$/, ''))
        await page.getByTestId('nav-datasets').waitFor()
        let t = performance.now()
        await page.getByTestId('nav-experiments').click()
        // Page-side functions see the page's document (this file is type-checked without the DOM
        // library, and the app's CSP forbids evaluating strings).
        await page.waitForFunction(
          (n) => {
            const d = (globalThis as unknown as { document: MiniDocument }).document
            return d.querySelectorAll('[data-testid^="experiment-row-"]').length === Math.min(n, 100) && !!d.querySelector('[data-testid="experiments-counts"]')?.textContent?.includes(`${n} of ${n} runs`)
          },
          RUNS,
          { timeout: 120_000 }
        )
        const open = (performance.now() - t) / 1000
        // Choose 10 runs (checkbox clicks in the page, as one batch), then wait for both panels to hold 10 lines.
        t = performance.now()
        await page.evaluate(() => {
          const d = (globalThis as unknown as { document: MiniDocument }).document
          Array.from(d.querySelectorAll('[data-testid^="compare-"][type="checkbox"]')).slice(0, 10).forEach((b) => b.click())
        })
        await page.waitForFunction(
          () => {
            const d = (globalThis as unknown as { document: MiniDocument }).document
            return ['chart-compare', 'chart-compare-1'].every((id) => d.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-lines') === '10')
          },
          undefined,
          { timeout: 120_000 }
        )
        await page.evaluate(() => new Promise<void>((r) => (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame(() => r())))
        const overlay = (performance.now() - t) / 1000
        if (i > 0) (openTimes.push(open), overlayTimes.push(overlay)) // the first is a warm-up
      }
      const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
      report(`Chromium: click Experiments → table of ${RUNS} runs (first page) rendered`, med(openTimes))
      report('Chromium: choose 10 runs → 2 overlay panels × 10 lines drawn', med(overlayTimes))
    } finally {
      await browser.close()
    }
  } finally {
    proc.kill('SIGTERM')
  }
}

async function main() {
  console.log(`ledger: ${home}`)
  const ledger = openLedger(home)
  fill(ledger.db)
  const router = new Router()
  router.handle('runs:list', () => listRuns(ledger.db))
  router.handle('runs:series', (req) => overlaySeries(ledger.db, req))
  const metricRows = (ledger.db.prepare('SELECT COUNT(*) AS n FROM metrics').get() as { n: number }).n
  console.log(`metric rows: ${metricRows.toLocaleString('en')}; file ${(ledger.sizeBytes() / 2 ** 20).toFixed(0)} MiB`)

  const listOnce = async () => {
    const env = await router.dispatch('runs:list', {})
    if (!env.ok) throw new Error(env.error.message)
    return JSON.stringify(env.value).length // what the web socket sends
  }
  const listS = await median(listOnce)
  const baseS = argv.includes('--no-baseline') ? undefined : await median(() => baselineList(ledger.db), Math.min(ITERS, 2))
  report(`runs:list (${RUNS} runs, serialised)`, listS, baseS)

  const ids = (ledger.db.prepare('SELECT id FROM runs ORDER BY id DESC LIMIT 10').all() as { id: number }[]).map((r) => r.id)
  const seriesOnce = (names: string[]) => async () => {
    const env = await router.dispatch('runs:series', { runIds: ids, names, maxPoints: 1000 })
    if (!env.ok) throw new Error(env.error.message)
    return JSON.stringify(env.value).length
  }
  const perRun = async () => {
    // Baseline: every point of each run, one call per run (what the view did before).
    for (const id of ids) JSON.stringify(ledger.db.prepare('SELECT step, name, value FROM metrics WHERE rowid IN (SELECT MAX(rowid) FROM metrics WHERE run_id = ? GROUP BY name, step) ORDER BY step, name').all(id))
  }
  const perRunS = argv.includes('--no-baseline') ? undefined : await median(perRun, Math.min(ITERS, 3))
  report(`runs:series, 10 runs × 1 metric (${STEPS} → ${Math.min(STEPS, 1000)} points)`, await median(seriesOnce([METRIC_NAMES[0]!])), perRunS)
  report('runs:series, 10 runs × 2 metrics (the default panels)', await median(seriesOnce(METRIC_NAMES.slice(0, 2))), perRunS)
  ledger.close()

  if (!argv.includes('--no-browser')) await browserTimes()

  console.log(`\n${'what'.padEnd(68)} ${'seconds'.padStart(8)} ${'÷ 1 s target'.padStart(13)} ${'÷ baseline'.padStart(11)}`)
  for (const r of rows) {
    const vsBase = r.baseline ? `${(r.seconds / r.baseline).toFixed(3)} (${r.baseline.toFixed(3)} s)` : '–'
    console.log(`${r.what.padEnd(68)} ${r.seconds.toFixed(3).padStart(8)} ${(r.seconds / TARGET_S).toFixed(3).padStart(13)} ${vsBase.padStart(11)}`)
  }
  console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min) at the end`)
  console.log('baselines: runs:list — the previous per-run queries (max step, latest metrics, newest checkpoint per run); runs:series — every point of each of the 10 runs, one query per run')
  if (!kept) rmSync(home, { recursive: true, force: true })
}

void main().catch((err) => {
  console.error(err)
  if (!kept) rmSync(home, { recursive: true, force: true })
  process.exit(1)
})

// The composition root shared by the desktop app, the web mode and the CLI: one ledger, one
// supervised engine, one job manager, one router with every service's handlers.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openLedger, type Ledger } from '../ledger/ledger'
import { EngineSupervisor } from '../engine/supervisor'
import { nodeLauncher, type EngineLauncher } from '../engine/transport'
import { JobManager } from '../jobs/job-manager'
import { Router } from '../ipc/router'
import { EventBus } from '../ipc/events'
import { AppLog } from './log'
import { defaultDataDir } from './paths'
import { APP_VERSION } from './version'
import { registerAllServices } from '../services'
import { getSetting } from '../settings/settings'
import { TF_BACKEND_SETTING } from '../settings/keys'
import type { AppContext, AppMode } from './types'
import { ensureDemoModels } from '../models/demo'
import { sweepTempCopies } from '../datasets/store'
import { RunsController } from '../runs/controller'
import { SweepsController } from '../sweeps/controller'
import { startRun } from '../runs/start'
import type { PathPicker } from '../datasets/path-picker'

export type { AppContext, AppMode }

export interface AppOptions {
  mode: AppMode
  dataDir?: string
  launcher?: EngineLauncher
  engineEntry?: string
  engineEnv?: NodeJS.ProcessEnv
  /** Start the engine now, or on demand: when something first waits for it (the CLI). */
  startEngine?: boolean | 'on-demand'
  echoLog?: boolean
  startupTimeoutMs?: number
  /** The desktop app's native file dialog. */
  pathPicker?: PathPicker
}

/** The built engine entry sits next to main's bundles in out/main. */
export function defaultEngineEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [join(here, 'engine.js'), join(here, '..', 'engine.js'), join(process.cwd(), 'out', 'main', 'engine.js')]) {
    if (existsSync(candidate)) return candidate
  }
  throw new Error('the engine bundle (out/main/engine.js) is missing: run `npm run build` first')
}

export async function createAppContext(opts: AppOptions): Promise<AppContext> {
  const dataDir = opts.dataDir ?? defaultDataDir()
  const log = new AppLog(opts.echoLog ?? opts.mode !== 'cli')
  const ledger = openLedger(dataDir)
  // MARSFM_TF_BACKEND in the environment wins over the backend saved in the System view.
  const savedBackend = getSetting<string>(ledger.db, TF_BACKEND_SETTING, 'auto')
  const backendEnv = process.env.MARSFM_TF_BACKEND ?? (savedBackend !== 'auto' ? savedBackend : '')
  const engine = new EngineSupervisor({
    entry: opts.engineEntry ?? defaultEngineEntry(),
    launcher: opts.launcher ?? nodeLauncher,
    env: { MARSFM_HOME: dataDir, MARSFM_TF_BACKEND: backendEnv, ...opts.engineEnv },
    startupTimeoutMs: opts.startupTimeoutMs ?? 90_000,
    startOnDemand: opts.startEngine === 'on-demand'
  })
  const jobs = new JobManager(engine, (message) => log.write('warn', 'jobs', message))
  const router = new Router()
  const bus = new EventBus()

  engine.on('log', (level, message) => log.write(level, 'engine', message))
  engine.on('status', (status) => {
    log.write(status.state === 'crashed' ? 'error' : 'info', 'engine', `engine ${status.state}${status.lastExit ? ` (${status.lastExit})` : ''}`)
    bus.emit('engine:status', status)
  })
  jobs.on('update', (job) => bus.emit('jobs:progress', job))
  log.onLine((line) => bus.emit('logs:line', line))

  const closeHooks: (() => void)[] = []
  const onClose = (hook: () => void) => {
    closeHooks.push(hook)
  }
  const runs = new RunsController({ dataDir, ledger, engine, jobs, bus, log, onClose })
  // The app takes up sweeps a stopped process left unfinished; the CLI drives only its own.
  const startDeps = { dataDir, ledger, engine, jobs, log, appVersion: APP_VERSION, runs }
  const sweeps = new SweepsController({ ledger, runs, bus, log, onClose, startRun: (config) => startRun(startDeps, config) }, { resumeOnStart: opts.mode !== 'cli' })
  const ctx: AppContext = {
    mode: opts.mode,
    appVersion: APP_VERSION,
    dataDir,
    ledger,
    engine,
    jobs,
    router,
    bus,
    log,
    runs,
    sweeps,
    pathPicker: opts.pathPicker ?? null,
    onClose,
    async close() {
      for (const hook of closeHooks.splice(0)) {
        try {
          hook()
        } catch (err) {
          log.write('error', 'main', `while closing: ${(err as Error).message}`)
        }
      }
      await engine.stop()
      ledger.close()
    }
  }
  registerAllServices(ctx)
  ensureDemoModels(ctx)
  // Temp copies left by an import that was killed mid-write (SIGKILL, power cut) go at start.
  const swept = sweepTempCopies(dataDir)
  if (swept.length) log.write('info', 'main', `removed ${swept.length} unfinished image copies left by an interrupted import`)

  log.write('info', 'main', `MarsFM Workstation ${APP_VERSION} (${opts.mode}); data in ${dataDir}`)
  if (opts.startEngine === undefined || opts.startEngine === true) {
    engine.start().catch((err: Error) => log.write('error', 'engine', err.message))
  }
  return ctx
}

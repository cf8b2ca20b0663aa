// The composition root's shape: what every service receives. Kept apart from context.ts (which
// builds it and registers the services) so services depend on this type, not on their registrar.
import type { Ledger } from '../ledger/ledger'
import type { EngineSupervisor } from '../engine/supervisor'
import type { JobManager } from '../jobs/job-manager'
import type { Router } from '../ipc/router'
import type { EventBus } from '../ipc/events'
import type { AppLog } from './log'
import type { RunsController } from '../runs/controller'
import type { SweepsController } from '../sweeps/controller'
import type { PathPicker } from '../datasets/path-picker'

export type AppMode = 'desktop' | 'web' | 'cli'

export interface AppContext {
  mode: AppMode
  appVersion: string
  dataDir: string
  ledger: Ledger
  engine: EngineSupervisor
  jobs: JobManager
  router: Router
  bus: EventBus
  log: AppLog
  /** The runs queue: one run trains at a time. */
  runs: RunsController
  /** The sweeps queue: trials of sweeps, one at a time, through the runs queue. */
  sweeps: SweepsController
  /** The native file dialog (desktop only; web mode and the CLI take typed paths). */
  pathPicker: PathPicker | null
  /** Runs `hook` when the app closes, before the engine stops (services record what they leave unfinished). */
  onClose(hook: () => void): void
  close(): Promise<void>
}

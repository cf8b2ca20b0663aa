// Runs service: the `runs:*` channels, each a one-line adapter over the runs queue (ctx.runs) and
// the use cases in src/main/runs/ (start, estimate, delete, notes and tags, overlay series), which the CLI calls too.
import type { AppContext } from '../app/types'
import { estimateRun, startRun } from '../runs/start'
import { removeRun } from '../runs/deletion'
import { annotate, overlaySeries } from '../runs/comparison'

export function registerRunsService(ctx: AppContext): void {
  const { runs } = ctx
  ctx.router.handle('runs:start', ({ config }) => startRun(ctx, config))
  ctx.router.handle('runs:estimate', ({ config }) => estimateRun(ctx, config))
  ctx.router.handle('runs:list', () => runs.list())
  ctx.router.handle('runs:get', ({ id }) => runs.detail(id))
  ctx.router.handle('runs:pause', ({ id }) => (runs.pause(id), { ok: true as const }))
  ctx.router.handle('runs:cancel', ({ id }) => (runs.cancel(id), { ok: true as const }))
  ctx.router.handle('runs:resume', ({ id }) => runs.resume(id))
  ctx.router.handle('runs:annotate', (req) => runs.annotated(annotate(ctx.ledger.db, req, (id) => runs.get(id))))
  ctx.router.handle('runs:series', (req) => overlaySeries(ctx.ledger.db, req))
  ctx.router.handle('runs:delete', ({ id }) => (removeRun(ctx, id), { ok: true as const }))
}

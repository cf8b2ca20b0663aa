// Sweeps service: the `sweeps:*` channels, one-line adapters over the sweeps queue (ctx.sweeps),
// which `marsfm sweep` drives too.
import type { AppContext } from '../app/types'

export function registerSweepsService(ctx: AppContext): void {
  const { sweeps } = ctx
  ctx.router.handle('sweeps:create', ({ spec }) => sweeps.create(spec))
  ctx.router.handle('sweeps:list', () => sweeps.list())
  ctx.router.handle('sweeps:get', ({ id }) => sweeps.get(id))
  ctx.router.handle('sweeps:cancel', ({ id }) => sweeps.cancel(id))
}

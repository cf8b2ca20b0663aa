// Jobs service: list, cancel, and the demo job that exercises the engine end to end.
import type { AppContext } from '../app/types'

export function registerJobsService(ctx: AppContext): void {
  ctx.router.handle('jobs:list', () => ctx.jobs.list())
  ctx.router.handle('jobs:cancel', ({ jobId }) => ({ cancelled: ctx.jobs.cancel(jobId) }))
  ctx.router.handle('jobs:start-demo', async (request) => {
    const jobId = await ctx.jobs.startEngineJob('demo', `Demo: ${request.steps} engine steps`, request)
    return { jobId }
  })
}

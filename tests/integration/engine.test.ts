import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAppContext, type AppContext } from '@main/app/context'
import { EngineSupervisor } from '@main/engine/supervisor'
import { nodeLauncher } from '@main/engine/transport'
import type { EngineStatus } from '@shared/ipc/schemas/system'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

beforeAll(() => requireBuild())

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function app(): Promise<AppContext> {
  const home = tempHome()
  const ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  cleanups.push(() => home.remove(), () => ctx.close())
  await ctx.engine.whenReady()
  return ctx
}

function nextStatus(ctx: AppContext, pred: (s: EngineStatus) => boolean): Promise<EngineStatus> {
  return new Promise((resolve) => {
    const l = (s: EngineStatus) => {
      if (pred(s)) {
        ctx.engine.off('status', l)
        resolve(s)
      }
    }
    ctx.engine.on('status', l)
  })
}

/** Resolves when `pred` holds or the job ends (so a failing job fails the test instead of hanging it). */
function jobReaches(ctx: AppContext, jobId: string, pred: (j: JobView) => boolean): Promise<JobView> {
  const final = (j: JobView) => j.state === 'done' || j.state === 'failed' || j.state === 'cancelled'
  const orig = pred
  pred = (j) => orig(j) || final(j)
  return new Promise((resolve) => {
    const current = ctx.jobs.get(jobId)
    if (current && pred(current)) return resolve(current)
    const l = (j: JobView) => {
      if (j.id === jobId && pred(j)) {
        ctx.jobs.off('update', l)
        resolve(j)
      }
    }
    ctx.jobs.on('update', l)
  })
}

describe('engine child process', () => {
  it('reports the TensorFlow.js backend it loaded and runs a demo job to completion', async () => {
    const ctx = await app()
    const status = ctx.engine.getStatus()
    expect(status.state).toBe('ready')
    expect(['tensorflow', 'wasm', 'cpu']).toContain(status.backend)
    expect(status.device).toBeTruthy()
    const reply = await ctx.router.dispatch('jobs:start-demo', { steps: 5, stepMs: 0, matrixSize: 8 })
    expect(reply.ok).toBe(true)
    const { jobId } = (reply as { value: { jobId: string } }).value
    const done = await ctx.jobs.waitFor(jobId)
    expect(done.state).toBe('done')
    expect(done.done).toBe(5)
    // 8x8 matrix of 1/8 squared: every entry 1/8, sum 8.
    expect((done.result as { checksum: number }).checksum).toBeCloseTo(8, 4)
  })

  it('cancels a running job', async () => {
    const ctx = await app()
    const jobId = await ctx.jobs.startEngineJob('demo', 'long demo', { steps: 10_000, stepMs: 20 })
    expect((await jobReaches(ctx, jobId, (j) => j.done >= 2)).state).toBe('running')
    expect(ctx.jobs.cancel(jobId)).toBe(true)
    const final = await ctx.jobs.waitFor(jobId)
    expect(final.state).toBe('cancelled')
    expect(final.done).toBeLessThan(10_000)
  })

  it('survives SIGKILL of the engine mid-job: the job fails with the reason, main answers, the engine comes back', async () => {
    const ctx = await app()
    const firstPid = ctx.engine.getStatus().pid!
    const jobId = await ctx.jobs.startEngineJob('demo', 'doomed demo', { steps: 10_000, stepMs: 20 })
    expect((await jobReaches(ctx, jobId, (j) => j.done >= 2)).state).toBe('running')
    const backUp = nextStatus(ctx, (s) => s.state === 'ready' && s.pid !== firstPid)
    process.kill(firstPid, 'SIGKILL')

    const failed = await ctx.jobs.waitFor(jobId)
    expect(failed.state).toBe('failed')
    expect(failed.error?.name).toBe('EngineCrash')
    expect(failed.error?.message).toMatch(/killed \(SIGKILL\)/)

    // Main keeps answering while the engine is down or restarting.
    const list = await ctx.router.dispatch('jobs:list', {})
    expect(list.ok).toBe(true)

    const status = await backUp
    expect(status.restarts).toBe(1)
    expect(status.lastExit).toMatch(/SIGKILL/)
    // And the new engine works.
    const again = await ctx.jobs.startEngineJob('demo', 'after restart', { steps: 2, stepMs: 0 })
    expect((await ctx.jobs.waitFor(again)).state).toBe('done')
  })

  it('kills and restarts an engine that never says ready, then gives up with a clear status', async () => {
    const home = tempHome()
    cleanups.push(() => home.remove())
    const silent = join(home.dir, 'silent-engine.mjs')
    writeFileSync(silent, 'setInterval(() => {}, 1000)\n')
    const sup = new EngineSupervisor({ entry: silent, launcher: nodeLauncher, startupTimeoutMs: 300, maxRestarts: 2, restartWindowMs: 60_000 })
    cleanups.push(() => sup.stop())
    const gaveUp = new Promise<EngineStatus>((resolve) => sup.on('status', (s) => s.state === 'crashed' && /gave up/.test(s.lastExit ?? '') && resolve(s)))
    const ready = sup.start().then(
      () => 'ready',
      (err: Error) => err.message
    )
    const status = await gaveUp
    expect(status.restarts).toBe(2)
    expect(await ready).toMatch(/keeps failing/)
  })

  it('refuses an explicit backend override that cannot load, and says why', async () => {
    const sup = new EngineSupervisor({ entry: ENGINE_ENTRY, launcher: nodeLauncher, env: { MARSFM_TF_BACKEND: 'node-gpu' } })
    cleanups.push(() => sup.stop())
    const logs: string[] = []
    sup.on('log', (_l, m) => logs.push(m))
    await expect(sup.start()).rejects.toThrow(/could not start: .*tfjs-node-gpu/)
    expect(sup.getStatus().state).toBe('crashed')
    expect(sup.getStatus().lastExit).toMatch(/tfjs-node-gpu/)
    expect(sup.getStatus().restarts).toBe(0)
    expect(logs.join('\n')).toMatch(/tfjs-node-gpu/)
  })

  it('switches the TensorFlow.js backend from the saved setting, refuses one that is absent, and recovers', async () => {
    const ctx = await app()
    const saved = process.env.MARSFM_TF_BACKEND
    delete process.env.MARSFM_TF_BACKEND
    try {
      const cpu = await ctx.router.dispatch('engine:set-backend', { tfBackend: 'cpu' })
      expect(cpu).toEqual({ ok: true, value: { tfBackend: 'cpu', envOverride: null } })
      expect(ctx.engine.getStatus()).toMatchObject({ state: 'ready', backend: 'cpu' })

      await ctx.router.dispatch('engine:set-backend', { tfBackend: 'node' })
      expect(ctx.engine.getStatus().state).toBe('crashed')
      expect(ctx.engine.getStatus().lastExit).toMatch(/could not start: .*tfjs-node/)
      // Main keeps answering; the choice is remembered.
      expect(await ctx.router.dispatch('engine:settings', {})).toEqual({ ok: true, value: { tfBackend: 'node', envOverride: null } })

      await ctx.router.dispatch('engine:set-backend', { tfBackend: 'auto' })
      expect(ctx.engine.getStatus().state).toBe('ready')
      expect(['wasm', 'tensorflow']).toContain(ctx.engine.getStatus().backend)
    } finally {
      if (saved !== undefined) process.env.MARSFM_TF_BACKEND = saved
    }
  })
})

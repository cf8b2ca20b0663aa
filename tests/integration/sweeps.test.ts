// Sweeps with real runs: a 6-trial grid on HiRISE landmark tiles (a tiny random-init model, a few
// steps each) runs its trials one at a time through the runs queue, each an ordinary run in the
// ledger; a trial the runs service refuses fails alone; cancel stops the running trial and drops
// the pending ones; a sweep left running when the app stops is taken up at the next start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { createAppContext, type AppContext } from '@main/app/context'
import { prithvi100m } from '@engine/model/config'
import type { SweepRecord } from '@shared/ipc/schemas/sweeps'
import type { SweepSpecInput } from '@shared/sweeps/spec'
import type { RunRecord } from '@shared/ipc/schemas/runs'
import { ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder, sharedDataAvailable } from '../support/training-data'

const TINY = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
const home = tempHome('marsfm-sweeps-')
const data = join(home.dir, 'landmarks')
let ctx: AppContext

function spec(name: string, parameters: SweepSpecInput['parameters'], over: Record<string, unknown> = {}): SweepSpecInput {
  return {
    name,
    base: {
      data,
      model: { random: TINY },
      config: { task: 'classification', steps: 2, batchSize: 4, optimizer: { name: 'adamw', lr: 1e-3 }, eval: { everySteps: 2, maxImages: 8 }, ...over }
    },
    parameters
  }
}

async function create(s: SweepSpecInput, c = ctx): Promise<number> {
  const reply = await c.router.dispatch('sweeps:create', { spec: s })
  if (!reply.ok) throw new Error(reply.error.message)
  return (reply.value as { sweepId: number }).sweepId
}

function until(c: AppContext, id: number, ok: (s: SweepRecord) => boolean): Promise<SweepRecord> {
  return new Promise((resolve) => {
    const check = (s: SweepRecord) => {
      if (s.id !== id || !ok(s)) return
      c.sweeps.off('status', check)
      resolve(s)
    }
    c.sweeps.on('status', check)
    check(c.sweeps.get(id))
  })
}

beforeAll(async () => {
  requireBuild()
  if (!sharedDataAvailable()) throw new Error('../shared/data is missing (HiRISE landmark tiles)')
  landmarkImageFolder(data, { trainPerClass: 6, validPerClass: 4 })
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('sweeps', () => {
  it('runs a 6-trial grid one run at a time, each an ordinary run with its parameters, and names the best', async () => {
    let running = 0
    let most = 0
    const onStatus = (r: RunRecord) => {
      running = ctx.runs.list().filter((x) => x.status === 'running').length
      most = Math.max(most, running)
    }
    ctx.runs.on('status', onStatus)
    const id = await create(spec('lr × dropout', { 'optimizer.lr': { values: [1e-4, 1e-3, 1e-2] }, dropout: { values: [0, 0.5] } }))
    const started = ctx.sweeps.get(id)
    expect(started.trials).toHaveLength(6)
    expect(started.metric).toBe('val/balanced_accuracy')
    const sweep = await ctx.sweeps.waitFor(id)
    ctx.runs.off('status', onStatus)
    expect(sweep.status).toBe('done')
    expect(sweep.counts).toEqual({ done: 6 })
    expect(most).toBe(1)
    const runs = sweep.trials.map((t) => ctx.runs.get(t.runId!))
    for (const [i, t] of sweep.trials.entries()) {
      const config = runs[i]!.config as { optimizer: { lr: number }; dropout: number; name: string }
      expect(config.optimizer.lr).toBe(t.params['optimizer.lr'])
      expect(config.dropout).toBe(t.params.dropout)
      expect(config.name).toBe(`lr × dropout #${i + 1}`)
      expect(runs[i]!.status).toBe('done')
      expect(t.value).toBe(runs[i]!.latest['val/balanced_accuracy'])
    }
    // One at a time: each run started after the one before it finished.
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAt! >= runs[i - 1]!.finishedAt!).toBe(true)
    const best = Math.max(...sweep.trials.map((t) => t.value!))
    expect(sweep.best!.value).toBe(best)
    expect(sweep.trials[sweep.best!.index]!.value).toBe(best)
    // What the renderer gets over the contract.
    const listed = await ctx.router.dispatch('sweeps:list', {})
    expect(listed.ok && (listed.value as SweepRecord[]).map((s) => s.id)).toEqual([id])
  })

  it('a trial the runs service refuses fails alone, with the reason; the others run', async () => {
    const id = await create(spec('models', { model: { values: [{ random: TINY }, 999] } }))
    const sweep = await ctx.sweeps.waitFor(id)
    expect(sweep.status).toBe('done')
    expect(sweep.trials.map((t) => t.status)).toEqual(['done', 'failed'])
    expect(sweep.trials[1]!.statusReason).toMatch(/999/)
    expect(sweep.trials[1]!.runId).toBeNull()
    expect(sweep.statusReason).toBe('1 of 2 trial(s) failed')
  })

  it('refuses a bad spec over the contract with each problem named, recording nothing', async () => {
    const before = ctx.sweeps.list().length
    const reply = await ctx.router.dispatch('sweeps:create', { spec: spec('bad', { 'optimizer.lrr': { values: [1] }, dropout: { values: [] } }) })
    expect(reply.ok).toBe(false)
    if (!reply.ok) expect(reply.error.message).toMatch(/parameters\.dropout\.values: empty grid/)
    const reply2 = await ctx.router.dispatch('sweeps:create', { spec: spec('bad', { 'optimizer.lrr': { values: [1] } }) })
    if (!reply2.ok) expect(reply2.error.message).toMatch(/unknown run-config key "optimizer\.lrr"/)
    expect(ctx.sweeps.list().length).toBe(before)
  })

  it('cancel stops the running trial and drops the pending ones', async () => {
    const id = await create(spec('to cancel', { seed: { values: [1, 2, 3] } }, { steps: 400, eval: { everySteps: 200, maxImages: 4 } }))
    await until(ctx, id, (s) => s.trials[0]!.status === 'running' && s.trials[0]!.step > 0)
    const reply = await ctx.router.dispatch('sweeps:cancel', { id })
    expect(reply.ok).toBe(true)
    const sweep = await ctx.sweeps.waitFor(id)
    expect(sweep.status).toBe('cancelled')
    expect(sweep.trials.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
    expect(sweep.trials.slice(1).map((t) => t.runId)).toEqual([null, null])
    expect(ctx.runs.get(sweep.trials[0]!.runId!).status).toBe('cancelled')
  })

  it('a trial whose run is paused lets the sweep go on, and follows its run when it is resumed to the end', async () => {
    const id = await create(spec('pause', { steps: { values: [100, 2] } }, { eval: { everySteps: 50, maxImages: 4 } }))
    const running = await until(ctx, id, (s) => s.trials[0]!.status === 'running' && s.trials[0]!.step > 0)
    const runId = running.trials[0]!.runId!
    ctx.runs.pause(runId)
    const sweep = await ctx.sweeps.waitFor(id)
    expect(sweep.trials.map((t) => t.status)).toEqual(['paused', 'done'])
    ctx.runs.resume(runId)
    await ctx.runs.waitFor(runId)
    const after = await until(ctx, id, (s) => s.trials[0]!.status === 'done')
    expect(after.counts).toEqual({ done: 2 })
    expect(after.trials[0]!.step).toBe(100)
  })

  it('a sweep left running when the app stops is taken up at the next start: the trial resumes, the pending ones run', async () => {
    await ctx.close()
    const first = await createAppContext({ mode: 'web', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
    await first.engine.whenReady()
    const id = await create(spec('restart', { seed: { values: [1, 2] } }, { steps: 30, eval: { everySteps: 15, maxImages: 4 }, checkpoint: { everySteps: 10 } }), first)
    await until(first, id, (s) => s.trials[0]!.status === 'running' && s.trials[0]!.step >= 12)
    const interruptedRun = first.sweeps.get(id).trials[0]!.runId!
    await first.close()
    ctx = await createAppContext({ mode: 'web', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
    const sweep = await ctx.sweeps.waitFor(id)
    expect(sweep.status).toBe('done')
    expect(sweep.trials.map((t) => t.status)).toEqual(['done', 'done'])
    // The interrupted trial kept its run, which continued (from its checkpoint) to the last step.
    expect(sweep.trials[0]!.runId).toBe(interruptedRun)
    const run = ctx.runs.get(interruptedRun)
    expect(run.status).toBe('done')
    expect(run.step).toBe(30)
    // Continued, not repeated: every step's loss once, and a checkpoint from before the stop kept.
    const losses = ctx.runs.detail(interruptedRun).metrics.filter((m) => m.name === 'train/loss').map((m) => m.step)
    expect(losses).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    const rows = ctx.ledger.db.prepare(`SELECT COUNT(*) AS n FROM metrics WHERE run_id = ? AND name = 'train/loss'`).get(interruptedRun) as { n: number }
    expect(rows.n).toBe(30)
    expect(ctx.runs.detail(interruptedRun).checkpoints.some((c) => c.kind === 'periodic' && c.step === 10)).toBe(true)
  })
})

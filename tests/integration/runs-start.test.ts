// `runs:start` answers at once: a run whose model is a checkpoint file gets its job immediately,
// and importing the file is the job's first step ("Resolving model…"), then it trains under the
// same job id. A file that cannot be used fails the job and the run with the reason; a bad path is
// still refused at once with nothing recorded. Pausing a run is a `pause-job` message to its job.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { listModels } from '@main/models/repository'
import { prithvi100m } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { writeSafetensors } from '@engine/checkpoint'
import { seededRandom } from '@shared/random'
import type { JobView } from '@shared/ipc/schemas/jobs'
import type { RunConfigInput, RunMetricsEvent } from '@shared/ipc/schemas/runs'
import { ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const TINY = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
const home = tempHome('marsfm-runs-start-')
const data = join(home.dir, 'images')
const goodModel = join(home.dir, 'tiny-model.safetensors')
const badModel = join(home.dir, 'broken.pt')
let ctx: AppContext

function tiny(name: string, over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name,
    task: 'classification',
    model: { random: TINY },
    data: { kind: 'folder', path: data, layout: 'imagefolder' },
    steps: 4,
    batchSize: 4,
    seed: 3,
    optimizer: { name: 'adamw', lr: 1e-3 },
    eval: { everySteps: 4, maxImages: 4 },
    checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' },
    ...over
  }
}

async function start(config: RunConfigInput): Promise<{ runId: number; jobId: string | null; queued: boolean }> {
  const reply = await ctx.router.dispatch('runs:start', { config })
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.value as { runId: number; jobId: string | null; queued: boolean }
}

/** Every message the job shows from now on (starting with its current one), until it ends. */
function messagesOf(jobId: string): { messages: string[]; final: Promise<JobView> } {
  const messages: string[] = [ctx.jobs.get(jobId)!.message]
  const on = (j: JobView) => {
    if (j.id === jobId && messages.at(-1) !== j.message) messages.push(j.message)
  }
  ctx.jobs.on('update', on)
  const final = ctx.jobs.waitFor(jobId).finally(() => ctx.jobs.off('update', on))
  return { messages, final }
}

beforeAll(async () => {
  requireBuild()
  let seed = 0
  for (const split of ['train', 'valid'])
    for (const [c, bright] of [['a', false], ['b', true]] as const) {
      mkdirSync(join(data, split, c), { recursive: true })
      for (let i = 0; i < 4; i++) {
        const r = seededRandom(seed++)
        const px = Buffer.alloc(40 * 40 * 3)
        for (let k = 0; k < px.length; k++) px[k] = Math.floor(r() * 128) + (bright ? 100 : 0)
        await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(data, split, c, `${i}.png`))
      }
    }
  await writeSafetensors(goodModel, randomWeights(TINY, 7, { decoder: true }))
  writeFileSync(badModel, 'this is not a checkpoint\n')
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('runs:start with slow steps', () => {
  it('answers with the run job at once; importing the model is its first step, then it trains', async () => {
    const started = await start(tiny('from a file', { model: { path: goodModel } }))
    expect(started.jobId).toEqual(expect.any(String))
    expect(started.queued).toBe(true)
    const jobId = started.jobId!
    expect(ctx.jobs.get(jobId)).toMatchObject({ kind: 'train', state: 'running', message: 'Resolving model tiny-model.safetensors…' })
    expect(ctx.runs.get(started.runId)).toMatchObject({ status: 'queued', statusReason: 'resolving the model…', jobId })
    const { messages, final } = messagesOf(jobId)
    const run = await ctx.runs.waitFor(started.runId)
    expect(run.status, run.statusReason ?? '').toBe('done')
    expect((await final).state).toBe('done')
    expect(messages.some((m) => /^Resolving model tiny-model\.safetensors…$/.test(m))).toBe(true)
    expect(messages.some((m) => /^step \d+\/4/.test(m))).toBe(true)
    // The file was imported, and the run names it as a UI run would.
    const model = listModels(ctx.ledger.db).find((m) => m.path === goodModel)
    expect(model).toBeDefined()
    expect(run.modelId).toBe(model!.id)
    expect(run.modelHash).toBe(model!.sha256)
  })

  it('a model file that cannot be used fails the job and the run with the reason', async () => {
    const started = await start(tiny('from a broken file', { model: { path: badModel } }))
    expect(started.jobId).toEqual(expect.any(String))
    const job = await ctx.jobs.waitFor(started.jobId!)
    expect(job.state).toBe('failed')
    expect(job.error?.message).toMatch(/^cannot use .*broken\.pt: /)
    const run = await ctx.runs.waitFor(started.runId)
    expect(run.status).toBe('failed')
    expect(run.statusReason).toBe(job.error?.message)
  })

  it('a path that does not exist is refused at once, and no run is recorded', async () => {
    const before = ctx.runs.list().length
    const reply = await ctx.router.dispatch('runs:start', { config: tiny('typo', { model: { path: join(home.dir, 'no-such.pt') } }) })
    expect(reply.ok).toBe(false)
    expect(reply.ok ? '' : reply.error.message).toMatch(/^model checkpoint not found: .*no-such\.pt$/)
    expect(ctx.runs.list().length).toBe(before)
  })
})

describe('pausing a run', () => {
  it('stops it after the current step with a checkpoint, and it resumes from there', async () => {
    const { runId } = await start(tiny('paused', { steps: 400 }))
    await new Promise<void>((resolve) => {
      const on = (m: RunMetricsEvent) => {
        if (m.runId !== runId || m.step < 2) return
        ctx.runs.off('metrics', on)
        resolve()
      }
      ctx.runs.on('metrics', on)
    })
    const reply = await ctx.router.dispatch('runs:pause', { id: runId })
    expect(reply.ok).toBe(true)
    const paused = await ctx.runs.waitFor(runId)
    expect(paused.status).toBe('paused')
    const step = Number(/^paused at step (\d+)$/.exec(paused.statusReason ?? '')?.[1])
    expect(step).toBeGreaterThanOrEqual(2)
    expect(ctx.runs.detail(runId).checkpoints.map((c) => c.step)).toContain(step)
    // Pausing what is not running is refused.
    const again = await ctx.router.dispatch('runs:pause', { id: runId })
    expect(again.ok ? '' : again.error.message).toBe(`run #${runId} is not running`)

    const resumed = await ctx.router.dispatch('runs:resume', { id: runId })
    expect(resumed.ok).toBe(true)
    const next = await new Promise<RunMetricsEvent>((resolve) => {
      const on = (m: RunMetricsEvent) => {
        if (m.runId !== runId) return
        ctx.runs.off('metrics', on)
        resolve(m)
      }
      ctx.runs.on('metrics', on)
    })
    expect(next.step).toBe(step + 1)
    ctx.runs.cancel(runId)
    expect((await ctx.runs.waitFor(runId)).status).toBe('cancelled')
  })
})

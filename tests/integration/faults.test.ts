// Memory and faults through the real services, a real ledger file and the real engine child (wasm):
// a run whose memory estimate exceeds wasm's 4 GiB heap is refused with the numbers before any run
// row exists, and the engine's `train` job refuses it before step 1 too; a run whose engine really
// runs out of WebAssembly memory mid-way (MARSFM_TEST_FAULTS=1 lets a test take the whole heap,
// uninitialised, between two steps) fails with a plain reason, the engine restarts by itself (its
// status never says "ready" in between and keeps the fault), and the run resumes to the end.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import type { RunsController } from '@main/runs/controller'
import { estimateRun, startRun } from '@main/runs/start'
import { openLedger } from '@main/ledger/ledger'
import { prithvi100m } from '@engine/model/config'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { seededRandom } from '@shared/random'
import { RunConfig, type RunConfigInput } from '@shared/ipc/schemas/runs'
import type { EngineStatus } from '@shared/ipc/schemas/system'
import { ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const TINY = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
const home = tempHome('marsfm-faults-')
const data = join(home.dir, 'images')
let ctx: AppContext
let runs: RunsController

async function writeImage(path: string, seed: number, bright: boolean) {
  const r = seededRandom(seed)
  const px = Buffer.alloc(40 * 40 * 3)
  for (let i = 0; i < px.length; i++) px[i] = Math.floor(r() * 128) + (bright ? 100 : 0)
  await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(path)
}

function tiny(name: string, over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name,
    task: 'classification',
    model: { random: TINY },
    data: { kind: 'folder', path: data, layout: 'imagefolder' },
    steps: 100,
    batchSize: 4,
    seed: 3,
    optimizer: { name: 'adamw', lr: 1e-3 },
    eval: { everySteps: 10, maxImages: 4 },
    checkpoint: { everySteps: 10, bestMetric: 'val/loss', mode: 'min' },
    ...over
  }
}

function runCount(): number {
  const ledger = openLedger(home.dir)
  try {
    return (ledger.db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n
  } finally {
    ledger.close()
  }
}

beforeAll(async () => {
  requireBuild()
  for (const split of ['train', 'valid']) {
    for (const [k, cls] of ['0_dark', '1_bright'].entries()) {
      mkdirSync(join(data, split, cls), { recursive: true })
      for (let i = 0; i < 4; i++) await writeImage(join(data, split, cls, `${i}.png`), 100 * k + i + (split === 'valid' ? 50 : 0), k === 1)
    }
  }
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false, engineEnv: { MARSFM_TF_BACKEND: 'wasm', MARSFM_TEST_FAULTS: '1' } })
  await ctx.engine.whenReady()
  runs = ctx.runs
})

afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('memory estimate before a run starts', () => {
  // 1024 images of 512² in patches of 8: 4097 tokens each, far past a 4 GiB heap.
  const huge = () => tiny('too big', { model: { random: { ...TINY, patch_size: 8 } }, imgSize: 512, batchSize: 1024 })

  it('refuses the run with the numbers and the batch that fits; no run row, no run folder', async () => {
    const before = runCount()
    const estimate = await estimateRun(ctx, huge())
    expect(estimate?.fits).toBe(false)
    expect(estimate?.limit.backend).toBe('wasm')
    await expect(startRun(ctx, huge())).rejects.toThrow(/^batch 1024 at 512² needs about \d+(\.\d)? GB; the WebAssembly backend allows a 4 GiB heap; the largest batch that fits is about \d+ \(or set a micro-batch to accumulate gradients\)$/)
    expect(runCount()).toBe(before)
    expect(runs.list()).toHaveLength(before)
    expect(existsSync(join(home.dir, 'runs', String(before + 1)))).toBe(false)
    // The batch the message names really fits, by the same estimate.
    const n = estimate!.maxBatch!
    expect(n).toBeGreaterThan(0)
    expect((await estimateRun(ctx, { ...huge(), batchSize: n }))?.fits).toBe(true)
    expect((await estimateRun(ctx, { ...huge(), batchSize: n + 1 }))?.fits).toBe(false)
    // The engine's own method gives the same verdict on its backend.
    const engineView = await ctx.engine.call('training-memory', { config: RunConfig.parse(huge()), model: { ...TINY, patch_size: 8 } })
    expect(engineView).toEqual(estimate)
  })

  it('the engine refuses the train job before step 1 with a typed error', async () => {
    const events: string[] = []
    const jobId = await ctx.jobs.startEngineJob(
      'train',
      'too big',
      { runId: 999, runDir: join(home.dir, 'scratch'), config: RunConfig.parse({ ...huge(), data: { kind: 'folder', path: data, layout: 'imagefolder' } }), model: { config: { ...TINY, patch_size: 8 }, stats: PRITHVI_HLS_STATS } },
      { onEvent: ({ event }) => events.push(event) }
    )
    const job = await ctx.jobs.waitFor(jobId)
    expect(job.state).toBe('failed')
    expect(job.error?.name).toBe('MemoryLimitError')
    expect(job.error?.message).toMatch(/^batch 1024 at 512² needs about .* GB; the WebAssembly backend allows a 4 GiB heap/)
    expect(events).toEqual([]) // not even 'started': nothing was loaded
  })
})

describe('a wasm fault during a run', () => {
  it('fails the run with a plain reason, restarts the engine by itself, and the run resumes', async () => {
    const firstPid = ctx.engine.getStatus().pid
    const states: EngineStatus[] = []
    const onStatus = (s: EngineStatus) => states.push(s)
    ctx.engine.on('status', onStatus)

    const { runId } = await startRun(ctx, tiny('faulted'))
    // Once the first checkpoint is recorded, take the whole heap: the next tensor does not fit.
    while ((runs.get(runId).lastCheckpointStep ?? 0) < 10) await new Promise((resolve) => setTimeout(resolve, 20))
    const filled = await ctx.engine.call<{ heapBytes: number }>('test-fault', { kind: 'wasm-fill' })
    expect(filled.heapBytes).toBeGreaterThan(4 * 2 ** 30 - 64 * 2 ** 20)

    const failed = await runs.waitFor(runId)
    expect(failed.status).toBe('failed')
    expect(failed.statusReason).toMatch(/^the model ran out of WebAssembly memory at batch 4, 32² images; the estimate for this batch \(about \d+ MB\) was too low, so use a smaller batch or a micro-batch \((?:the WebAssembly module aborted \(Aborted\(\)\), most likely out of memory|a .* tensor did not fit in WebAssembly memory .*)\); the engine was restarted: resume the run from its last checkpoint$/)
    expect(failed.lastCheckpointStep).toBeGreaterThanOrEqual(10)
    expect(failed.step).toBeLessThan(100)

    // The supervisor restarts the engine without being asked; until then it is never "ready".
    await ctx.engine.whenReady()
    const status = ctx.engine.getStatus()
    expect(status.pid).not.toBe(firstPid)
    expect(status.lastFault?.reason).toMatch(/WebAssembly/)
    const faultAt = states.findIndex((s) => s.lastFault !== null)
    expect(faultAt).toBeGreaterThanOrEqual(0)
    expect(states[faultAt]!.state).toBe('restarting')
    const after = states.slice(faultAt)
    const readyAgain = after.findIndex((s) => s.state === 'ready')
    expect(after.slice(0, readyAgain).every((s) => s.state !== 'ready')).toBe(true)
    expect(after[readyAgain]!.pid).not.toBe(firstPid)
    ctx.engine.off('status', onStatus)

    // The fresh engine has a fresh heap: the run resumes from its checkpoint and finishes.
    const memory = await ctx.engine.call<{ numTensors: number }>('memory')
    expect(memory.numTensors).toBeLessThan(10)
    runs.resume(runId)
    const done = await runs.waitFor(runId)
    expect(done.status).toBe('done')
    expect(done.step).toBe(100)
  })
})

describe('a WebGPU device lost (lavapipe, MARSFM_TF_BACKEND=webgpu)', () => {
  // Training itself does not run on tfjs-webgpu yet (patchify's rank-8 transpose: "GPU for rank 8 is
  // not yet supported"), so the device is lost while the engine is idle; a step checks the same
  // fault (throwIfFaulted) and a job that never returns is ended by the engine's grace period.
  it('the engine reports the fault, restarts by itself (never "ready" in between) and answers again', async (t) => {
    const gpuHome = tempHome('marsfm-faults-gpu-')
    const gpu = await createAppContext({ mode: 'cli', dataDir: gpuHome.dir, engineEntry: ENGINE_ENTRY, echoLog: false, engineEnv: { MARSFM_TF_BACKEND: 'webgpu', MARSFM_TEST_FAULTS: '1' } })
    try {
      try {
        await gpu.engine.whenReady()
      } catch (err) {
        // No Vulkan adapter on this machine (lavapipe is mesa-vulkan-drivers): nothing to lose.
        t.skip(`no WebGPU adapter: ${(err as Error).message}`)
      }
      const firstPid = gpu.engine.getStatus().pid
      const states: EngineStatus[] = []
      gpu.engine.on('status', (s) => states.push(s))
      await gpu.engine.call('test-fault', { kind: 'gpu-destroy' })
      await new Promise<void>((resolve) => {
        const check = (s: EngineStatus) => s.state === 'ready' && s.pid !== firstPid && resolve()
        gpu.engine.on('status', check)
      })
      const status = gpu.engine.getStatus()
      expect(status.backend).toBe('webgpu')
      expect(status.lastFault?.reason).toMatch(/^the GPU device was lost \(destroyed/)
      expect(status.lastExit).toMatch(/^the engine was restarted after a fault \(the GPU device was lost/)
      const faultAt = states.findIndex((s) => s.lastFault !== null)
      expect(states[faultAt]!.state).toBe('restarting')
      expect(states.slice(faultAt, -1).every((s) => s.state !== 'ready')).toBe(true)
      // The fresh engine answers. (tfjs-webgpu's synchronous reads need OffscreenCanvas in Node, so
      // even the demo job fails on webgpu today; that is not this fault's doing.)
      expect(await gpu.engine.call('ping')).toEqual({ pong: true, pid: status.pid })
    } finally {
      await gpu.close()
      gpuHome.remove()
    }
  })
})

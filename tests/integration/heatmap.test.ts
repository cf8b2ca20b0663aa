// Sliding-window heat maps through the real services and engine child: a tiny crater-vs-rest run is
// trained on HiRISE landmark tiles, then `inference:heatmap` maps a real 2000² CTX tile (window and
// stride in image pixels, the last window flush with the edge). A window's probability is the run's
// own inference on that window cut out as a file; a cancel stops the job; an absurd image is refused
// before it is decoded; `marsfm infer --heatmap` writes the CSV (one row per window) and the PNG.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { startRun } from '@main/runs/start'
import type { HeatmapOutcome, InferenceDetail } from '@shared/ipc/schemas/inference'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder, sharedDataAvailable } from '../support/training-data'
import { writeBlackPng } from '../hostile/big-png'

const CTX_TILE = join(SHARED_DATA, 'ctx-crater-catalogue', 'images', 'MC11E-A.png')
const STRIP = join(SHARED_DATA, 'hirise-rgb', 'ESP_011472_1225_RGB.NOMAP.browse.jpg')
const home = tempHome('marsfm-heatmap-')
let ctx: AppContext
let runId: number

async function call<T>(channel: string, payload: unknown): Promise<T> {
  const reply = await ctx.router.dispatch(channel, payload)
  if (!reply.ok) throw new Error(`${reply.error.name}: ${reply.error.message}`)
  return reply.value as T
}

async function heatmap(request: Record<string, unknown>): Promise<{ job: JobView; outcome: HeatmapOutcome | null }> {
  const { jobId } = await call<{ jobId: string }>('inference:heatmap', { runId, ...request })
  const job = await ctx.jobs.waitFor(jobId)
  return { job, outcome: job.state === 'done' ? (job.result as HeatmapOutcome) : null }
}

beforeAll(async () => {
  requireBuild()
  if (!sharedDataAvailable() || !existsSync(CTX_TILE)) throw new Error('../shared/data is missing (hirise-landmarks-v1, ctx-crater-catalogue)')
  const landmarks = join(home.dir, 'landmarks')
  landmarkImageFolder(landmarks, { trainPerClass: 12, validPerClass: 6 })
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
  const started = await startRun(ctx, {
    name: 'tiny crater run',
    task: 'classification',
    model: { demo: true },
    data: { kind: 'folder', path: landmarks, layout: 'imagefolder' },
    imgSize: 64,
    steps: 4,
    batchSize: 4,
    seed: 3,
    optimizer: { name: 'adamw', lr: 3e-4 },
    eval: { everySteps: 4, maxImages: 0 },
    checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' }
  })
  const run = await ctx.runs.waitFor(started.runId)
  expect(run.status, run.statusReason ?? '').toBe('done')
  runId = started.runId
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('heat maps over large images', () => {
  let ctxMap: HeatmapOutcome

  it('maps a 2000² CTX tile window by window, the last window of each row and column flush with the edge', async () => {
    const { job, outcome } = await heatmap({ image: CTX_TILE, window: 256, stride: 256, batchSize: 8 })
    expect(job.error).toBeNull()
    expect(job.state).toBe('done')
    ctxMap = outcome!
    expect(ctxMap.image).toMatchObject({ name: 'MC11E-A.png', width: 2000, height: 2000, channels: 1 })
    expect(ctxMap.className).toBe('1_crater')
    // 0, 256, …, 1536 (seven windows end at 1792) and one at 1744 that ends at 2000: 8 × 8.
    expect([ctxMap.columns, ctxMap.rows, ctxMap.windows.length]).toEqual([8, 8, 64])
    expect([...new Set(ctxMap.windows.map((w) => w.x))]).toEqual([0, 256, 512, 768, 1024, 1280, 1536, 1744])
    expect(ctxMap.windows.every((w) => w.width === 256 && w.height === 256 && w.probability >= 0 && w.probability <= 1)).toBe(true)
    expect(new Set(ctxMap.windows.map((w) => w.probability.toFixed(6))).size).toBeGreaterThan(1)
    expect(ctxMap.preprocessing.resize).toBe('bilinear 256→64 (as in training)')
    expect(ctxMap.preview.dataUrl).toMatch(/^data:image\/jpeg;base64,/)
    expect([ctxMap.preview.width, ctxMap.preview.height]).toEqual([1600, 1600])
    expect(job.done).toBe(64)
  })

  it('scores a window as the run\'s inference scores the same pixels cut out as a file', async () => {
    const w = ctxMap.windows[8 * 3 + 2]! // row 3, column 2
    expect([w.x, w.y]).toEqual([512, 768])
    const crop = join(home.dir, 'window.png')
    await sharp(CTX_TILE).extract({ left: w.x, top: w.y, width: 256, height: 256 }).png().toFile(crop)
    const { jobId, inferenceId } = await call<{ jobId: string; inferenceId: number }>('inference:start', { runId, source: { kind: 'files', paths: [crop] }, thumbnails: 0 })
    expect((await ctx.jobs.waitFor(jobId)).state).toBe('done')
    const detail = await call<InferenceDetail>('inference:get', { id: inferenceId })
    expect(Math.abs(detail.outcome!.predictions[0]!.probabilities[1]! - w.probability)).toBeLessThan(1e-5)
  })

  it('defaults the window to the run\'s input size and the stride to half of it', async () => {
    const piece = join(home.dir, 'piece.png')
    await sharp(CTX_TILE).extract({ left: 900, top: 300, width: 200, height: 130 }).png().toFile(piece)
    const { outcome } = await heatmap({ image: piece })
    // 200×130 at window 64, stride 32: columns at 0 … 128 and one flush at 136 (6); rows at 0, 32, 64
    // and one flush at 66 (4).
    expect([outcome!.window, outcome!.stride, outcome!.columns, outcome!.rows]).toEqual([64, 32, 6, 4])
    expect(outcome!.windows).toHaveLength(24)
    expect(outcome!.windows.at(-1)).toMatchObject({ x: 136, y: 66, width: 64, height: 64 })
    expect(outcome!.preprocessing.resize).toBe('none (window = input size 64)')
    // A small image's preview is not enlarged.
    expect([outcome!.preview.width, outcome!.preview.height]).toEqual([200, 130])
  })

  it('cancels between batches', async () => {
    const { jobId } = await call<{ jobId: string }>('inference:heatmap', { runId, image: STRIP, window: 64, stride: 16, batchSize: 4 })
    await new Promise<void>((resolve) => {
      const onUpdate = (j: JobView) => {
        if (j.id !== jobId || !/of \d+ windows/.test(j.message) || j.done < 8) return
        ctx.jobs.off('update', onUpdate)
        resolve()
      }
      ctx.jobs.on('update', onUpdate)
    })
    expect(ctx.jobs.cancel(jobId)).toBe(true)
    const job = await ctx.jobs.waitFor(jobId)
    expect(job.state).toBe('cancelled')
    expect(job.done).toBeLessThan(job.total)
  })

  it('refuses an absurd image before decoding it, and says what is wrong with a bad request', async () => {
    const huge = join(home.dir, 'huge.png')
    writeBlackPng(huge, 20_000) // 400 megapixels of header, a few hundred kB of file
    const { job } = await heatmap({ image: huge })
    expect(job.state).toBe('failed')
    expect(job.error!.message).toMatch(/huge\.png is 20000×20000 \(400 megapixels\); a heat map decodes at most 100 megapixels/)
    await expect(call('inference:heatmap', { runId, image: CTX_TILE, window: 100, stride: 200 })).rejects.toThrow(/stride of 200 px skips pixels/)
    await expect(call('inference:heatmap', { runId, image: join(home.dir, 'nope.png') })).rejects.toThrow(/nope\.png/)
    await expect(call('inference:heatmap', { runId, image: 'relative.png' })).rejects.toThrow(/ValidationError/)
    const small = await heatmap({ image: CTX_TILE, window: 4096 })
    expect(small.job.error!.message).toMatch(/2000×2000 image is smaller than the 4096 px window/)
  })

  it('`marsfm infer --heatmap` writes one CSV row per window and the map as PNG', async () => {
    const out = join(home.dir, 'maps')
    const r = spawnSync(process.execPath, [CLI_ENTRY, 'infer', '--run', String(runId), '--heatmap', CTX_TILE, '--window', '256', '--stride', '256', '--out', out], {
      env: { ...process.env, MARSFM_HOME: home.dir },
      encoding: 'utf8',
      timeout: 120_000
    })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/heat map of p\(1_crater\) over MC11E-A\.png \(2000×2000\): 64 windows \(8 × 8\), window 256 px, stride 256 px/)
    const lines = readFileSync(join(out, 'MC11E-A-windows.csv'), 'utf8').trim().split('\r\n')
    expect(lines[0]).toBe('x,y,width,height,probability')
    expect(lines).toHaveLength(1 + 64)
    // The same numbers as the job run through the service.
    const [x, y, w, h, p] = lines[1 + 9]!.split(',').map(Number)
    const same = ctxMap.windows[9]!
    expect([x, y, w, h]).toEqual([same.x, same.y, 256, 256])
    expect(p).toBeCloseTo(same.probability, 6)
    const meta = await sharp(join(out, 'MC11E-A-heatmap.png')).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 2000, 2000])
    const usage = spawnSync(process.execPath, [CLI_ENTRY, 'infer', '--run', String(runId), '--heatmap', CTX_TILE, '--window', '100', '--stride', '300'], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8' })
    expect(usage.status).toBe(2)
    expect(usage.stderr).toMatch(/--stride 300 is larger than --window 100/)
  })
})

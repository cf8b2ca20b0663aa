// ONNX Runtime's WebGPU device end to end, on the shipped demo model (64², tiny): `marsfm
// reconstruct --device webgpu` gives the CPU provider's model / RGB losses per tile and method
// within 1e-4; a reconstruction study and a classifier inference started through the services on
// 'webgpu' match 'cpu' (losses, probabilities) and record the device; 'auto' with only a software
// adapter runs on the CPU and says why; with Vulkan hidden (no adapter at all) an explicit webgpu
// fails with the reason and auto runs on the CPU; bad --device / --precision values are usage
// errors; `marsfm info` lists the provider. The GPU parts run wherever Dawn finds any adapter (Mesa lavapipe in CI) and are
// skipped, with the reason printed, only where there is none.
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { startRun } from '@main/runs/start'
import { probeWebGpu } from '@engine/gpu/adapter'
import type { InferenceDetail } from '@shared/ipc/schemas/inference'
import type { StudyDetail } from '@shared/ipc/schemas/reconstruction'
import type { ModelRecord } from '@shared/ipc/schemas/models'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder, sharedDataAvailable } from '../support/training-data'

const TOL = 1e-4
const TILES = join(SHARED_DATA, 'hirise-rgb')
// Mesa's Vulkan drivers want a runtime folder; the engine child and the CLI inherit it.
if (!process.env.XDG_RUNTIME_DIR) {
  const xdg = join(tmpdir(), `marsfm-xdg-${process.getuid?.() ?? 0}`)
  mkdirSync(xdg, { recursive: true })
  chmodSync(xdg, 0o700)
  process.env.XDG_RUNTIME_DIR = xdg
}
const probe = await probeWebGpu()
if (!probe.available) console.warn(`[webgpu tests skipped] no WebGPU adapter: ${probe.reason} (${probe.hint})`)
const softwareOnly = probe.available && probe.adapter.software

const home = tempHome('marsfm-ort-webgpu-')
const cliHome = join(home.dir, 'cli')
mkdirSync(cliHome, { recursive: true })

/** The CLI in a child process, awaited (not spawnSync: the test worker keeps answering vitest meanwhile). */
function marsfm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: cliHome, ...env }, timeout: 300_000 })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out, err }))
  })
}

interface CliJson {
  backend: { name: string; device: string; notes: string[]; requested?: string; fallback?: string }
  images: { tile: string; methods: Record<string, { model_loss: number; rgb_loss: number }> }[]
}

async function reconstruct(device: string, out: string): Promise<CliJson> {
  const r = await marsfm(['reconstruct', '--images', TILES, '--max-tiles', '3', '--device', device, '--json', out])
  expect(r.code, r.err).toBe(0)
  return JSON.parse(readFileSync(out, 'utf8')) as CliJson
}

afterAll(() => home.remove())

describe('marsfm --device', () => {
  it('refuses an unknown device and a GPU device with --backend tfjs, by name', async () => {
    const bad = await marsfm(['reconstruct', '--images', TILES, '--device', 'metal'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--device must be auto, cpu, webgpu or cuda \(got "metal"\)/)
    const tfjs = await marsfm(['reconstruct', '--images', TILES, '--backend', 'tfjs', '--device', 'webgpu'])
    expect(tfjs.code).toBe(2)
    expect(tfjs.err).toMatch(/--device chooses where ONNX Runtime runs/)
    const infer = await marsfm(['infer', '--run', '1', '--images', TILES, '--device', 'gpu'])
    expect(infer.code).toBe(2)
    expect(infer.err).toMatch(/--device must be/)
    const half = await marsfm(['infer', '--run', '1', '--images', TILES, '--precision', 'fp8'])
    expect(half.code).toBe(2)
    expect(half.err).toMatch(/--precision must be fp32 or fp16 \(got "fp8"\)/)
    const halfCpu = await marsfm(['infer', '--run', '1', '--images', TILES, '--precision', 'fp16', '--device', 'cpu'])
    expect(halfCpu.code).toBe(2)
    expect(halfCpu.err).toMatch(/--precision fp16 runs the ONNX classifier graph on WebGPU/)
  })

  it('`marsfm info` lists the WebGPU execution provider the binding bundles', async () => {
    const r = await marsfm(['info', '--json'])
    expect(r.code, r.err).toBe(0)
    const info = JSON.parse(r.out) as { onnxruntime: { executionProviders: string[]; webgpu: boolean } }
    expect(info.onnxruntime.executionProviders[0]).toBe('cpu')
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(info.onnxruntime.executionProviders).toContain('webgpu')
      expect(info.onnxruntime.webgpu).toBe(true)
    }
  })

  it.skipIf(!probe.available)('`reconstruct --device webgpu` gives the CPU provider\'s losses per tile and method within 1e-4', async () => {
    const gpu = await reconstruct('webgpu', join(home.dir, 'webgpu.json'))
    const cpu = await reconstruct('cpu', join(home.dir, 'cpu.json'))
    expect(gpu.backend).toMatchObject({ name: 'ort', device: 'webgpu', requested: 'webgpu' })
    expect(gpu.backend.notes.join('\n')).toMatch(/ONNX Runtime on WebGPU: /)
    expect(gpu.backend.fallback).toBeUndefined()
    expect(cpu.backend).toMatchObject({ name: 'ort', device: 'cpu', requested: 'cpu' })
    expect(gpu.images.map((i) => i.tile)).toEqual(cpu.images.map((i) => i.tile))
    expect(cpu.images).toHaveLength(3)
    let compared = 0
    for (const [i, c] of cpu.images.entries()) {
      expect(Object.keys(gpu.images[i]!.methods)).toEqual(Object.keys(c.methods))
      for (const [method, want] of Object.entries(c.methods)) {
        const got = gpu.images[i]!.methods[method]!
        expect(want.model_loss).toBeGreaterThan(0)
        expect(Math.abs(got.model_loss - want.model_loss), `${c.tile} ${method} model_loss`).toBeLessThan(TOL)
        expect(Math.abs(got.rgb_loss - want.rgb_loss), `${c.tile} ${method} rgb_loss`).toBeLessThan(TOL)
        compared++
      }
    }
    expect(compared).toBe(9)
  })

  it.runIf(softwareOnly)("'auto' with only a software adapter runs on the CPU and says why", async () => {
    const r = await marsfm(['reconstruct', '--images', TILES, '--max-tiles', '1', '--methods', 'means', '--json', join(home.dir, 'auto.json')])
    expect(r.code, r.err).toBe(0)
    const json = JSON.parse(readFileSync(join(home.dir, 'auto.json'), 'utf8')) as CliJson
    // A CUDA provider, where one is installed and works, comes first.
    if (json.backend.device === 'cuda') return
    expect(json.backend).toMatchObject({ device: 'cpu', requested: 'auto' })
    expect(json.backend.fallback).toMatch(/only WebGPU adapter is a software rasteriser/)
    expect(r.err).toMatch(/--device auto ran on the cpu: .*software rasteriser .*--device webgpu uses it anyway/)
  })
})

// Vulkan with no driver manifest: Dawn finds no adapter, as on a machine without a GPU driver.
describe.runIf(process.platform === 'linux')('marsfm --device without any WebGPU adapter', () => {
  const noVulkan = { VK_ICD_FILENAMES: join(home.dir, 'no-such-icd.json'), VK_DRIVER_FILES: join(home.dir, 'no-such-icd.json') }

  it('an explicit webgpu fails with the reason and what to install; auto runs on the CPU and says why', async () => {
    const gpu = await marsfm(['reconstruct', '--images', TILES, '--max-tiles', '1', '--methods', 'means', '--device', 'webgpu'], noVulkan)
    expect(gpu.code).toBe(1)
    expect(gpu.err).toMatch(/device 'webgpu' unavailable: no WebGPU adapter was found; install a GPU driver with Vulkan support/)
    const out = join(home.dir, 'no-adapter.json')
    const auto = await marsfm(['reconstruct', '--images', TILES, '--max-tiles', '1', '--methods', 'means', '--json', out], noVulkan)
    expect(auto.code, auto.err).toBe(0)
    const json = JSON.parse(readFileSync(out, 'utf8')) as CliJson
    if (json.backend.device === 'cuda') return // a working CUDA provider comes first
    expect(json.backend).toMatchObject({ device: 'cpu', requested: 'auto' })
    expect(json.backend.fallback).toMatch(/no WebGPU adapter was found/)
  })
})

describe.skipIf(!probe.available)('services on the WebGPU device', () => {
  let ctx: AppContext

  async function call<T>(channel: string, payload: unknown): Promise<T> {
    const reply = await ctx.router.dispatch(channel, payload)
    if (!reply.ok) throw new Error(`${reply.error.name}: ${reply.error.message}`)
    return reply.value as T
  }

  async function study(device: string): Promise<StudyDetail> {
    const demo = (await call<ModelRecord[]>('models:list', {})).find((m) => m.source === 'demo')!
    const { jobId, studyId } = await call<{ jobId: string; studyId: number }>('reconstruction:start', {
      modelId: demo.id, source: { kind: 'folder', path: TILES }, methods: ['means', 'postnorm-dup'], maxTiles: 2, galleryTiles: 0, device
    })
    const job = await ctx.jobs.waitFor(jobId)
    expect(job.error).toBeNull()
    return call<StudyDetail>('reconstruction:get', { id: studyId })
  }

  async function infer(runId: number, device: string, precision = 'fp32'): Promise<InferenceDetail> {
    const { jobId, inferenceId } = await call<{ jobId: string; inferenceId: number }>('inference:start', {
      runId, checkpoint: 'last', source: { kind: 'folder', path: join(home.dir, 'landmarks', 'valid') }, backend: 'ort', device, precision
    })
    const job = await ctx.jobs.waitFor(jobId)
    expect(job.error).toBeNull()
    return call<InferenceDetail>('inference:get', { id: inferenceId })
  }

  function maxProbabilityDiff(a: InferenceDetail, b: InferenceDetail): number {
    const [x, y] = [a.outcome!.predictions, b.outcome!.predictions]
    expect(x.map((p) => p.path)).toEqual(y.map((p) => p.path))
    let worst = 0
    for (const [i, p] of x.entries()) p.probabilities.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - y[i]!.probabilities[k]!))))
    return worst
  }

  let runId = 0
  let cpuJob: InferenceDetail

  beforeAll(async () => {
    requireBuild()
    ctx = await createAppContext({ mode: 'cli', dataDir: join(home.dir, 'app'), engineEntry: ENGINE_ENTRY, echoLog: false })
    await ctx.engine.whenReady()
  })
  afterAll(async () => {
    await ctx?.close()
  })

  it('a reconstruction study on webgpu records the device and matches cpu per tile and method within 1e-4', async () => {
    const gpu = await study('webgpu')
    const cpu = await study('cpu')
    expect(gpu.config.device).toBe('webgpu')
    expect(gpu.outcome!.backend).toMatchObject({ device: 'webgpu', requested: 'webgpu' })
    expect(cpu.outcome!.backend).toMatchObject({ device: 'cpu', requested: 'cpu' })
    const key = (r: { tile: string; method: string }) => `${r.tile}|${r.method}`
    const want = new Map(cpu.rows.map((r) => [key(r), r]))
    expect(gpu.rows).toHaveLength(4)
    for (const r of gpu.rows) {
      const c = want.get(key(r))!
      expect(Math.abs(r.modelLoss - c.modelLoss), `${key(r)} model loss`).toBeLessThan(TOL)
      expect(Math.abs(r.rgbLoss - c.rgbLoss), `${key(r)} RGB loss`).toBeLessThan(TOL)
    }
    // The next study on the same graph takes the parked WebGPU session back: same numbers, no re-upload.
    const again = await study('webgpu')
    expect(gpu.outcome!.backend.notes.join('\n')).not.toMatch(/kept from the previous job/)
    expect(again.outcome!.backend.notes.join('\n')).toMatch(/ONNX Runtime on WebGPU: .*kept from the previous job/)
    const first = new Map(gpu.rows.map((r) => [key(r), r]))
    for (const r of again.rows) expect(Math.abs(r.modelLoss - first.get(key(r))!.modelLoss)).toBeLessThan(1e-6)
  })

  it.runIf(sharedDataAvailable())('inference on webgpu records the device and gives the CPU provider\'s probabilities within 1e-4', async () => {
    landmarkImageFolder(join(home.dir, 'landmarks'), { trainPerClass: 8, validPerClass: 6 })
    const runs = ctx.runs
    ;({ runId } = await startRun(ctx, {
      name: 'tiny cls', task: 'classification', model: { demo: true }, data: { kind: 'folder', path: join(home.dir, 'landmarks'), layout: 'imagefolder' },
      imgSize: 64, steps: 4, batchSize: 4, seed: 3, optimizer: { name: 'adamw', lr: 3e-4 }, eval: { everySteps: 4, maxImages: 4 },
      checkpoint: { everySteps: 0, bestMetric: 'val/accuracy', mode: 'max' }
    }))
    expect((await runs.waitFor(runId)).status).toBe('done')
    const gpu = await infer(runId, 'webgpu')
    const cpu = (cpuJob = await infer(runId, 'cpu'))
    expect(gpu.input.device).toBe('webgpu')
    expect(gpu.outcome!.backend).toMatchObject({ name: 'ort', device: 'webgpu', requested: 'webgpu' })
    expect(cpu.outcome!.backend).toMatchObject({ name: 'ort', device: 'cpu' })
    expect(cpu.outcome!.predictions.length).toBeGreaterThanOrEqual(10)
    expect(maxProbabilityDiff(gpu, cpu)).toBeLessThan(TOL)
  })

  it.runIf(sharedDataAvailable() && probe.available && probe.adapter.features.shaderF16)('fp16 inference on webgpu gives the fp32 probabilities within 1e-2 and records the precision', async () => {
    expect(runId, 'the previous test trained the run').toBeGreaterThan(0)
    const half = await infer(runId, 'webgpu', 'fp16')
    expect(half.input.precision).toBe('fp16')
    expect(half.outcome!.backend).toMatchObject({ device: 'webgpu', precision: 'fp16' })
    expect(half.outcome!.backend.notes.join('\n')).toMatch(/fp16 classifier graph/)
    expect(readdirSync(join(home.dir, 'app', 'onnx-cache')).some((f) => f.endsWith('-fp16.onnx'))).toBe(true)
    expect(maxProbabilityDiff(half, cpuJob)).toBeLessThan(1e-2)
  })

  it.runIf(sharedDataAvailable() && softwareOnly)("fp16 with 'auto' on a software-only adapter fails with the reason instead of running fp32", async () => {
    const { jobId } = await call<{ jobId: string }>('inference:start', {
      runId, checkpoint: 'last', source: { kind: 'folder', path: join(home.dir, 'landmarks', 'valid') }, backend: 'ort', precision: 'fp16'
    })
    const job = await ctx.jobs.waitFor(jobId)
    expect(job.state).toBe('failed')
    expect(job.error?.message).toMatch(/--precision fp16 needs a WebGPU session; device auto ran on the cpu \(.*software rasteriser/)
  })
})

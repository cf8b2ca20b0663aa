// ONNX Runtime's WebGPU execution provider against its CPU provider, on the shipped demo model
// (64², 4 blocks): the MAE graph's pred / mask / target and the classifier's logits agree within
// 1e-4. Runs wherever Dawn finds any adapter — a software one (Mesa lavapipe) included, which is how
// CI runs it; skipped, with the reason printed, only where no adapter exists at all.
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCheckpoint } from '@engine/checkpoint'
import { PrithviConfigSchema } from '@shared/ipc/schemas/models'
import type { PrithviConfig } from '@engine/model/config'
import type { WeightMap } from '@engine/model/weights'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { createSession, listExecutionProviders, releaseParkedSessions, run, sessionNotes, type FloatTensor, type OnnxSession } from '@engine/onnx/runtime'
import { onnxRuntimeInfo } from '@engine/onnx/info'
import { probeWebGpu } from '@engine/gpu/adapter'
import { seededRandom } from '@shared/random'

const TOL = 1e-4
const DEMO = resolve(__dirname, '../../../resources/models/marsfm-demo.safetensors')
const probe = await probeWebGpu()
if (!probe.available) console.warn(`[webgpu tests skipped] no WebGPU adapter: ${probe.reason} (${probe.hint})`)
const software = probe.available && probe.adapter.software

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)))
  return worst
}

function expectClose(gpu: FloatTensor, cpu: FloatTensor, what: string): void {
  expect(gpu.shape, what).toEqual(cpu.shape)
  expect(maxRelDiff(gpu.data, cpu.data), `${what}: max |webgpu − cpu| / max(1, |cpu|)`).toBeLessThanOrEqual(TOL)
}

describe('ONNX Runtime execution providers', () => {
  it('lists WebGPU where the binding bundles it, and onnx-info reports it', () => {
    const eps = listExecutionProviders()
    const bundled = eps.backends.some((b) => b.name === 'webgpu' && b.bundled)
    expect(eps.webgpu.supported).toBe(bundled)
    const info = onnxRuntimeInfo()
    expect(info.executionProviders[0]).toBe('cpu')
    expect(info.executionProviders.includes('webgpu')).toBe(bundled)
    expect(info.webgpu).toBe(bundled)
    // onnxruntime-node 1.30 bundles it on Linux x64 (the platform the workstation is tested on).
    if (process.platform === 'linux' && process.arch === 'x64') expect(bundled).toBe(true)
  })

  it('refuses an unknown device by name', async () => {
    await expect(createSession(new Uint8Array(0), { device: 'metal' as never })).rejects.toThrow(/unknown device "metal"/)
  })
})

describe.skipIf(!probe.available)('WebGPU execution provider (demo model)', () => {
  let cfg: PrithviConfig
  let weights: WeightMap
  const sessions: OnnxSession[] = []
  const open = async (bytes: Uint8Array, device: 'cpu' | 'webgpu' | 'auto') => {
    const s = await createSession(bytes, { device })
    sessions.push(s)
    return s
  }

  beforeAll(async () => {
    const meta = JSON.parse(readFileSync(DEMO.replace(/\.safetensors$/, '.json'), 'utf8')) as { config: unknown }
    cfg = { ...PrithviConfigSchema.parse(meta.config), num_frames: 1 }
    weights = (await loadCheckpoint(DEMO, { config: cfg })).weights
  })
  afterAll(async () => {
    for (const s of sessions) await s.release()
  })

  it('an explicit webgpu session runs on WebGPU (a software adapter too) and says which adapter', async () => {
    const s = await open(exportPrithviOnnx(cfg, weights, 'encoder'), 'webgpu')
    expect(s.device).toBe('webgpu')
    expect(s.executionProviders).toEqual(['webgpu', 'cpu'])
    expect(s.fallbackReason).toBeUndefined()
    expect(s.adapter).toMatch(/Vulkan|Metal|D3D12/)
    expect(sessionNotes(s)[0]).toMatch(/^ONNX Runtime on WebGPU: /)
  })

  it('puts the graph\'s matrix products on the WebGPU provider (ORT\'s own profile says which provider ran each node)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'marsfm-ort-profile-'))
    try {
      const s = await createSession(exportPrithviOnnx(cfg, weights, 'encoder'), { device: 'webgpu', profileFilePrefix: join(dir, 'encoder') })
      const { in_chans: C, img_size: S } = cfg
      await run(s, { pixels: { data: new Float32Array(C * S * S).fill(0.5), shape: [1, C, 1, S, S] } })
      s.handle.endProfiling()
      await s.release()
      const file = readdirSync(dir).find((f) => f.endsWith('.json'))
      expect(file, 'profile written').toBeDefined()
      const events = JSON.parse(readFileSync(join(dir, file!), 'utf8')) as { cat: string; args?: { op_name?: string; provider?: string } }[]
      const nodes = events.filter((e) => e.cat === 'Node' && e.args?.provider && /MatMul|Gemm/.test(e.args.op_name ?? ''))
      expect(nodes.length).toBeGreaterThan(cfg.depth * 4)
      const off = nodes.filter((e) => e.args!.provider !== 'WebGpuExecutionProvider').map((e) => `${e.args!.op_name} on ${e.args!.provider}`)
      expect(off).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the MAE graph gives the CPU provider\'s pred, mask and target within 1e-4, batch after batch', async () => {
    const bytes = exportPrithviOnnx(cfg, weights, 'mae', { maskRatio: 0.5 })
    const [gpu, cpu] = [await open(bytes, 'webgpu'), await open(bytes, 'cpu')]
    const { in_chans: C, img_size: S, patch_size: P } = cfg
    const L = (S / P) ** 2
    const rand = seededRandom(7)
    // Two batches of different sizes through the same session: the weights stay uploaded.
    for (const n of [3, 2]) {
      const pixels = Float32Array.from({ length: n * C * S * S }, () => rand() * 4 - 2)
      // A permutation per sample, so argsort has no ties.
      const noise = new Float32Array(n * L)
      for (let i = 0; i < n; i++) {
        const order = Array.from({ length: L }, (_, k) => k).sort(() => rand() - 0.5)
        order.forEach((v, k) => (noise[i * L + k] = v / L))
      }
      const feeds = { pixels: { data: pixels, shape: [n, C, 1, S, S] }, noise: { data: noise, shape: [n, L] } }
      const [g, c] = [await run(gpu, feeds, ['pred', 'mask', 'target']), await run(cpu, feeds, ['pred', 'mask', 'target'])]
      expect(Array.from(g.mask!.data)).toEqual(Array.from(c.mask!.data))
      expect(c.mask!.data.reduce((a, b) => a + b, 0)).toBe(n * L * 0.5)
      expectClose(g.pred!, c.pred!, `pred (batch ${n})`)
      expectClose(g.target!, c.target!, `target (batch ${n})`)
    }
  })

  it('the classifier graph gives the CPU provider\'s logits within 1e-4', async () => {
    const rand = seededRandom(11)
    const head: WeightMap = new Map([
      ['classifier.weight', { shape: [3, cfg.embed_dim], data: Float32Array.from({ length: 3 * cfg.embed_dim }, () => rand() * 0.2 - 0.1) }],
      ['classifier.bias', { shape: [3], data: Float32Array.from([0.1, -0.2, 0.05]) }]
    ])
    const bytes = exportPrithviOnnx(cfg, new Map([...weights, ...head]), 'classifier')
    const [gpu, cpu] = [await open(bytes, 'webgpu'), await open(bytes, 'cpu')]
    const { in_chans: C, img_size: S } = cfg
    const pixels = Float32Array.from({ length: 4 * C * S * S }, () => rand() * 4 - 2)
    const feeds = { pixels: { data: pixels, shape: [4, C, 1, S, S] } }
    const [g, c] = [await run(gpu, feeds, ['logits']), await run(cpu, feeds, ['logits'])]
    expect(c.logits!.shape).toEqual([4, 3])
    expectClose(g.logits!, c.logits!, 'logits')
  })

  it.runIf(probe.available && probe.adapter.features.shaderF16)('an fp16 classifier graph (float16 weights and arithmetic) gives the fp32 logits within 1e-2 relative', async () => {
    const rand = seededRandom(13)
    const head: WeightMap = new Map([
      ['classifier.weight', { shape: [2, cfg.embed_dim], data: Float32Array.from({ length: 2 * cfg.embed_dim }, () => rand() * 0.2 - 0.1) }],
      ['classifier.bias', { shape: [2], data: Float32Array.from([0.1, -0.2]) }]
    ])
    const all = new Map([...weights, ...head])
    const fp32 = exportPrithviOnnx(cfg, all, 'classifier')
    const fp16 = exportPrithviOnnx(cfg, all, 'classifier', { precision: 'fp16' })
    // Half the weight bytes.
    expect(fp16.length).toBeLessThan(fp32.length * 0.55)
    const [half, full] = [await open(fp16, 'webgpu'), await open(fp32, 'cpu')]
    const { in_chans: C, img_size: S } = cfg
    const pixels = Float32Array.from({ length: 4 * C * S * S }, () => rand() * 4 - 2)
    const feeds = { pixels: { data: pixels, shape: [4, C, 1, S, S] } }
    const [h, f] = [await run(half, feeds, ['logits']), await run(full, feeds, ['logits'])]
    expect(h.logits!.shape).toEqual([4, 2])
    expect(maxRelDiff(h.logits!.data, f.logits!.data)).toBeLessThanOrEqual(1e-2)
    // …and fp16 really is coarser than fp32 (the comparison can tell them apart).
    expect(maxRelDiff(h.logits!.data, f.logits!.data)).toBeGreaterThan(1e-6)
  })

  it('keepWarm parks a released GPU session for the next job on the same file, and only while the file is unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'marsfm-warm-'))
    try {
      const file = join(dir, 'encoder.onnx')
      writeFileSync(file, exportPrithviOnnx(cfg, weights, 'encoder'))
      const first = await createSession(file, { device: 'webgpu', keepWarm: true })
      expect(first.reused).toBe(false)
      await first.release()
      const second = await createSession(file, { device: 'webgpu', keepWarm: true })
      expect(second.reused).toBe(true)
      expect(second.handle).toBe(first.handle) // the same ORT session: weights and shaders still on the GPU
      expect(sessionNotes(second)[0]).toMatch(/kept from the previous job/)
      // While it is checked out, a second job gets its own session.
      const parallel = await createSession(file, { device: 'webgpu', keepWarm: true })
      expect(parallel.handle).not.toBe(second.handle)
      await parallel.release()
      await second.release()
      // Another device, or a rewritten file, is another session.
      const cpu = await createSession(file, { device: 'cpu', keepWarm: true })
      expect(cpu.reused).toBeUndefined()
      await cpu.release()
      utimesSync(file, new Date(), new Date(Date.now() + 5000))
      const rewritten = await createSession(file, { device: 'webgpu', keepWarm: true })
      expect(rewritten.reused).toBe(false)
      const { in_chans: C, img_size: S } = cfg
      const out = await run(rewritten, { pixels: { data: new Float32Array(C * S * S).fill(0.25), shape: [1, C, 1, S, S] } })
      expect(out.features!.shape).toEqual([1, (S / cfg.patch_size) ** 2 + 1, cfg.embed_dim])
      await rewritten.release()
      expect(await releaseParkedSessions()).toBe(2) // the old file's session and the rewritten one's
      expect(await releaseParkedSessions()).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses an fp16 MAE graph by name', () => {
    expect(() => exportPrithviOnnx(cfg, weights, 'mae', { precision: 'fp16' })).toThrow(/MAE graph's masking and loss stay fp32/)
  })

  it.runIf(software && !listExecutionProviders().cuda.installed)("'auto' with only a software adapter stays on the CPU and says why", async () => {
    const s = await open(exportPrithviOnnx(cfg, weights, 'encoder'), 'auto')
    expect(s.device).toBe('cpu')
    expect(s.executionProviders).toEqual(['cpu'])
    expect(s.fallbackReason).toMatch(/only WebGPU adapter is a software rasteriser \(.+\)/)
    expect(s.fallbackReason).toMatch(/--device webgpu uses it anyway/)
    expect(sessionNotes(s)[0]).toMatch(/^ONNX Runtime on CPU: .*software rasteriser/)
  })
})

describe.runIf(!probe.available)('WebGPU unavailable', () => {
  it('an explicit webgpu session fails with the reason and what to do', async () => {
    const bytes = new Uint8Array(0)
    await expect(createSession(bytes, { device: 'webgpu' })).rejects.toThrow(/device 'webgpu' unavailable: /)
  })
})

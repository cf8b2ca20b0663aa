// Where the fixed per-op cost of tfjs-backend-webgpu goes, and what the fused kernels
// (src/engine/tf/webgpu-kernels.ts) save. CPU-side numbers only: each op is issued and timed without
// a readback; GPU work is drained once per measurement (await data()).
//
//   XDG_RUNTIME_DIR=/tmp/xdg npx vite-node --config vitest.config.ts bench/webgpu-overhead.ts -- [--n 400] [--iters 5] [--batch 2] [--full-topology]
//
// 1. Chains of N tiny ops (add [8,8], matMul [8,8]x[8,8], LayerNorm [8,32] unfused vs fused): µs of
//    CPU per op, split into tfjs-core (engine: kernel lookup, tape, scopes, tensor bookkeeping) and
//    the backend's runWebGPUProgram, of which: uniforms (makeUniforms: an ArrayBuffer, a pooled
//    uniform buffer, queue.writeBuffer), createBindGroup, the pass encoding, submits.
// Dispatches are counted as bind groups created (one per dispatch, also for the fused Adam, which
// records its dispatch without runWebGPUProgram).
// 2. A tiny ViT (prithviTiny; with --full-topology Prithvi-100M's depth / heads at tiny width, so
//    the op count is the real model's): dispatches and tfjs kernels per forward, forward+backward and
//    a whole MAE step and a classification step (masked encoder 0.375 -> CLS -> linear -> BCE -> AdamW),
//    fused kernels off and on, with wall time per phase on this adapter.
// Numbers depend on the adapter; on lavapipe (software Vulkan) the GPU side is slow, so compare the
// CPU-side columns, not the wall times, with a hardware GPU.
import { performance } from 'node:perf_hooks'
import type { Scalar, Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core'
import { prithvi100m, prithviTiny, type PrithviConfig } from '@engine/model/config'
import { layerNorm, linear } from '@engine/model/ops'
import { randomWeights } from '@engine/model/params'
import { PrithviMAE } from '@engine/model/prithvi'
import { loadTf, type Tf } from '@engine/tf/backend'
import { setFusedWebGpuKernels } from '@engine/tf/webgpu-kernels'
import { bceWithLogits } from '@engine/training/losses'
import { AdamOptimizer } from '@engine/training/optimizer'
import { OptimizerConfig } from '@shared/ipc/schemas/runs'

const argv = process.argv.slice(2)
const num = (name: string, d: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d)
const N = num('--n', 400)
const ITERS = num('--iters', 5)
const BATCH = num('--batch', 2)
const FULL = argv.includes('--full-topology')

const { tf, device } = await loadTf({ prefer: 'webgpu' })
console.log(`adapter: ${device}; tfjs ${tf.version_core}`)

// ---- instrumentation: wrap the backend's hot methods with counters and CPU timers ----------------
interface Meter {
  calls: number
  ms: number
}
const meters: Record<string, Meter> = {}
let kernels = 0
function wrap(obj: Record<string, unknown>, method: string, label: string): void {
  const orig = obj[method] as (...a: unknown[]) => unknown
  const m: Meter = (meters[label] = { calls: 0, ms: 0 })
  obj[method] = function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now()
    try {
      return orig.apply(this, a)
    } finally {
      m.calls++
      m.ms += performance.now() - t0
    }
  }
}
const backend = tf.backend() as unknown as Record<string, unknown> & { device: Record<string, unknown>; queue: Record<string, unknown>; bufferManager: Record<string, unknown>; pipelineCache: Record<string, unknown> }
// Which programs run (a histogram by program class and the start of its shader key).
let programs = new Map<string, number>()
{
  const orig = backend.runWebGPUProgram as (...a: unknown[]) => unknown
  backend.runWebGPUProgram = function (this: unknown, ...a: unknown[]) {
    const p = a[0] as { constructor: { name: string }; shaderKey: string }
    const key = `${p.constructor.name === 'Object' ? '' : p.constructor.name + ' '}${String(p.shaderKey).split('_').slice(0, 2).join('_').slice(0, 28)}`
    programs.set(key, (programs.get(key) ?? 0) + 1)
    return orig.apply(this, a)
  }
}
wrap(backend, 'runWebGPUProgram', 'runWebGPUProgram')
wrap(backend, 'makeUniforms', 'makeUniforms')
wrap(backend, 'submitQueue', 'submitQueue')
wrap(backend, 'uploadToGPU', 'uploadToGPU')
wrap(backend.device, 'createBindGroup', 'createBindGroup')
wrap(backend.device, 'createBuffer', 'createBuffer')
wrap(backend.queue, 'writeBuffer', 'writeBuffer')
const engine = tf.engine() as unknown as Record<string, unknown>
const origRunKernel = engine.runKernel as (...a: unknown[]) => unknown
engine.runKernel = function (this: unknown, ...a: unknown[]) {
  kernels++
  return origRunKernel.apply(this, a)
}
function reset(): void {
  for (const m of Object.values(meters)) m.calls = m.ms = 0
  kernels = 0
  programs = new Map()
}
const snap = () => ({ kernels, ...Object.fromEntries(Object.entries(meters).map(([k, m]) => [k, { ...m }])) }) as { kernels: number } & Record<string, Meter>

async function drain(t: Tensor | Tensor[]): Promise<void> {
  const list = Array.isArray(t) ? t : [t]
  await Promise.all(list.map((x) => x.data()))
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

// ---- 1. per-op CPU cost on tiny tensors ---------------------------------------------------------
async function chain(label: string, make: () => { step: (x: Tensor) => Tensor; x0: Tensor; keep: Tensor[] }, fused = true): Promise<void> {
  setFusedWebGpuKernels(fused)
  const { step, x0, keep } = make()
  const runOnce = async () => {
    let x = x0
    const issued: Tensor[] = []
    reset()
    const t0 = performance.now()
    for (let i = 0; i < N; i++) {
      const prev = x
      x = tf.tidy(() => step(prev)) // intermediates freed as in a model's tidy
      issued.push(x)
    }
    const issueMs = performance.now() - t0
    const s = snap()
    const t1 = performance.now()
    await drain(x)
    const drainMs = performance.now() - t1
    tf.dispose(issued)
    return { issueMs, drainMs, s }
  }
  await runOnce() // warm-up: pipelines compiled, buffers pooled
  const runs = []
  for (let i = 0; i < ITERS; i++) runs.push(await runOnce())
  const r = runs.sort((a, b) => a.issueMs - b.issueMs)[Math.floor((runs.length - 1) / 2)]!
  const us = (ms: number) => ((ms * 1000) / N).toFixed(1)
  const s = r.s
  const backendMs = s.runWebGPUProgram!.ms
  console.log(
    `${label.padEnd(30)} ${us(r.issueMs).padStart(7)} µs/op CPU  | per op: ${(s.kernels / N).toFixed(1)} kernels, ${(s.createBindGroup!.calls / N).toFixed(1)} dispatches | ` +
      `tfjs-core (+ recordDirect) ${us(r.issueMs - backendMs)} µs, runWebGPUProgram ${us(backendMs)} µs (uniforms ${us(s.makeUniforms!.ms)}, bindGroup ${us(s.createBindGroup!.ms)}, submit ${us(s.submitQueue!.ms)} x${(s.submitQueue!.calls / N).toFixed(2)}, createBuffer x${(s.createBuffer!.calls / N).toFixed(2)}) | drain ${r.drainMs.toFixed(1)} ms`
  )
  tf.dispose([x0, ...keep])
  setFusedWebGpuKernels(true)
}

// Tiny tensors whose values are on the CPU would be computed there (WEBGPU_CPU_FORWARD); measure GPU dispatches.
tf.env().set('WEBGPU_CPU_FORWARD', false)
console.log(`\n1. CPU time per op, chains of ${N} ops on tiny tensors (median of ${ITERS}; no readback while issuing; WEBGPU_CPU_FORWARD off)`)
await chain('add [8,8]', () => {
  const y = tf.ones([8, 8])
  return { step: (x) => tf.add(x, y), x0: tf.zeros([8, 8]), keep: [y] }
})
await chain('matMul [8,8]x[8,8]', () => {
  const w = tf.mul(tf.eye(8), 0.5)
  return { step: (x) => tf.matMul(x as Tensor2D, w as Tensor2D), x0: tf.ones([8, 8]), keep: [w] }
})
await chain('linear [8,8] (matMul + bias)', () => {
  const w = tf.mul(tf.eye(8), 0.5) as Tensor2D
  const b = tf.zeros([8]) as Tensor1D
  return { step: (x) => linear(tf, x, w, b), x0: tf.ones([8, 8]), keep: [w, b] }
})
for (const fused of [false, true]) {
  await chain(`layerNorm [8,32] ${fused ? 'fused' : 'unfused'}`, () => {
    const w = tf.ones([32]) as Tensor1D
    const b = tf.zeros([32]) as Tensor1D
    return { step: (x) => layerNorm(tf, x, w, b, 1e-5), x0: tf.randomNormal([8, 32]), keep: [w, b] }
  }, fused)
}
console.log(`pipelines compiled so far: ${Object.keys(backend.pipelineCache).length}`)
tf.env().set('WEBGPU_CPU_FORWARD', true)

// ---- 2. tiny ViT: dispatches per phase, fused off vs on -------------------------------------------
const cfg: PrithviConfig = FULL
  ? prithvi100m({ img_size: 32, patch_size: 8, embed_dim: 96, decoder_embed_dim: 64 }) // real depth / heads, tiny width
  : prithviTiny()
const L = (cfg.img_size / cfg.patch_size) ** 2
console.log(`\n2. ${FULL ? 'Prithvi-100M topology (depth 12, 12 heads, decoder 8 x 16 heads) at width 96/64' : 'prithviTiny (depth 2, 4 heads, decoder 1 x 2 heads)'}, batch ${BATCH}, ${cfg.img_size}² px, ${L} patches; median of ${ITERS}`)

function rand(n: number, seed: number): Float32Array {
  let s = seed
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296) * 2 - 1)
}

async function vit(task: 'mae' | 'classification', fused: boolean): Promise<void> {
  setFusedWebGpuKernels(fused)
  const model = PrithviMAE.fromWeights(tf, cfg, randomWeights(cfg, 3), { decoder: task === 'mae', seed: 1 })
  const headW = tf.variable(tf.tensor2d(rand(cfg.embed_dim, 4), [cfg.embed_dim, 1]))
  const headB = tf.variable(tf.zeros([1]))
  const params = [...model.parameterSpecs().map((s) => ({ name: s.name, variable: model.variable(s.name) })), ...(task === 'classification' ? [{ name: 'head.weight', variable: headW }, { name: 'head.bias', variable: headB }] : [])]
  const opt = new AdamOptimizer(tf, OptimizerConfig.parse({ name: 'adamw', lr: 1e-4, weightDecay: 0.05 }), params)
  const x = tf.tensor(rand(BATCH * cfg.in_chans * cfg.img_size * cfg.img_size, 5), [BATCH, cfg.in_chans, 1, cfg.img_size, cfg.img_size])
  const labels = tf.tensor2d(Float32Array.from({ length: BATCH }, (_, i) => i % 2), [BATCH, 1])
  const noise = rand(BATCH * L, 6).map((v) => v + 1)
  const loss = (): Scalar => {
    if (task === 'mae') return model.forwardMae(x, 0.75, noise).loss
    const { latent } = model.forwardEncoder(x, 0.375, noise)
    const cls = tf.reshape(tf.slice(latent, [0, 0, 0], [BATCH, 1, cfg.embed_dim]), [BATCH, cfg.embed_dim])
    return bceWithLogits(tf, linear(tf, cls, headW as unknown as Tensor2D, headB as unknown as Tensor1D), labels) // the trainer's loss
  }
  const phases = {
    forward: async () => {
      const l = tf.tidy(loss)
      await drain(l)
      l.dispose()
    },
    'forward+backward': async () => {
      const { value, grads } = tf.variableGrads(loss, params.map((p) => p.variable as Variable))
      await drain([value, ...Object.values(grads)])
      tf.dispose([value, ...Object.values(grads)])
    },
    'step (+AdamW)': async () => {
      const { value, grads } = tf.variableGrads(loss, params.map((p) => p.variable as Variable))
      opt.apply(new Map(params.map((p) => [p.name, grads[p.variable.name]!])), 1e-4)
      await drain([value, ...params.map((p) => p.variable)])
      tf.dispose([value, ...Object.values(grads)])
    }
  }
  for (const [phase, fn] of Object.entries(phases)) {
    await fn() // warm-up
    const runs: { ms: number; s: ReturnType<typeof snap>; programs: Map<string, number> }[] = []
    for (let i = 0; i < ITERS; i++) {
      reset()
      const t0 = performance.now()
      await fn()
      runs.push({ ms: performance.now() - t0, s: snap(), programs })
    }
    const mid = runs.sort((a, b) => a.ms - b.ms)[Math.floor((runs.length - 1) / 2)]!
    const times = [mid.ms]
    const s = mid.s
    if (phase === 'step (+AdamW)' && argv.includes('--programs')) {
      const top = [...mid.programs].sort((a, b) => b[1] - a[1]).slice(0, 14)
      console.log(`   programs per step: ${top.map(([k, c]) => `${k} ${c}`).join(', ')}`)
    }
    console.log(
      `${task.padEnd(14)} ${(fused ? 'fused' : 'unfused').padEnd(8)} ${phase.padEnd(17)} ${String(s.createBindGroup!.calls).padStart(5)} dispatches (${String(s.createBindGroup!.calls - s.runWebGPUProgram!.calls).padStart(3)} recorded directly) ${String(s.kernels).padStart(5)} tfjs kernels  ${median(times).toFixed(0).padStart(6)} ms wall  (runWebGPUProgram CPU ${s.runWebGPUProgram!.ms.toFixed(0)} ms)`
    )
  }
  opt.dispose()
  model.dispose()
  tf.dispose([x, labels, headW, headB])
  setFusedWebGpuKernels(true)
}
for (const task of ['mae', 'classification'] as const) for (const fused of [false, true]) await vit(task, fused)
process.exit(0)

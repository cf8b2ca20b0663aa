// Benchmark (issue #10 item 4): Prithvi encoder inference images/s on ONNX Runtime's WebGPU
// execution provider vs its CPU provider vs PyTorch (CPU) on the same machine, in one command,
// with random weights. `--size 100m` (default) is Prithvi-100M at 224² (12 blocks, 768 wide);
// `--tiny` / `--size demo` is the shipped demo model's shape (64², 4 blocks, 128 wide), which a
// software adapter (Mesa lavapipe, ~4 GFLOP/s) finishes in seconds.
//
//   npm run bench:ort-webgpu -- [--size 100m|demo | --tiny] [--batch 4] [--iters 3] [--threads 2] [--no-torch] [--no-fp16]
//
// Each engine runs one warm-up batch (shader compilation, weight upload), then the median of
// --iters timed batches; features are read back to the host every batch, as an inference job does.
// Prints images/s, the ratios and the largest |WebGPU − CPU| feature difference as a sanity check.
// Where the adapter has shader-f16, the fp16 encoder graph (float16 weights and arithmetic) runs too.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { numPatches, prithvi100m, type PrithviConfig } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { createSession, run, type OnnxSession } from '@engine/onnx/runtime'
import { adapterLabel, probeWebGpu } from '@engine/gpu/adapter'

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(name)
const opt = (name: string, d: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : d)
const SIZE = flag('--tiny') ? 'demo' : opt('--size', '100m')
const BATCH = Number(opt('--batch', '4'))
const ITERS = Number(opt('--iters', '3'))
const THREADS = Number(opt('--threads', '2'))
const PYTHON = '/usr/bin/python3'
const ROOT = process.cwd()

if (SIZE !== '100m' && SIZE !== 'demo') throw new Error(`--size must be 100m or demo (got "${SIZE}")`)
for (const [name, v] of [['--batch', BATCH], ['--iters', ITERS], ['--threads', THREADS]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`)
}

function config(): PrithviConfig {
  const base = prithvi100m()
  return SIZE === '100m' ? base : { ...base, img_size: 64, embed_dim: 128, depth: 4, num_heads: 4, decoder_embed_dim: 64, decoder_depth: 2, decoder_num_heads: 4 }
}

function seededUniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    out[i] = (s / 2 ** 32) * 2 - 1
  }
  return out
}

async function measure(session: OnnxSession, pixels: Float32Array, shape: number[]): Promise<{ imagesPerSecond: number; features: Float32Array; warmupSeconds: number }> {
  const feeds = { pixels: { data: pixels, shape } }
  const w0 = performance.now()
  let features = (await run(session, feeds, ['features'])).features!.data
  const warmupSeconds = (performance.now() - w0) / 1000
  const times: number[] = []
  for (let i = 0; i < ITERS; i++) {
    const t0 = performance.now()
    features = (await run(session, feeds, ['features'])).features!.data
    times.push((performance.now() - t0) / 1000)
  }
  times.sort((a, b) => a - b)
  return { imagesPerSecond: BATCH / times[Math.floor(times.length / 2)]!, features, warmupSeconds }
}

function torch(): { imagesPerSecond: number; torch: string } | string {
  if (flag('--no-torch')) return 'skipped (--no-torch)'
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) return 'skipped (needs python3 with torch)'
  const env = { ...process.env, OMP_NUM_THREADS: String(THREADS), MKL_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS) }
  const r = spawnSync(PYTHON, [join(ROOT, 'bench', 'torch_prithvi.py'), 'encoder-forward', '--size', SIZE, '--threads', String(THREADS), '--iters', String(ITERS), '--batch', String(BATCH)], { encoding: 'utf8', env, maxBuffer: 1 << 20 })
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').pop()}`
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { imagesPerSecond: number; torch: string }
}

async function main(): Promise<void> {
  const cfg = config()
  const S = cfg.img_size
  console.log(`Prithvi encoder inference (${SIZE === '100m' ? 'Prithvi-100M' : 'demo-model'} size: ${S}², ${cfg.depth} blocks × ${cfg.embed_dim}, ${numPatches(cfg) + 1} tokens), batch ${BATCH}, median of ${ITERS} after a warm-up`)
  const weights = randomWeights(cfg, 1, { decoder: false })
  const graph = exportPrithviOnnx(cfg, weights, 'encoder')
  const pixels = seededUniform(BATCH * cfg.in_chans * S * S, 7)
  const shape = [BATCH, cfg.in_chans, 1, S, S]
  const rows: { engine: string; imagesPerSecond: number }[] = []

  const cpuSession = await createSession(graph, { device: 'cpu', intraOpThreads: THREADS })
  const cpu = await measure(cpuSession, pixels, shape)
  await cpuSession.release()
  rows.push({ engine: `ORT CPU EP (${THREADS} threads)`, imagesPerSecond: cpu.imagesPerSecond })

  let gpu: Awaited<ReturnType<typeof measure>> | null = null
  let fp16: Awaited<ReturnType<typeof measure>> | null = null
  const probe = await probeWebGpu()
  if (!probe.available) console.log(`ORT WebGPU: skipped (${probe.reason}; ${probe.hint})`)
  else {
    const session = await createSession(graph, { device: 'webgpu', intraOpThreads: THREADS })
    gpu = await measure(session, pixels, shape)
    await session.release()
    rows.push({ engine: `ORT WebGPU EP (${adapterLabel(probe.adapter)})`, imagesPerSecond: gpu.imagesPerSecond })
    console.log(`ORT WebGPU first batch (shader compilation, weight upload): ${gpu.warmupSeconds.toFixed(2)} s`)
    if (flag('--no-fp16')) console.log('ORT WebGPU fp16: skipped (--no-fp16)')
    else if (!probe.adapter.features.shaderF16) console.log('ORT WebGPU fp16: skipped (the adapter lacks shader-f16)')
    else {
      const half = await createSession(exportPrithviOnnx(cfg, weights, 'encoder', { precision: 'fp16' }), { device: 'webgpu', intraOpThreads: THREADS })
      fp16 = await measure(half, pixels, shape)
      await half.release()
      rows.push({ engine: 'ORT WebGPU EP, fp16 graph', imagesPerSecond: fp16.imagesPerSecond })
    }
  }

  const t = torch()
  if (typeof t === 'string') console.log(`PyTorch: ${t}`)
  else rows.push({ engine: `PyTorch ${t.torch} (CPU, ${THREADS} threads)`, imagesPerSecond: t.imagesPerSecond })
  const torchRate = typeof t === 'string' ? null : t.imagesPerSecond

  const w = Math.max(...rows.map((r) => r.engine.length))
  console.log(`\n${'engine'.padEnd(w)} ${'images/s'.padStart(9)}   vs ORT CPU   vs PyTorch`)
  for (const r of rows) {
    const vsTorch = torchRate ? `${(r.imagesPerSecond / torchRate).toFixed(2)}×` : '—'
    console.log(`${r.engine.padEnd(w)} ${r.imagesPerSecond.toFixed(3).padStart(9)}   ${`${(r.imagesPerSecond / cpu.imagesPerSecond).toFixed(2)}×`.padEnd(11)}  ${vsTorch}`)
  }
  if (gpu) {
    let worst = 0
    for (let i = 0; i < cpu.features.length; i++) worst = Math.max(worst, Math.abs(gpu.features[i]! - cpu.features[i]!))
    console.log(`\nlargest |WebGPU − CPU| over the encoder features: ${worst.toExponential(2)}`)
  }
  if (fp16) {
    let worst = 0
    let scale = 0
    for (let i = 0; i < cpu.features.length; i++) {
      worst = Math.max(worst, Math.abs(fp16.features[i]! - cpu.features[i]!))
      scale = Math.max(scale, Math.abs(cpu.features[i]!))
    }
    console.log(`largest |WebGPU fp16 − CPU fp32| over the encoder features: ${worst.toExponential(2)} (features up to ${scale.toFixed(2)})`)
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})

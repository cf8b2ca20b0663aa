// Benchmark (issue: Prithvi-100M in TypeScript): MAE forward images/s for a Prithvi-100M-size
// model with random weights, 224² input, mask ratio 0.5, on ONNX Runtime and each TensorFlow.js
// backend present, against PyTorch on the same machine in the same command; then load time and
// peak RSS for a ~450 MB torch.save checkpoint, against torch.load.
//
//   npm run bench:model -- [--iters 3] [--batch 1] [--with-cpu] [--no-torch] [--no-load] [--allow-software]
//
// WebGPU runs first where Dawn finds a hardware adapter (a software one, lavapipe, only with
// --allow-software); PyTorch then runs on CUDA (fp32, TF32 off) when a GPU is present.
//
// Thread counts: ONNX Runtime and PyTorch use 2 intra-op threads; tfjs-wasm is single-threaded
// in Node (no SharedArrayBuffer worker pool there), tfjs-cpu is plain JavaScript.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { prithvi100m, numPatches } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { PrithviMAE } from '@engine/model/prithvi'
import { loadTf } from '@engine/tf/backend'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { createSession, run } from '@engine/onnx/runtime'

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(name)
const num = (name: string, d: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d)
const ITERS = num('--iters', 3)
const BATCH = num('--batch', 1)
const MASK = 0.5
const PYTHON = '/usr/bin/python3'
// npm runs scripts from the project root.
const ROOT = process.cwd()

interface Row {
  engine: string
  imagesPerSecond: number
  note: string
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function seededNoise(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    out[i] = s / 2 ** 32
  }
  return out
}

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  await fn() // warm-up
  const times: number[] = []
  for (let i = 0; i < ITERS; i++) {
    const t0 = performance.now()
    await fn()
    times.push((performance.now() - t0) / 1000)
  }
  return median(times)
}

function torchAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0
}

function python(args: string[]): Record<string, number> {
  const r = spawnSync(PYTHON, [join(ROOT, 'bench', 'torch_prithvi.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`PyTorch baseline failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

async function main(): Promise<void> {
  const cfg = prithvi100m()
  const L = numPatches(cfg)
  console.log(`Prithvi-100M MAE forward: batch ${BATCH}, 224², mask ratio ${MASK}, median of ${ITERS} after a warm-up`)
  const t0 = performance.now()
  const weights = randomWeights(cfg, 1, { decoder: true })
  console.log(`random weights generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const pixels = seededNoise(BATCH * 6 * 224 * 224, 7).map((v) => v * 2 - 1)
  const noise = seededNoise(BATCH * L, 11)
  const rows: Row[] = []

  // ONNX Runtime: the fast path for inference.
  {
    const session = await createSession(exportPrithviOnnx(cfg, weights, 'mae', { maskRatio: MASK }), { device: 'cpu', intraOpThreads: 2 })
    const seconds = await timeIt(async () => {
      await run(session, { pixels: { data: pixels, shape: [BATCH, 6, 1, 224, 224] }, noise: { data: noise, shape: [BATCH, L] } })
    })
    await session.release()
    rows.push({ engine: 'onnxruntime-node (cpu EP, 2 threads)', imagesPerSecond: BATCH / seconds, note: '' })
  }

  // TensorFlow.js backends present here (WebGPU on an adapter; tfjs-node / tfjs-node-gpu where installed).
  const backends: ('webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu')[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm']
  if (flag('--with-cpu')) backends.push('cpu')
  for (const backend of backends) {
    let loaded
    try {
      loaded = await loadTf({ prefer: backend })
    } catch (err) {
      console.log(`tfjs ${backend}: skipped (${(err as Error).message.split('\n')[0]})`)
      continue
    }
    if (loaded.gpu?.software && !flag('--allow-software')) {
      console.log(`tfjs webgpu: skipped (${loaded.device} is a software adapter; --allow-software runs it)`)
      continue
    }
    const { tf } = loaded
    const model = PrithviMAE.fromWeights(tf, cfg, weights, { decoder: true })
    const x = tf.tensor(pixels, [BATCH, 6, 1, 224, 224])
    const seconds = await timeIt(async () => {
      // Read back (data(), as WebGPU needs in Node) so the GPU's time counts.
      const loss = tf.tidy(() => model.forwardMae(x, MASK, noise).loss)
      await loss.data()
      loss.dispose()
    })
    x.dispose()
    model.dispose()
    rows.push({ engine: `tfjs ${loaded.backend} (${loaded.device})`, imagesPerSecond: BATCH / seconds, note: '' })
  }
  if (!flag('--with-cpu')) console.log('tfjs cpu: skipped (plain JavaScript, ~0.7 GFLOP/s: about a minute per image; --with-cpu runs it)')

  let torchRate: number | null = null
  if (!flag('--no-torch') && torchAvailable()) {
    const r = python(['mae-forward', '--threads', '2', '--iters', String(ITERS), '--batch', String(BATCH), '--mask-ratio', String(MASK)])
    torchRate = r.imagesPerSecond!
    rows.push({ engine: `PyTorch ${String(r.torch ?? '')} (${String(r.device ?? 'CPU, 2 threads')})`, imagesPerSecond: torchRate, note: 'baseline' })
  } else {
    console.log('PyTorch: skipped (needs Debian python3-torch; install libopenblas0-pthread too, or torch falls back to a slow reference BLAS)')
  }

  console.log('\nengine                                         images/s   vs PyTorch')
  for (const r of rows) {
    const ratio = torchRate ? `${(r.imagesPerSecond / torchRate).toFixed(2)}×` : '—'
    console.log(`${r.engine.padEnd(46)} ${r.imagesPerSecond.toFixed(3).padStart(8)}   ${ratio}`)
  }

  if (!flag('--no-load') && torchAvailable()) await loadBenchmark()
}

/** Load time and peak RSS of our .pt reader vs torch.load, each in a fresh process. */
async function loadBenchmark(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'marsfm-bench-'))
  try {
    const pt = join(dir, 'Prithvi_100M_random.pt')
    const saved = python(['save', pt])
    const mb = (saved.bytes! / 2 ** 20).toFixed(0)
    const torchLoad = python(['load', pt])
    const reader = join(ROOT, 'bench', 'load-checkpoint.ts')
    const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'vite-node'), ['--config', join(ROOT, 'vitest.config.ts'), reader, pt], {
      encoding: 'utf8',
      cwd: ROOT
    })
    if (r.status !== 0) throw new Error(`reader failed: ${r.stderr}`)
    const ours = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; peakRssBytes: number; weightBytes: number; baselineRssBytes: number }
    const gib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`
    console.log(`\nloading a ${mb} MiB torch.save checkpoint (Prithvi-100M shape, float32), fresh process each`)
    console.log(`marsfm loadCheckpoint   ${ours.seconds.toFixed(2)} s   peak RSS ${gib(ours.peakRssBytes)} (${(ours.peakRssBytes / ours.weightBytes).toFixed(2)}× the weights; process baseline ${gib(ours.baselineRssBytes)})`)
    console.log(`torch.load              ${torchLoad.seconds!.toFixed(2)} s   peak RSS ${gib(torchLoad.peakRssBytes!)}`)
    console.log(`ratio (torch.load time / ours): ${(torchLoad.seconds! / ours.seconds).toFixed(2)}×`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

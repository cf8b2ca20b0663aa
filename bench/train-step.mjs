#!/usr/bin/env node
// Training-step throughput of the full Prithvi-100M encoder (classification step: masked encoder
// 0.375 -> CLS -> dropout -> linear -> BCE -> Adam), batch 4, 224x224, on every TensorFlow.js
// backend present, against PyTorch on the same machine (Debian's /usr/bin/python3: CUDA fp32 when a
// GPU is present, else the CPU with 2 threads), with the peak RSS of each. Each backend runs in its
// own fresh engine process (out/main/engine.js). WebGPU rows add forward vs forward + backward time,
// kernels per step, CPU time per dispatched kernel and the peak GPU bytes; a software adapter
// (lavapipe) is skipped unless --allow-software (use --preset prithvi-tiny there: 32 px, 2 blocks).
//   node bench/train-step.mjs [--steps 3] [--warmup 1] [--rounds 2] [--batch 4] [--backends webgpu,node-gpu,node,wasm,cpu]
//                             [--with-cpu] [--micro N] [--preset prithvi-100m|prithvi-tiny] [--img 224] [--allow-software]
//                             [--freeze 0,6,10,12] [--depth N]
// Both sides time steps after warm-up ones, and the engines run in interleaved rounds (each tfjs
// backend, then PyTorch, again per round) so a machine busy in one stretch does not skew the ratio;
// the median round per engine is reported. On wasm the whole batch runs as one step (--micro N
// accumulates gradients over chunks of N instead); its peak wasm heap is printed (limit 4 GiB).
// The pure-JS cpu backend is skipped unless named (it needs hours for this model).
// Partial fine-tuning: --freeze 0,6,10,12 times the step with the first K encoder blocks frozen and
// run in ONNX Runtime (the engine's 'auto' device: CUDA, a hardware WebGPU adapter, else CPU), on
// each named tfjs backend, and prints each K's speed against K = 0 of the same backend and round
// set (PyTorch is not run in this mode). --depth N overrides the preset's depth (e.g. the tiny
// preset at Prithvi-100M's 12 blocks: --preset prithvi-tiny --depth 12).
import { fork, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const engine = join(root, 'out', 'main', 'engine.js')
const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    backends: { type: 'string' },
    'with-cpu': { type: 'boolean', default: false },
    batch: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    micro: { type: 'string' },
    preset: { type: 'string', default: 'prithvi-100m' },
    img: { type: 'string' },
    'allow-software': { type: 'boolean', default: false },
    freeze: { type: 'string' },
    depth: { type: 'string' }
  }
})
const preset = values.preset
const img = Number(values.img ?? (preset === 'prithvi-100m' ? 224 : 32))
const steps = Number(values.steps)
const warmup = Number(values.warmup)
const batch = Number(values.batch)
const rounds = Math.max(1, Number(values.rounds))
const micro = values.micro ? { microBatch: Number(values.micro) } : {}
const depthOverride = values.depth ? { model: { depth: Number(values.depth) } } : {}
const freezeList = values.freeze ? values.freeze.split(',').map((k) => Number(k.trim())) : null
if (freezeList && freezeList.some((k) => !Number.isInteger(k) || k < 0)) {
  console.error('--freeze takes a comma-separated list of whole numbers of frozen blocks, e.g. 0,6,10,12')
  process.exit(2)
}
if (freezeList && !freezeList.includes(0)) freezeList.unshift(0) // the baseline of every ratio
if (!existsSync(engine)) {
  console.error('out/main/engine.js is missing: run `npm run build` first')
  process.exit(1)
}

function runEngine(backend, extra = {}) {
  return new Promise((resolve) => {
    const child = fork(engine, [], { env: { ...process.env, MARSFM_TF_BACKEND: backend }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const done = (value) => {
      child.kill('SIGKILL')
      resolve(value)
    }
    child.on('message', (m) => {
      if (m.type === 'boot-failed') done({ skipped: m.error.message })
      else if (m.type === 'ready') child.send({ type: 'start-job', jobId: 'bench', kind: 'train-bench', params: { steps, batchSize: batch, warmup, preset, imgSize: img, allowSoftware: values['allow-software'], ...micro, ...depthOverride, ...extra } })
      else if (m.type === 'job-progress') process.stderr.write(`  ${backend}: ${m.message}\n`)
      else if (m.type === 'job-done') done(m.result)
      else if (m.type === 'job-failed') done({ skipped: `failed: ${m.error.message}` })
    })
    child.on('exit', (code) => resolve({ skipped: `engine exited (${code}) ${err.split('\n').slice(-3).join(' ')}` }))
  })
}

function runTorch() {
  const py = spawnSync('/usr/bin/python3', [join(root, 'bench', 'train-step.py')], { env: { ...process.env, BENCH_STEPS: String(steps), BENCH_BATCH: String(batch), BENCH_WARMUP: String(warmup), BENCH_PRESET: preset, BENCH_IMG: String(img) }, encoding: 'utf8' })
  return py.status === 0 ? JSON.parse(py.stdout.trim().split('\n').pop()) : { skipped: `python failed: ${py.stderr.trim().split('\n').pop()}` }
}

/** The round with the median s/step (a skip wins only if every round skipped). */
function median(runs) {
  const ok = runs.filter((r) => !r.skipped).sort((a, b) => a.secondsPerStep - b.secondsPerStep)
  return ok.length ? { ...ok[Math.floor((ok.length - 1) / 2)], rounds: ok.map((r) => r.secondsPerStep) } : runs[0]
}

const requested = values.backends ? values.backends.split(',') : ['webgpu', 'node-gpu', 'node', 'wasm', ...(values['with-cpu'] ? ['cpu'] : [])]
if (freezeList) {
  await freezeBench()
  process.exit(0)
}

/** --freeze: per backend, the step with K frozen blocks (ONNX Runtime) against K = 0, in interleaved rounds. */
async function freezeBench() {
  const runs = new Map()
  for (const b of requested) for (const k of freezeList) runs.set(`${b}|${k}`, [])
  for (let round = 1; round <= rounds; round++) {
    for (const b of requested) {
      if (runs.get(`${b}|0`).some((r) => r.skipped && !r.skipped.startsWith('failed'))) continue
      for (const k of freezeList) {
        console.error(`round ${round}/${rounds}: TensorFlow.js ${b}, ${k} frozen block(s)…`)
        runs.get(`${b}|${k}`).push(await runEngine(b, k > 0 ? { freezeBlocks: k } : {}))
      }
    }
  }
  const depth = values.depth ?? (preset === 'prithvi-100m' ? '12' : 'preset')
  console.log(`${preset} (depth ${depth}) classification training step, batch ${batch}, ${img}x${img}, mask ratio 0.375, ${steps} timed step(s) after ${warmup} warm-up, median of ${rounds} interleaved round(s); frozen blocks run in ONNX Runtime`)
  console.log(`${'backend'.padEnd(14)} ${'frozen K'.padStart(8)} ${'img/s'.padStart(8)} ${'s/step'.padStart(8)} ${'peak RSS'.padStart(10)} ${'vs K=0'.padStart(8)}  frozen part on`)
  const reasons = new Set()
  for (const b of requested) {
    const base = median(runs.get(`${b}|0`))
    for (const k of freezeList) {
      const r = median(runs.get(`${b}|${k}`))
      if (!r || r.skipped) {
        console.log(`${`tfjs ${b}`.padEnd(14)} ${String(k).padStart(8)} skipped: ${r ? r.skipped : 'not run'}`)
        continue
      }
      const ratio = base && !base.skipped ? `${(r.imagesPerSecond / base.imagesPerSecond).toFixed(2)}x` : '–'
      const each = r.rounds && r.rounds.length > 1 ? `  (rounds: ${r.rounds.map((x) => x.toFixed(3)).join(', ')} s/step)` : ''
      // "ONNX Runtime on CPU: <why not a GPU>": the reason is printed once, under the table.
      const note = k > 0 ? (r.frozenPrefix ?? '').replace(/^frozen blocks [^:]*: /, '') : ''
      const where = note ? note.split(': ')[0] : '–'
      if (note.includes(': ')) reasons.add(note)
      console.log(`${`tfjs ${b}`.padEnd(14)} ${String(k).padStart(8)} ${r.imagesPerSecond.toFixed(3).padStart(8)} ${r.secondsPerStep.toFixed(3).padStart(8)} ${mibOf(r.maxRssBytes).padStart(10)} ${ratio.padStart(8)}  ${where}${each}`)
    }
  }
  for (const why of reasons) console.log(`note: ${why}`)
}

function mibOf(b) {
  return b ? `${(b / 2 ** 20).toFixed(0)} MiB` : '–'
}
const TORCH = 'pytorch'
const runs = new Map([...requested.map((b) => [`tfjs ${b}`, []]), [TORCH, []]])
for (let round = 1; round <= rounds; round++) {
  for (const b of requested) {
    // A backend that is not installed is skipped once, not every round.
    if (runs.get(`tfjs ${b}`).some((r) => r.skipped && !r.skipped.startsWith('failed'))) continue
    console.error(`round ${round}/${rounds}: TensorFlow.js ${b}…`)
    runs.get(`tfjs ${b}`).push(await runEngine(b))
  }
  console.error(`round ${round}/${rounds}: PyTorch…`)
  runs.get(TORCH).push(runTorch())
}
const results = [...runs].map(([name, rs]) => ({ name, ...median(rs) }))
if (!requested.includes('cpu')) results.splice(results.length - 1, 0, { name: 'tfjs cpu', skipped: 'skipped by default: the pure-JS backend runs this step in tens of minutes (pass --with-cpu)' })
const torch = results[results.length - 1]
if (!torch.skipped) torch.name = `${torch.backend} (${torch.device})`

const mib = (b) => (b ? `${(b / 2 ** 20).toFixed(0)} MiB` : '–')
console.log(`${preset} classification training step, batch ${batch}, ${img}x${img}, mask ratio 0.375, ${steps} timed step(s) after ${warmup} warm-up, median of ${rounds} interleaved round(s)`)
console.log(`${'backend'.padEnd(26)} ${'img/s'.padStart(8)} ${'s/step'.padStart(8)} ${'peak RSS'.padStart(10)} ${'wasm heap'.padStart(10)} ${'vs PyTorch'.padStart(11)}`)
for (const r of results) {
  if (r.skipped) {
    console.log(`${r.name.padEnd(26)} skipped: ${r.skipped}`)
    continue
  }
  const ratio = torch.imagesPerSecond ? `${(r.imagesPerSecond / torch.imagesPerSecond).toFixed(2)}x` : '–'
  const note = r.microBatch && r.microBatch < batch ? `, gradients accumulated over micro-batches of ${r.microBatch}` : ''
  const each = r.rounds && r.rounds.length > 1 ? `  (rounds: ${r.rounds.map((x) => x.toFixed(2)).join(', ')} s/step)` : ''
  console.log(`${r.name.padEnd(26)} ${r.imagesPerSecond.toFixed(3).padStart(8)} ${r.secondsPerStep.toFixed(2).padStart(8)} ${mib(r.maxRssBytes).padStart(10)} ${mib(r.wasmHeapBytes).padStart(10)} ${ratio.padStart(11)}${r.device ? `  ${r.device}${note}` : ''}${each}`)
}

// Where a step's time goes on WebGPU (and the same split for PyTorch, whose step is the baseline).
const ms = (s) => `${(s * 1000).toFixed(1)} ms`
for (const r of results) {
  const w = r.webgpu
  if (!w) continue
  console.log(`\n${r.name} — ${r.adapter ? `${r.adapter.description || r.adapter.device} (${r.adapter.nativeApi}${r.adapter.software ? ', software' : ''})` : ''}`)
  console.log(`  forward ${ms(w.forwardSeconds)}, forward + backward ${ms(w.forwardBackwardSeconds)} (${(w.forwardBackwardSeconds / w.forwardSeconds).toFixed(1)}x the forward; target <= 3.5x)`)
  console.log(`  kernels: ${w.kernelsForward} forward, ${w.kernelsForwardBackward} forward + backward, ${w.kernelsPerStep} per training step`)
  console.log(`  CPU time per dispatched kernel (enqueue of forward + backward / kernels): ${w.cpuMicrosecondsPerKernel.toFixed(1)} us`)
  console.log(`  peak GPU buffers: ${mib(w.peakGpuBytes)}`)
  if (torch.forwardSeconds) {
    console.log(`  ${torch.name}: forward ${ms(torch.forwardSeconds)}, forward + backward ${ms(torch.forwardBackwardSeconds)}${torch.peakGpuBytes ? `, peak ${mib(torch.peakGpuBytes)}` : ''}`)
    console.log(`  training throughput vs ${torch.backend}: ${(r.imagesPerSecond / torch.imagesPerSecond).toFixed(3)}x (target >= 0.25x PyTorch CUDA fp32 on the same card)`)
  }
}

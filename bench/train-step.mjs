#!/usr/bin/env node
// Training-step throughput of the full Prithvi-100M encoder (classification step: masked encoder
// 0.375 -> CLS -> dropout -> linear -> BCE -> Adam), batch 4, 224x224, on every TensorFlow.js
// backend present, against PyTorch on the CPU (Debian's /usr/bin/python3, 2 threads), with the
// peak RSS of each. Each backend runs in its own fresh engine process (out/main/engine.js).
//   node bench/train-step.mjs [--steps 3] [--warmup 1] [--backends node-gpu,node,wasm,cpu] [--with-cpu]
// On wasm, batch 4 of Prithvi-100M does not fit the 4 GB wasm32 heap: the step accumulates gradients
// over micro-batches of 1, and the heap still ends near its limit (see the report printed).
// The pure-JS cpu backend is skipped unless named (it needs hours for this model).
import { fork, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const engine = join(root, 'out', 'main', 'engine.js')
const { values } = parseArgs({ options: { steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' }, backends: { type: 'string' }, 'with-cpu': { type: 'boolean', default: false }, batch: { type: 'string', default: '4' } } })
const steps = Number(values.steps)
const warmup = Number(values.warmup)
const batch = Number(values.batch)
if (!existsSync(engine)) {
  console.error('out/main/engine.js is missing: run `npm run build` first')
  process.exit(1)
}

function runEngine(backend) {
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
      else if (m.type === 'ready') child.send({ type: 'start-job', jobId: 'bench', kind: 'train-bench', params: { steps, batchSize: batch, warmup } })
      else if (m.type === 'job-progress') process.stderr.write(`  ${backend}: ${m.message}\n`)
      else if (m.type === 'job-done') done(m.result)
      else if (m.type === 'job-failed') done({ skipped: `failed: ${m.error.message}` })
    })
    child.on('exit', (code) => resolve({ skipped: `engine exited (${code}) ${err.split('\n').slice(-3).join(' ')}` }))
  })
}

const requested = values.backends ? values.backends.split(',') : ['node-gpu', 'node', 'wasm', ...(values['with-cpu'] ? ['cpu'] : [])]
const results = []
for (const b of requested) {
  console.error(`TensorFlow.js ${b}…`)
  results.push({ name: `tfjs ${b}`, ...(await runEngine(b)) })
}
if (!requested.includes('cpu')) results.push({ name: 'tfjs cpu', skipped: 'skipped by default: the pure-JS backend runs this step in tens of minutes (pass --with-cpu)' })

console.error('PyTorch (CPU, 2 threads)…')
const py = spawnSync('/usr/bin/python3', [join(root, 'bench', 'train-step.py')], { env: { ...process.env, BENCH_STEPS: String(steps), BENCH_BATCH: String(batch), BENCH_WARMUP: String(warmup) }, encoding: 'utf8' })
const torch = py.status === 0 ? JSON.parse(py.stdout.trim().split('\n').pop()) : { skipped: `python failed: ${py.stderr.trim().split('\n').pop()}` }
results.push({ name: 'pytorch cpu (2 threads)', ...torch })

const mib = (b) => (b ? `${(b / 2 ** 20).toFixed(0)} MiB` : '–')
console.log(`Prithvi-100M classification training step, batch ${batch}, 224x224, mask ratio 0.375, ${steps} timed step(s) after ${warmup} warm-up`)
console.log(`${'backend'.padEnd(26)} ${'img/s'.padStart(8)} ${'s/step'.padStart(8)} ${'peak RSS'.padStart(10)} ${'vs PyTorch'.padStart(11)}`)
for (const r of results) {
  if (r.skipped) {
    console.log(`${r.name.padEnd(26)} skipped: ${r.skipped}`)
    continue
  }
  const ratio = torch.imagesPerSecond ? `${(r.imagesPerSecond / torch.imagesPerSecond).toFixed(2)}x` : '–'
  const note = r.microBatch && r.microBatch < batch ? `, gradients accumulated over micro-batches of ${r.microBatch}` : ''
  console.log(`${r.name.padEnd(26)} ${r.imagesPerSecond.toFixed(3).padStart(8)} ${r.secondsPerStep.toFixed(2).padStart(8)} ${mib(r.maxRssBytes).padStart(10)} ${ratio.padStart(11)}${r.device ? `  ${r.device}${note}` : ''}`)
}

// Benchmark: a reconstruction study of N real HiRISE tiles × 3 methods with a Prithvi-100M-sized
// model (random weights, written to a temp folder, never committed), MarsFM's pipeline (ONNX
// Runtime by default) against the same pipeline in PyTorch on the CPU, in one command:
//
//   node bench/reconstruction.mjs [--tiles 24] [--threads 2] [--batch 8] [--rounds 1] [--backend ort|tfjs] [--keep DIR]
//
// Both sides use the same weights, tiles and masks and the same number of threads; model loading
// (and the one-off ONNX export) is timed separately. With --rounds R the two sides alternate R
// times (so background load hits both alike) and the medians are compared. Prints tiles/s of
// each and the ratio, and the largest loss difference between the two as a sanity check.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    tiles: { type: 'string', default: '24' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    backend: { type: 'string', default: 'ort' },
    keep: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' }
  }
})
const images = resolve(ROOT, '..', 'shared', 'data', 'hirise-rgb')
const out = values.keep ? resolve(values.keep) : mkdtempSync(join(tmpdir(), 'marsfm-bench-recon-'))

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`)
  return r.stdout
}

try {
  const threads = values.threads
  // Keep every BLAS / OpenMP pool to the same thread count on both sides.
  const env = { OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads }
  const rounds = Number(values.rounds)
  const nodeRuns = []
  const torchRuns = []
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`[${round}/${rounds}] MarsFM (${values.backend}), ${values.tiles} tiles × 3 methods, ${threads} thread(s)…\n`)
    run(join(ROOT, 'node_modules/.bin/vite-node'), ['--config', 'vitest.config.ts', 'bench/reconstruction-study.ts', '--', '--out', out, '--tiles', values.tiles, '--threads', threads, '--batch', values.batch, '--backend', values.backend, '--images', images], env)
    nodeRuns.push(JSON.parse(readFileSync(join(out, 'node.json'), 'utf8')))
    process.stderr.write(`[${round}/${rounds}] PyTorch, same tiles, weights and masks…\n`)
    torchRuns.push(JSON.parse(run(values.python, [join(ROOT, 'bench/reconstruction_torch.py'), out, values.tiles, threads, values.batch, images], env).trim().split('\n').pop()))
  }
  const median = (runs, key) => [...runs].sort((a, b) => a[key] - b[key])[Math.floor((runs.length - 1) / 2)]
  const node = median(nodeRuns, 'tilesPerSecond')
  const torch = median(torchRuns, 'tiles_per_second')

  let maxDiff = 0
  const tiles = node.tiles
  for (const r of torch.rows) {
    const n = node.rows.find((x) => x.tile === tiles[r.tile] && x.method === r.method)
    maxDiff = Math.max(maxDiff, Math.abs(n.model_loss - r.model_loss), Math.abs(n.rgb_loss - r.rgb_loss))
  }
  const ratio = node.tilesPerSecond / torch.tiles_per_second
  console.log(`reconstruction study, Prithvi-100M size (random weights), ${values.tiles} tiles × 3 methods, mask ratio 0.5, batch ${values.batch}, ${threads} thread(s)`)
  console.log(`  MarsFM ${node.backend.name} (${node.backend.device}): ${node.tilesPerSecond.toFixed(3)} tiles/s  (${node.seconds.toFixed(1)} s; model load ${node.loadSeconds.toFixed(1)} s, first load incl. ONNX export ${node.warmupLoadSeconds.toFixed(1)} s)`)
  console.log(`  PyTorch ${torch.torch} (CPU):  ${torch.tiles_per_second.toFixed(3)} tiles/s  (${torch.seconds.toFixed(1)} s; model load ${torch.load_seconds.toFixed(1)} s)`)
  console.log(`  ratio MarsFM / PyTorch: ${ratio.toFixed(2)}×${rounds > 1 ? ` (median of ${rounds} alternating rounds; per round: ${nodeRuns.map((n, i) => (n.tilesPerSecond / torchRuns[i].tiles_per_second).toFixed(2)).join(', ')})` : ''}`)
  console.log(`  largest |loss difference| (model and RGB loss, all tiles and methods): ${maxDiff.toExponential(2)}`)
} finally {
  if (!values.keep) rmSync(out, { recursive: true, force: true })
}

// What the GPU model search (bench/demo-search/search.py) needs from the app, as JSON on stdout:
// the held-out observations of bench/demo-model.ts's landmark splits for split seeds 1..N and both
// protocols (edge tiles kept / dropped), so it evaluates on exactly the bench's splits, and the
// "Demo model: crater vs rest" preset's settings, so its replica follows the preset as it is.
//
//   npx vite-node --config vitest.config.ts bench/demo-search/splits.ts -- [--seeds 10] > splits.json
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { landmarkImageFolder } from '../../tests/support/training-data'
import { RUN_PRESETS } from '../../src/shared/training/presets'

const argv = process.argv.slice(2)
const n = argv.includes('--seeds') ? Number(argv[argv.indexOf('--seeds') + 1]) : 10
const seeds: Record<string, { edges: string[]; noEdges: string[] }> = {}
for (let seed = 1; seed <= n; seed++) {
  const valid = (includeEdge: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'marsfm-splits-'))
    try {
      return landmarkImageFolder(dir, { trainPerClass: [1e6, 1e6], validPerClass: [1e6, 1e6], seed, validFraction: 0.3, includeEdge }).observations.valid
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  seeds[seed] = { edges: valid(true), noEdges: valid(false) }
}
const c = RUN_PRESETS.find((p) => p.id === 'demo-classification')!.config
if (c.imgSize !== 128 || c.pool !== 'mean' || c.schedule?.name !== 'cosine' || c.classWeights !== 'balanced' || c.preprocessing?.tileNorm !== 'standardize' || !['uniform', 'linear-probe', undefined].includes(c.headInit))
  throw new Error('the demo preset changed shape: bench/demo-search/search.py replicates 128 px, mean pooling, cosine, balanced weights, per-tile standardisation and a uniform or linear-probe head')
const preset = {
  headInit: c.headInit ?? 'uniform',
  tta: c.tta ?? 'none',
  steps: c.steps, batchSize: c.batchSize, seed: c.seed, maskRatio: c.maskRatio, dropout: c.dropout, lr: c.optimizer!.lr,
  weightDecay: c.optimizer!.weightDecay, warmupSteps: c.schedule!.warmupSteps, evalEvery: c.eval!.everySteps
}
process.stdout.write(JSON.stringify({ preset, seeds }) + '\n')

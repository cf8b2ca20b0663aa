// The held-out observations of bench/demo-model.ts's landmark splits, for split seeds 1..N and both
// protocols (edge tiles kept / dropped), as JSON on stdout, so the GPU model search
// (bench/demo-search/search.py) evaluates on exactly the bench's splits.
//
//   npx vite-node --config vitest.config.ts bench/demo-search/splits.ts -- [--seeds 10] > splits.json
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { landmarkImageFolder } from '../../tests/support/training-data'

const argv = process.argv.slice(2)
const n = argv.includes('--seeds') ? Number(argv[argv.indexOf('--seeds') + 1]) : 10
const out: Record<string, { edges: string[]; noEdges: string[] }> = {}
for (let seed = 1; seed <= n; seed++) {
  const valid = (includeEdge: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'marsfm-splits-'))
    try {
      return landmarkImageFolder(dir, { trainPerClass: [1e6, 1e6], validPerClass: [1e6, 1e6], seed, validFraction: 0.3, includeEdge }).observations.valid
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  out[seed] = { edges: valid(true), noEdges: valid(false) }
}
process.stdout.write(JSON.stringify(out) + '\n')

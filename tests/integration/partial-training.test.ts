// Partial fine-tuning through the built app: `marsfm train --config run.json --freeze-blocks 1`
// runs a tiny classification run in the real engine child (the frozen block in ONNX Runtime, the
// rest in TensorFlow.js), records freezeBlocks with the run in the ledger and says where the frozen
// blocks ran; a K beyond the model's depth is refused at once and records no run.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prithvi100m } from '@engine/model/config'
import { seededRandom } from '@shared/random'
import type { RunConfigInput } from '@shared/ipc/schemas/runs'
import { CLI_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const TINY = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
const home = tempHome('marsfm-partial-')
const data = join(home.dir, 'images')
const runJson = join(home.dir, 'run.json')

function marsfm(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir, ...env }, encoding: 'utf8', timeout: 170_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

beforeAll(async () => {
  requireBuild()
  let seed = 0
  for (const split of ['train', 'valid'])
    for (const [c, bright] of [['a', false], ['b', true]] as const) {
      mkdirSync(join(data, split, c), { recursive: true })
      for (let i = 0; i < 4; i++) {
        const r = seededRandom(seed++)
        const px = Buffer.alloc(40 * 40 * 3)
        for (let k = 0; k < px.length; k++) px[k] = Math.floor(r() * 128) + (bright ? 100 : 0)
        await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(data, split, c, `${i}.png`))
      }
    }
  const config: RunConfigInput = {
    name: 'partial K=1',
    task: 'classification',
    model: { random: TINY },
    data: { kind: 'folder', path: data, layout: 'imagefolder' },
    steps: 4,
    batchSize: 4,
    seed: 3,
    maskRatio: 0.375,
    optimizer: { name: 'adam', lr: 1e-3 },
    eval: { everySteps: 2, maxImages: 0 },
    checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' }
  }
  writeFileSync(runJson, JSON.stringify(config))
})
afterAll(() => home.remove())

describe('marsfm train --freeze-blocks', () => {
  it('K = 1 trains end to end in the engine; freezeBlocks is recorded with the run', () => {
    const r = marsfm(['train', '--config', runJson, '--freeze-blocks', '1'], { MARSFM_VERBOSE: '1' })
    expect(r.code, r.err + r.out).toBe(0)
    expect(r.out).toMatch(/run #1 started .*; first 1 encoder block\(s\) frozen \(ONNX Runtime\)/)
    expect(r.out).toMatch(/step {2}4\/4 {2}loss \d/)
    expect(r.out).toMatch(/run #1 done/)
    const db = new Database(join(home.dir, 'ledger.sqlite'), { readonly: true })
    try {
      const row = db.prepare('SELECT status, config_json FROM runs WHERE id = 1').get() as { status: string; config_json: string }
      expect(row.status).toBe('done')
      expect(JSON.parse(row.config_json).freezeBlocks).toBe(1)
    } finally {
      db.close()
    }
    // The frozen prefix's graph is kept in the data folder's ONNX cache, named by its content.
    expect(readdirSync(join(home.dir, 'onnx-cache')).filter((f) => /^frozen-prefix-k1-[0-9a-f]{32}\.onnx$/.test(f))).toHaveLength(1)
    // The engine's log (echoed with MARSFM_VERBOSE) says the frozen block ran in ONNX Runtime.
    expect(r.err).toMatch(/partial fine-tuning: 1 of 2 encoder blocks frozen/)
    expect(r.err).toMatch(/frozen blocks 0\.\.0: ONNX Runtime on /)
  })

  it('K beyond the depth is refused at once, naming the depth, and no run is recorded', () => {
    const r = marsfm(['train', '--config', runJson, '--freeze-blocks', '3', '--json'])
    expect(r.code).not.toBe(0)
    expect(r.err).toMatch(/freezeBlocks 3 is out of range: this model has 2 encoder blocks \(0\.\.2; 2 trains the head only\)/)
    const bad = marsfm(['train', '--config', runJson, '--freeze-blocks', 'two'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--freeze-blocks takes a whole number/)
    const db = new Database(join(home.dir, 'ledger.sqlite'), { readonly: true })
    try {
      expect((db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n).toBe(1)
    } finally {
      db.close()
    }
  })
})

// `marsfm pretrain` on real HiRISE landmark tiles (symlinked from ../shared/data): a tiny MAE from
// random weights, recorded in the ledger, exported as safetensors + JSON sidecar; a fine-tune from
// the exported file that does not choose a per-tile contrast gets the one it was pre-trained with.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext } from '@main/app/context'
import { startRun } from '@main/runs/start'
import { CLI_ENTRY, ENGINE_ENTRY, requireBuild, SHARED_DATA } from '../support/built'
import { tempHome } from '../support/temp-home'

const home = tempHome('marsfm-pretrain-')
const tiles = join(home.dir, 'tiles')
const out = join(home.dir, 'mars-mae.safetensors')

beforeAll(() => {
  requireBuild()
  const src = join(SHARED_DATA, 'hirise-landmarks-v1', 'map-proj')
  if (!existsSync(src)) throw new Error(`${src} is missing`)
  mkdirSync(tiles)
  for (const f of readdirSync(src).sort().slice(0, 40)) symlinkSync(join(src, f), join(tiles, f))
})
afterAll(() => home.remove())

const cli = (args: string[]) =>
  spawnSync(process.execPath, [CLI_ENTRY, 'pretrain', ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 170_000 })

describe('marsfm pretrain', () => {
  it('pre-trains a tiny MAE on standardised tiles, records the run and writes the model with its sidecar', () => {
    const tiny = ['--img-size', '32', '--patch', '16', '--embed', '32', '--depth', '1', '--heads', '2', '--decoder-embed', '16', '--decoder-depth', '1', '--decoder-heads', '2']
    const r = cli(['--data', tiles, ...tiny, '--steps', '6', '--batch', '4', '--eval-every', '6', '--log-every', '3', '--tile-norm', 'standardize', '--augment', '--name', 'tiny mars mae', '--out', out])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/step\s+6\/6\s+loss \d/)
    expect(r.stdout).toMatch(/run #1 done/)
    expect(r.stdout).toMatch(/wrote .*mars-mae\.safetensors/)
    const meta = JSON.parse(readFileSync(out.replace(/\.safetensors$/, '.json'), 'utf8'))
    expect(meta.config).toMatchObject({ img_size: 32, embed_dim: 32, depth: 1 })
    expect(meta.run.preprocessing.tileNorm).toBe('standardize')
    expect(meta.run.augment).toBe(true)
    expect(meta.trainedSteps).toBe(6)

    const bad = cli(['--data', tiles, '--tile-norm', 'histogram'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/--tile-norm must be none or standardize/)
  })

  it('a fine-tune from the exported model records the per-tile contrast it was pre-trained with', async () => {
    const ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
    try {
      await ctx.engine.whenReady()
      const runs = ctx.runs
      const pre = runs.list().find((r) => r.name === 'tiny mars mae')!
      expect(pre).toMatchObject({ task: 'pretrain', status: 'done' })
      expect((pre.config as { preprocessing: { tileNorm: string } }).preprocessing.tileNorm).toBe('standardize')
      const { runId } = await startRun(ctx, {
        name: 'continued',
        task: 'pretrain',
        model: { path: out },
        data: { kind: 'folder', path: tiles, layout: 'images' },
        steps: 2,
        batchSize: 4,
        maskRatio: 0.75,
        optimizer: { name: 'adamw', lr: 1e-4 },
        eval: { everySteps: 2, maxImages: 8 }
      })
      const run = await runs.waitFor(runId)
      expect(run.status, run.statusReason ?? '').toBe('done')
      expect((run.config as { preprocessing: { tileNorm: string } }).preprocessing.tileNorm).toBe('standardize')
    } finally {
      await ctx.close()
    }
  })
})

// Runs under hostile conditions: `marsfm train` killed with SIGKILL (it and its engine child) in
// the middle of training must leave every step it had announced in the ledger. Before, metrics
// were batched every 500 ms in main, so a kill lost the last steps (all of them on a fast run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { CLI_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { printTally, record } from './harness'

let home: { dir: string; remove(): void }

beforeAll(() => {
  requireBuild()
  home = tempHome('marsfm-hostile-runs-kill-')
})
afterAll(() => {
  home?.remove()
  printTally('runs.test.ts')
})

async function imageFolder(root: string): Promise<void> {
  for (const split of ['train', 'valid']) {
    for (const [c, colour] of [['crater', 200], ['plain', 60]] as const) {
      const dir = join(root, split, c)
      mkdirSync(dir, { recursive: true })
      for (let i = 0; i < 4; i++) {
        await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: colour, g: colour - i * 10, b: 40 + i } } }).png().toFile(join(dir, `${i}.png`))
      }
    }
  }
}

describe('a training run killed with SIGKILL', () => {
  it('keeps every step it announced before the kill', async () => {
    const data = join(home.dir, 'folder')
    await imageFolder(data)
    const config = {
      name: 'killed',
      task: 'classification',
      model: { random: { img_size: 32, patch_size: 8, num_frames: 1, tubelet_size: 1, in_chans: 6, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2, mlp_ratio: 4, norm_pix_loss: false } },
      data: { kind: 'folder', path: data, layout: 'imagefolder' },
      steps: 100_000,
      batchSize: 2,
      optimizer: { name: 'adamw', lr: 1e-4 },
      eval: { everySteps: 1000, maxImages: 0 }
    }
    const cfgPath = join(home.dir, 'run.json')
    writeFileSync(cfgPath, JSON.stringify(config))
    // Its own process group: the kill takes the CLI and its engine child together, as a crash would.
    const child = spawn(process.execPath, [CLI_ENTRY, 'train', '--config', cfgPath, '--json'], { env: { ...process.env, MARSFM_HOME: join(home.dir, 'home') }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let seen = 0
    let runId = 0
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no training steps within 120 s: ${stderr.slice(-500)}`)), 120_000)
      let buf = ''
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString()
        const lines = buf.split('\n')
        buf = lines.pop()!
        for (const line of lines) {
          if (!line.startsWith('{')) continue
          const m = JSON.parse(line) as { runId: number; step: number; metrics: Record<string, number> }
          if (m.metrics['train/loss'] === undefined) continue
          runId = m.runId
          seen = Math.max(seen, m.step)
        }
        // A few steps in, well inside the old 500 ms batch.
        if (seen >= 3) {
          clearTimeout(timer)
          process.kill(-child.pid!, 'SIGKILL')
          resolve()
        }
      })
    })
    expect(await exited).toBe('SIGKILL')
    const db = new Database(join(home.dir, 'home', 'ledger.sqlite'), { readonly: true })
    try {
      const row = db.prepare("SELECT MAX(step) AS s, COUNT(DISTINCT step) AS n FROM metrics WHERE run_id = ? AND name = 'train/loss'").get(runId) as { s: number | null; n: number }
      console.log(`SIGKILL after step ${seen} was announced: the ledger holds train/loss up to step ${row.s ?? 'none'} (${row.n} steps)`)
      expect(row.s ?? 0).toBeGreaterThanOrEqual(seen)
      expect(row.n).toBeGreaterThanOrEqual(seen)
    } finally {
      db.close()
    }
    record('runs', 'SIGKILL during training keeps announced steps', 'handled')
  })
})

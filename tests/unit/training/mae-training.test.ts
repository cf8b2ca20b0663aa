// Training from a facebookresearch-MAE checkpoint (MOMO's layout) in-process on wasm: the
// encoder-only fixture fine-tunes a classifier, the full one continues pre-training with its own
// MAE loss; both feed the family's own input (in_chans planes, 0-1 scale, its mean/std) and say so.
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMaeConfig } from '@engine/checkpoint'
import { loadTf, type Tf } from '@engine/tf/backend'
import { runTraining } from '@engine/training/runner'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { seededRandom } from '@shared/random'
import { ROOT } from '../../support/built'
import { recordingHooks } from '../../support/run-hooks'

const FIX = resolve(ROOT, 'tests/fixtures/mae')
const CFG = parseMaeConfig(readFileSync(join(FIX, 'tiny_mae.json'), 'utf8'))
let tf: Tf
let dir: string

beforeAll(async () => {
  tf = (await loadTf({ prefer: 'wasm' })).tf
  dir = mkdtempSync(join(tmpdir(), 'marsfm-mae-train-'))
  let seed = 0
  for (const split of ['train', 'valid'])
    for (const [c, bright] of [['dark', false], ['bright', true]] as const) {
      mkdirSync(join(dir, 'data', split, c), { recursive: true })
      for (let i = 0; i < (split === 'train' ? 8 : 4); i++) {
        const r = seededRandom(seed++)
        const px = Buffer.alloc(40 * 40) // grey tiles, as MOMO's sensors give
        for (let k = 0; k < px.length; k++) px[k] = Math.floor(r() * 100) + (bright ? 120 : 10)
        await sharp(px, { raw: { width: 40, height: 40, channels: 1 } }).png().toFile(join(dir, 'data', split, c, `${i}.png`))
      }
    }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function train(task: 'classification' | 'pretrain', checkpoint: string, extra: Record<string, unknown> = {}) {
  const { hooks, logs, metrics } = recordingHooks('wasm')
  const config = RunConfig.parse({
    name: 'mae',
    task,
    model: { random: CFG },
    data: { kind: 'folder', path: join(dir, 'data'), layout: 'imagefolder' },
    steps: 6,
    batchSize: 4,
    seed: 1,
    maskRatio: task === 'pretrain' ? 0.75 : 0,
    optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0.01 },
    schedule: { name: 'linear', warmupSteps: 2 },
    eval: { everySteps: 3 },
    ...extra
  })
  const outcome = await runTraining(tf, { runId: 1, runDir: join(dir, `run-${task}`), config, model: { path: checkpoint, config: CFG, stats: PRITHVI_HLS_STATS } }, hooks)
  return { outcome, logs, metrics }
}

describe('training an MAE-family backbone', () => {
  it('fine-tunes a classifier on the encoder-only checkpoint with the native input', async () => {
    const { outcome, logs, metrics } = await train('classification', join(FIX, 'tiny_mae_encoder.pth'))
    expect(outcome.status).toBe('done')
    expect(logs.join('\n')).toContain("preprocessing: the MAE family's own input (0-1 scale, grey replicated to RGB, mean 0.5006/0.5006/0.5006, std 0.1664/0.1664/0.1664)")
    const last = metrics.filter((m) => 'val/accuracy' in m).at(-1)!
    expect(Number.isFinite(last['val/loss'])).toBe(true)
  })

  it('fine-tunes with its first block frozen: the ONNX Runtime prefix takes [N, C, H, W]', async () => {
    const { outcome, logs, metrics } = await train('classification', join(FIX, 'tiny_mae_encoder.pth'), { freezeBlocks: 1 })
    expect(outcome.status).toBe('done')
    expect(logs.join('\n')).toContain('partial fine-tuning: 1 of 2 encoder blocks frozen')
    const last = metrics.filter((m) => 'val/accuracy' in m).at(-1)!
    expect(Number.isFinite(last['val/loss'])).toBe(true)
  })

  it('continues pre-training the full MAE with its own loss', async () => {
    const { outcome, metrics } = await train('pretrain', join(FIX, 'tiny_mae.pth'))
    expect(outcome.status).toBe('done')
    const losses = metrics.map((m) => m['train/loss']).filter((v): v is number => v !== undefined)
    expect(losses.length).toBeGreaterThan(0)
    for (const l of losses) expect(Number.isFinite(l)).toBe(true)
  })
})

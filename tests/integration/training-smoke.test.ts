import { it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadTf } from '@engine/tf/backend'
import { runTraining } from '@engine/training/runner'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { prithvi100m } from '@engine/model/config'
import { landmarkImageFolder } from '../support/training-data'

it('smoke', async () => {
  const { tf } = await loadTf({ prefer: 'wasm' })
  const dir = mkdtempSync(join(tmpdir(), 'lm-'))
  console.log(landmarkImageFolder(join(dir, 'data'), { trainPerClass: 150, validPerClass: 60 }))
  const config = RunConfig.parse({
    name: 'smoke', task: 'classification', model: { demo: true }, data: { kind: 'folder', path: join(dir, 'data'), layout: 'imagefolder' },
    steps: Number(process.env.STEPS ?? 100), batchSize: 8, seed: 1, maskRatio: 0.375, dropout: 0.5,
    optimizer: { name: 'adamw', lr: Number(process.env.LR ?? 1e-3), weightDecay: 0.01 }, schedule: { name: 'cosine', warmupSteps: 10 },
    eval: { everySteps: 50 }
  })
  const cfg = prithvi100m({ img_size: 64, patch_size: 16, embed_dim: 64, depth: 2, num_heads: 4, decoder_embed_dim: 32, decoder_depth: 1, decoder_num_heads: 2 })
  const t0 = Date.now()
  const out = await runTraining(tf, { runId: 1, runDir: join(dir, 'run'), config, model: { config: cfg, stats: PRITHVI_HLS_STATS } }, {
    signal: new AbortController().signal, shouldPause: () => false,
    emit: (e, p) => { const m = (p as any).metrics; if (e === 'metrics' && (m['val/loss'] !== undefined || (p as any).step % 20 === 0)) console.log((p as any).step, JSON.stringify(m), (p as any).imagesPerSecond?.toFixed(1)) },
    progress: () => {}, log: (l, m) => console.log(l, m), backend: 'wasm', device: 'cpu'
  })
  console.log(out, (Date.now() - t0) / 1000, 's', tf.memory().numTensors)
}, 600_000)

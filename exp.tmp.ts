import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadTf } from '@engine/tf/backend'
import { runTraining } from '@engine/training/runner'
import { RunConfig } from '@shared/ipc/schemas/runs'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { landmarkImageFolder } from './tests/support/training-data'
import { readFileSync } from 'node:fs'
const { tf } = await loadTf({ prefer: 'wasm' })
const dir = mkdtempSync(join(tmpdir(), 'lm-'))
landmarkImageFolder(join(dir, 'data'), { trainPerClass: 150, validPerClass: 60 })
const demo = JSON.parse(readFileSync('resources/models/marsfm-demo.json', 'utf8'))
for (const v of JSON.parse(process.argv[2]!)) {
  const config = RunConfig.parse({
    name: 'x', task: 'classification', model: { demo: true }, data: { kind: 'folder', path: join(dir, 'data'), layout: 'imagefolder' },
    imgSize: 64, steps: 240, batchSize: 8, seed: 7, maskRatio: 0.375, dropout: 0.5, gradClip: 1,
    optimizer: { name: 'adamw', lr: 3e-4, weightDecay: 0.05 }, schedule: { name: 'cosine', warmupSteps: 20 }, eval: { everySteps: 60 }, ...v
  })
  const t0 = Date.now()
  const out: string[] = []
  try {
  await runTraining(tf, { runId: 1, runDir: join(dir, 'run'), config, model: { path: v.random ? undefined : 'resources/models/marsfm-demo.safetensors', config: demo.config, stats: PRITHVI_HLS_STATS } }, {
    signal: new AbortController().signal, shouldPause: () => false,
    emit: (e, p: any) => { if (e === 'metrics' && p.metrics['val/accuracy'] !== undefined) out.push(`${p.step}:${p.metrics['val/accuracy'].toFixed(3)}/${p.metrics['val/loss'].toFixed(3)}`) },
    progress: () => {}, log: () => {}, backend: 'wasm', device: 'cpu'
  })
  } catch (e) { out.push(String(e)) }
  console.log(JSON.stringify(v), out.join(' '), (Date.now() - t0) / 1000, 's')
}

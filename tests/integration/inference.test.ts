// Classifier inference through the real services and engine child: a tiny classification run is
// trained on HiRISE landmark tiles (../shared/data, symlinked into a temporary ImageFolder), then
// `inference-classify` runs on its validation folder on ONNX Runtime and on TensorFlow.js (same
// probabilities within 1e-4), is recorded in `inference_jobs`, reopens, and `marsfm infer` writes
// the same table as CSV / JSON. A mean-pooled head runs on TensorFlow.js.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { startRun } from '@main/runs/start'
import type { InferenceCandidate, InferenceDetail, InferenceListItem } from '@shared/ipc/schemas/inference'
import type { RunConfigInput } from '@shared/ipc/schemas/runs'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder, sharedDataAvailable } from '../support/training-data'

const home = tempHome('marsfm-infer-')
let ctx: AppContext
let landmarks: string
let clsRun: number
let meanRun: number
let threeRun: number
let ttaRun: number
let three: string

/** A three-class ImageFolder (landmark classes 0, 1, 2) of symlinks: 6 train and 4 valid images per class. */
function threeClassFolder(dir: string): void {
  const root = join(SHARED_DATA, 'hirise-landmarks-v1')
  const lines = readFileSync(join(root, 'labels-map-proj.txt'), 'utf8').trim().split(/\r?\n/).map((l) => l.trim().split(/\s+/))
  for (const c of ['0', '1', '2']) {
    const files = lines.filter((l) => l[1] === c).map((l) => l[0]!).slice(0, 10)
    files.forEach((f, i) => {
      const d = join(dir, i < 6 ? 'train' : 'valid', `class${c}`)
      mkdirSync(d, { recursive: true })
      symlinkSync(join(root, 'map-proj', f), join(d, f))
    })
  }
}

async function call<T>(channel: string, payload: unknown): Promise<T> {
  const reply = await ctx.router.dispatch(channel, payload)
  if (!reply.ok) throw new Error(`${reply.error.name}: ${reply.error.message}`)
  return reply.value as T
}

function tinyRun(name: string, over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name,
    task: 'classification',
    model: { demo: true },
    data: { kind: 'folder', path: landmarks, layout: 'imagefolder' },
    imgSize: 64,
    steps: 6,
    batchSize: 4,
    seed: 3,
    optimizer: { name: 'adamw', lr: 3e-4 },
    eval: { everySteps: 6, maxImages: 8 },
    checkpoint: { everySteps: 0, bestMetric: 'val/accuracy', mode: 'max' },
    ...over
  }
}

async function train(config: RunConfigInput): Promise<number> {
  const runs = ctx.runs
  const { runId } = await startRun(ctx, config)
  const run = await runs.waitFor(runId)
  expect(run.status, run.statusReason ?? '').toBe('done')
  return runId
}

async function infer(request: Record<string, unknown>): Promise<InferenceDetail> {
  const { jobId, inferenceId } = await call<{ jobId: string; inferenceId: number }>('inference:start', request)
  const job = await ctx.jobs.waitFor(jobId)
  expect(job.error).toBeNull()
  expect(job.state).toBe('done')
  return call<InferenceDetail>('inference:get', { id: inferenceId })
}

beforeAll(async () => {
  requireBuild()
  if (!sharedDataAvailable()) throw new Error('../shared/data is missing (hirise-landmarks-v1)')
  landmarks = join(home.dir, 'landmarks')
  landmarkImageFolder(landmarks, { trainPerClass: 16, validPerClass: 10 })
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
  clsRun = await train(tinyRun('tiny cls', { eval: { everySteps: 6, maxImages: 0 }, preprocessing: { recipe: 'postnorm-dup', truncate: true, tileNorm: 'standardize' } }))
  meanRun = await train(tinyRun('tiny mean', { pool: 'mean', steps: 4, eval: { everySteps: 4, maxImages: 4 } }))
  three = join(home.dir, 'three')
  threeClassFolder(three)
  threeRun = await train(tinyRun('tiny three', { data: { kind: 'folder', path: three, layout: 'imagefolder' }, steps: 4, eval: { everySteps: 4, maxImages: 0 }, checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' } }))
  ttaRun = await train(tinyRun('tiny three tta', { data: { kind: 'folder', path: three, layout: 'imagefolder' }, steps: 4, tta: 'dihedral', eval: { everySteps: 4, maxImages: 0 }, checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' } }))
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('classifier inference', () => {
  let ortJob: InferenceDetail

  it('lists classification runs with their best and last checkpoints', async () => {
    const candidates = await call<InferenceCandidate[]>('inference:candidates', {})
    const c = candidates.find((x) => x.runId === clsRun)!
    expect(c.classes).toEqual(['0_other', '1_crater'])
    expect(c.checkpoints.map((k) => k.kind).sort()).toEqual(['best', 'last'])
    expect(c.checkpoints.find((k) => k.kind === 'best')!.metricName).toBe('val/accuracy')
  })

  it('classifies the validation folder on ONNX Runtime with true labels from the ImageFolder layout and records the job', async () => {
    ortJob = await infer({ runId: clsRun, checkpoint: 'last', source: { kind: 'folder', path: join(landmarks, 'valid') }, backend: 'auto', batchSize: 8, thumbnails: 5 })
    const o = ortJob.outcome!
    expect(ortJob.status).toBe('done')
    expect(o.backend.name).toBe('ort')
    expect(o.classes).toEqual(['0_other', '1_crater'])
    expect(o.predictions).toHaveLength(20)
    expect(o.predictions.filter((p) => p.label === 1)).toHaveLength(10)
    for (const p of o.predictions) {
      expect(p.probabilities).toHaveLength(2)
      expect(p.probabilities[0]! + p.probabilities[1]!).toBeCloseTo(1, 6)
      expect(p.predicted).toBe(p.probabilities[1]! >= 0.5 ? 1 : 0)
    }
    expect(o.predictions.filter((p) => p.thumbnail?.startsWith('data:image/jpeg;base64,'))).toHaveLength(5)
    expect(o.metrics!.labelled).toBe(20)
    expect(o.metrics!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(20)
    expect(o.checkpoint.step).toBe(6)
    // Preprocessed as in training: the run's own evaluation of this checkpoint on the same folder
    // (TensorFlow.js, logits > 0) gives the same accuracy and BCE loss.
    const run = (await call<{ run: { latest: Record<string, number> } }>('runs:get', { id: clsRun })).run
    expect(o.metrics!.accuracy).toBe(run.latest['val/accuracy'])
    const bce = -o.predictions.reduce((s, p) => s + Math.log(p.label === 1 ? p.probabilities[1]! : p.probabilities[0]!), 0) / o.predictions.length
    expect(Math.abs(bce - run.latest['val/loss']!)).toBeLessThan(1e-4)
    expect(o.preprocessing).toMatchObject({ recipe: 'postnorm-dup', tileNorm: 'standardize' })
    // The exported graph is cached by checkpoint content and step.
    expect(readdirSync(join(home.dir, 'onnx-cache')).filter((f) => f.startsWith(`classifier-${o.checkpoint.sha256}-s6-64px`))).toHaveLength(1)
    const row = ctx.ledger.db.prepare('SELECT model_id, checkpoint_id, status, finished_at FROM inference_jobs WHERE id = ?').get(ortJob.id) as Record<string, unknown>
    expect(row.status).toBe('done')
    expect(row.checkpoint_id).toBe(ortJob.input.checkpoint.id)
    expect(row.model_id).toEqual(expect.any(Number))
    expect(row.finished_at).toEqual(expect.any(String))
    const list = await call<InferenceListItem[]>('inference:list', {})
    expect(list[0]).toMatchObject({ id: ortJob.id, status: 'done', images: 20, runId: clsRun, checkpointKind: 'last', accuracy: o.metrics!.accuracy })
  })

  it('gives the same probabilities on TensorFlow.js (classifierForward, eval mode) within 1e-4', async () => {
    const tf = await infer({ runId: clsRun, checkpoint: 'last', source: { kind: 'folder', path: join(landmarks, 'valid') }, backend: 'tfjs', thumbnails: 0 })
    expect(tf.outcome!.backend.name).toBe('tfjs')
    const a = ortJob.outcome!.predictions
    const b = tf.outcome!.predictions
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name))
    let worst = 0
    a.forEach((p, i) => p.probabilities.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[i]!.probabilities[k]!)))))
    expect(worst).toBeLessThanOrEqual(1e-4)
    // Not a trivial agreement: the scores vary from image to image.
    const scores = a.map((p) => p.probabilities[1]!)
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(1e-4)
  })

  it('runs a three-class head (softmax) on ONNX Runtime and TensorFlow.js alike, matching the run’s own evaluation', async () => {
    const source = { kind: 'folder', path: join(three, 'valid') }
    const ort = await infer({ runId: threeRun, checkpoint: 'last', source, thumbnails: 0 })
    const tfjs = await infer({ runId: threeRun, checkpoint: 'last', source, backend: 'tfjs', thumbnails: 0 })
    const o = ort.outcome!
    expect(o.backend.name).toBe('ort')
    expect(o.positiveIndex).toBeNull()
    expect(o.classes).toEqual(['class0', 'class1', 'class2'])
    expect(o.predictions).toHaveLength(12)
    expect(o.metrics!.confusion.map((r) => r.reduce((a, b) => a + b, 0))).toEqual([4, 4, 4])
    let worst = 0
    o.predictions.forEach((p, i) => {
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)
      p.probabilities.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - tfjs.outcome!.predictions[i]!.probabilities[k]!))))
    })
    expect(worst).toBeLessThanOrEqual(1e-4)
    const run = (await call<{ run: { latest: Record<string, number> } }>('runs:get', { id: threeRun })).run
    expect(o.metrics!.accuracy).toBe(run.latest['val/accuracy'])
    const ce = -o.predictions.reduce((s, p) => s + Math.log(p.probabilities[p.label!]!), 0) / o.predictions.length
    expect(Math.abs(ce - run.latest['val/loss']!)).toBeLessThan(1e-4)
  })

  it("applies the run's test-time augmentation: the mean logits of 8 orientations, matching the run's own evaluation", async () => {
    const source = { kind: 'folder', path: join(three, 'valid') }
    const [ort, tfjs] = [await infer({ runId: ttaRun, checkpoint: 'last', source, thumbnails: 0 }), await infer({ runId: ttaRun, checkpoint: 'last', source, backend: 'tfjs', thumbnails: 0 })]
    const o = ort.outcome!
    expect(o.preprocessing.tta).toBe('dihedral')
    expect(o.backend.notes.join(' ')).toMatch(/8 orientations averaged/)
    let worst = 0
    o.predictions.forEach((p, i) => p.probabilities.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - tfjs.outcome!.predictions[i]!.probabilities[k]!)))))
    expect(worst).toBeLessThanOrEqual(1e-4)
    const run = (await call<{ run: { latest: Record<string, number> } }>('runs:get', { id: ttaRun })).run
    const ce = (d: InferenceDetail) => -d.outcome!.predictions.reduce((s, p) => s + Math.log(p.probabilities[p.label!]!), 0) / d.outcome!.predictions.length
    expect(Math.abs(ce(ort) - run.latest['val/loss']!)).toBeLessThan(1e-4)
    // A run without it scores the image as it is.
    const plain = await infer({ runId: threeRun, checkpoint: 'last', source, thumbnails: 0 })
    expect(plain.outcome!.preprocessing.tta).toBe('none')
  })

  it('runs a mean-pooled head on TensorFlow.js and refuses the ONNX graph for it', async () => {
    const d = await infer({ runId: meanRun, checkpoint: 'best', source: { kind: 'files', paths: readdirSync(join(landmarks, 'valid', '1_crater')).slice(0, 3).map((f) => join(landmarks, 'valid', '1_crater', f)) } })
    expect(d.outcome!.backend.name).toBe('tfjs')
    expect(d.outcome!.pool).toBe('mean')
    expect(d.outcome!.predictions.every((p) => p.label === null)).toBe(true)
    expect(d.outcome!.metrics).toBeNull()
    const { jobId, inferenceId } = await call<{ jobId: string; inferenceId: number }>('inference:start', { runId: meanRun, source: { kind: 'folder', path: join(landmarks, 'valid') }, backend: 'ort' })
    const job = await ctx.jobs.waitFor(jobId)
    expect(job.state).toBe('failed')
    expect(job.error!.message).toMatch(/mean of the patch tokens.*tfjs/)
    expect((await call<InferenceDetail>('inference:get', { id: inferenceId })).status).toBe('failed')
  })

  it('classifies a frozen dataset version: tiles cut from the stored copies, consensus labels as true classes', async () => {
    const dataset = await call<{ id: number }>('datasets:create', { name: 'lm', classes: ['0-other', '1-crater'] })
    const dir = join(landmarks, 'valid', '1_crater')
    const files = readdirSync(dir).sort().slice(0, 4).map((f) => join(dir, f))
    const other = readdirSync(join(landmarks, 'valid', '0_other')).sort().slice(0, 4).map((f) => join(landmarks, 'valid', '0_other', f))
    const imported = await call<{ jobId: string }>('datasets:import', { datasetId: dataset.id, paths: [...files, ...other] })
    expect((await ctx.jobs.waitFor(imported.jobId)).state).toBe('done')
    const { tiles } = await call<{ tiles: { id: number; fileName: string }[] }>('tiles:list', { datasetId: dataset.id })
    const craterNames = new Set(files.map((f) => f.split('/').pop()))
    await call('labels:set', { tileIds: tiles.filter((t) => craterNames.has(t.fileName)).map((t) => t.id), className: '1-crater' })
    await call('labels:set', { tileIds: tiles.filter((t) => !craterNames.has(t.fileName)).map((t) => t.id), className: '0-other' })
    await call('datasets:split', { datasetId: dataset.id, seed: 1 })
    const version = await call<{ id: number }>('datasets:freeze', { datasetId: dataset.id })
    const d = await infer({ runId: clsRun, checkpoint: 'last', source: { kind: 'dataset-version', versionId: version.id }, thumbnails: 2 })
    const preds = d.outcome!.predictions
    expect(preds).toHaveLength(8)
    expect(preds.filter((p) => p.label === 1)).toHaveLength(4)
    expect(preds.filter((p) => p.label === 0)).toHaveLength(4)
    expect(preds.every((p) => p.region && p.path.includes('images'))).toBe(true)
    expect(d.outcome!.metrics!.labelled).toBe(8)
    // The same pixels as the folder images (whole-image tiles): the same probabilities.
    const byFile = new Map(ortJob.outcome!.predictions.map((p) => [p.name.split('/').pop()!.replace(/\.jpg$/, ''), p.probabilities[1]!]))
    for (const p of preds) {
      const stem = [...byFile.keys()].find((k) => p.name.startsWith(k))
      expect(stem, p.name).toBeDefined()
      expect(Math.abs(p.probabilities[1]! - byFile.get(stem!)!)).toBeLessThan(1e-5)
    }

    // The same version trains a run (the Training view's "frozen dataset version" source): it is
    // exported once as an ImageFolder, and the run records the version's content hash.
    const runs = ctx.runs
    const started = await startRun(ctx, tinyRun('from a version', { data: { kind: 'dataset-version', id: version.id }, steps: 2, batchSize: 2, eval: { everySteps: 2, maxImages: 0 } }))
    const run = await runs.waitFor(started.runId)
    expect(run.status, run.statusReason ?? '').toBe('done')
    const frozen = await call<{ id: number; contentHash: string }[]>('datasets:versions', { datasetId: dataset.id })
    expect(run.datasetHash).toBe(frozen.find((v) => v.id === version.id)!.contentHash)
    expect(existsSync(join(home.dir, 'training-data', `version-${version.id}-imagefolder`))).toBe(true)
  })

  it('cancels between batches and records the job as cancelled', async () => {
    const file = join(landmarks, 'valid', '1_crater', readdirSync(join(landmarks, 'valid', '1_crater'))[0]!)
    const { jobId, inferenceId } = await call<{ jobId: string; inferenceId: number }>('inference:start', {
      runId: clsRun,
      source: { kind: 'files', paths: Array.from({ length: 3000 }, () => file) },
      batchSize: 2,
      thumbnails: 0
    })
    await new Promise<void>((resolve) => {
      const onUpdate = (j: { id: string; done: number }) => {
        if (j.id !== jobId || j.done < 2) return
        ctx.jobs.off('update', onUpdate)
        resolve()
      }
      ctx.jobs.on('update', onUpdate)
    })
    expect(ctx.jobs.cancel(jobId)).toBe(true)
    expect((await ctx.jobs.waitFor(jobId)).state).toBe('cancelled')
    const d = await call<InferenceDetail>('inference:get', { id: inferenceId })
    expect(d.status).toBe('cancelled')
    expect(d.outcome).toBeNull()
  })

  it('says what is wrong with a bad request', async () => {
    await expect(call('inference:start', { runId: 999, source: { kind: 'folder', path: landmarks } })).rejects.toThrow(/no run #999/)
    await expect(call('inference:start', { runId: clsRun, source: { kind: 'folder', path: join(home.dir, 'nope') } })).rejects.toThrow(/folder not found/)
    await expect(call('inference:start', { runId: clsRun, source: { kind: 'folder', path: 'relative/path' } })).rejects.toThrow(/ValidationError/)
  })

  it('serves a larger preview only for images a recorded job names, and removes jobs', async () => {
    const img = await call<{ dataUrl: string; name: string }>('inference:image', { id: ortJob.id, index: 0, maxSide: 128 })
    expect(img.dataUrl).toMatch(/^data:image\/png;base64,/)
    expect(img.name).toBe(ortJob.outcome!.predictions[0]!.name)
    await expect(call('inference:image', { id: ortJob.id, index: 999 })).rejects.toThrow(/no image 999/)
    const before = (await call<InferenceListItem[]>('inference:list', {})).length
    const victim = (await call<InferenceListItem[]>('inference:list', {})).find((j) => j.status === 'failed')!
    await call('inference:remove', { id: victim.id })
    expect(await call<InferenceListItem[]>('inference:list', {})).toHaveLength(before - 1)
  })

  it('`marsfm infer` prints the table and metrics and writes CSV and JSON', () => {
    const csv = join(home.dir, 'out.csv')
    const json = join(home.dir, 'out.json')
    const r = spawnSync(process.execPath, [CLI_ENTRY, 'infer', '--run', String(clsRun), '--checkpoint', 'last', '--images', join(landmarks, 'valid'), '--csv', csv, '--json', json, '--rows', '3'], {
      env: { ...process.env, MARSFM_HOME: home.dir },
      encoding: 'utf8',
      timeout: 120_000
    })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/20 image\(s\), ort on cpu/)
    expect(r.stdout).toMatch(/… 17 more/)
    expect(r.stdout).toMatch(/20 labelled image\(s\) at threshold 0\.5 on p\(1_crater\): balanced accuracy \d+\.\d %, AUC \(1_crater\) \d\.\d{3}, accuracy \d.*recall \(1_crater\) \d/)
    const lines = readFileSync(csv, 'utf8').trim().split('\r\n')
    expect(lines[0]).toBe('name,path,p_0_other,p_1_crater,predicted,true,correct')
    expect(lines).toHaveLength(21)
    const out = JSON.parse(readFileSync(json, 'utf8')) as { images: { name: string; probabilities: Record<string, number> }[]; metrics: { labelled: number } }
    expect(out.metrics.labelled).toBe(20)
    // The same numbers as the job run through the service.
    const first = ortJob.outcome!.predictions[0]!
    expect(out.images[0]!.name).toBe(first.name)
    expect(out.images[0]!.probabilities['1_crater']).toBeCloseTo(first.probabilities[1]!, 6)
    expect(existsSync(join(home.dir, 'ledger.sqlite'))).toBe(true)
    const usage = spawnSync(process.execPath, [CLI_ENTRY, 'infer', '--images', landmarks], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8' })
    expect(usage.status).toBe(2)
  })
})

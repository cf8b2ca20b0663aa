// Training runs through the real services and engine child on real Mars data (../shared/data):
// crater vs rest on HiRISE landmark tiles (split by observation) reaches clearly better-than-chance
// validation accuracy with every classification metric recorded;
// a run whose engine is killed mid-way and resumed logs the same later metrics as an uninterrupted
// run; segmentation on ellipse masks from crater boxes reports per-class IoU; a diverging run stops
// with a clear status; `marsfm train --config` writes the same ledger records.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import type { RunsController } from '@main/runs/controller'
import { estimateRun, startRun } from '@main/runs/start'
import { listRuns, runCheckpoints, runMetrics } from '@main/runs/repository'
import { openLedger } from '@main/ledger/ledger'
import { RUN_PRESETS } from '@shared/training/presets'
import type { RunConfigInput, RunMetricsEvent } from '@shared/ipc/schemas/runs'
import { CLI_ENTRY, ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { craterSegmentationFolder, landmarkImageFolder, sharedDataAvailable } from '../support/training-data'

const home = tempHome('marsfm-train-')
let ctx: AppContext
let runs: RunsController
let landmarks: string
let craters: string

beforeAll(async () => {
  requireBuild()
  if (!sharedDataAvailable()) throw new Error('../shared/data is missing (hirise-landmarks-v1, mars-crater-boxes)')
  landmarks = join(home.dir, 'landmarks')
  const counts = landmarkImageFolder(landmarks, { trainPerClass: 170, validPerClass: 100 })
  expect(counts.train).toEqual([170, 170])
  expect(counts.valid).toEqual([100, 100])
  expect(counts.observations.train.some((o) => counts.observations.valid.includes(o))).toBe(false)
  craters = join(home.dir, 'craters')
  await craterSegmentationFolder(craters, { maxPerSplit: 16 })
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
  runs = ctx.runs
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

function classification(over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name: 'crater vs rest',
    task: 'classification',
    model: { demo: true },
    data: { kind: 'folder', path: landmarks, layout: 'imagefolder' },
    imgSize: 64,
    steps: 160,
    batchSize: 8,
    seed: 7,
    maskRatio: 0.375,
    dropout: 0.5,
    gradClip: 1,
    optimizer: { name: 'adamw', lr: 3e-4, weightDecay: 0.05 },
    schedule: { name: 'cosine', warmupSteps: 20 },
    eval: { everySteps: 80 },
    checkpoint: { everySteps: 0, bestMetric: 'val/accuracy', mode: 'max' },
    ...over
  }
}

async function runToEnd(config: RunConfigInput) {
  const { runId } = await startRun(ctx, config)
  const run = await runs.waitFor(runId)
  return { runId, run }
}

describe('training runs', () => {
  // Crater vs rest with both splits class-balanced (train 170/170 tiles, valid 100/100 from
  // disjoint observations, split seed 1), so chance is 0.5 and accuracy equals balanced accuracy.
  // What makes the tiny demo model learn here, measured on wasm (see the session note):
  //   - per-tile contrast standardisation: HiRISE observations are stretched differently, and
  //     without it the model keys on brightness (0.50, AUC 0.49 at 64 px);
  //   - 128 px input, 8x8 tokens (64 px with standardisation: 0.60, AUC 0.62);
  //   - full fine-tuning (a frozen-backbone linear probe: 0.54-0.71 over split seeds 1-3);
  //   - the study's regularisation, token masking 0.375 and dropout 0.5: without it the run
  //     overfits after ~100 steps (300 steps: 0.60 / 0.67 / 0.68 on split seeds 1 / 2 / 3).
  // These settings (the preset), 200 steps of 16 from the demo MAE: split seed 1 0.635 (AUC 0.72), seed 2
  // 0.634 (balanced 0.645, AUC 0.73), seed 3 0.640 (AUC 0.70). The preset now starts from the shipped
  // crater encoder (its `model`), which does better on held-out observations, and without token masking,
  // which that encoder does better without (7 of 8 held-out splits; resources/models/README.md), and
  // since 2026-12-05 with its head fitted as a linear probe before the first step (LP-FT).
  // The run is deterministic for a seed and backend. The bounds sit above chance's range for 200
  // tiles (0.5 + 2.9 sigma = 0.60).
  it('crater vs rest on landmark tiles (split by observation) reaches clearly better-than-chance validation accuracy and is recorded', async () => {
    // The Training view's "Demo model: crater vs rest" preset, as a user would start it.
    const preset = RUN_PRESETS.find((p) => p.id === 'demo-classification')!
    const { runId, run } = await runToEnd({ ...preset.config, name: preset.title, model: preset.model!, data: { kind: 'folder', path: landmarks, layout: 'imagefolder' } })
    expect(run.status, run.statusReason ?? '').toBe('done')
    // The preset's head starts as a linear probe fitted on the crater encoder's features (LP-FT).
    expect(ctx.log.recent().map((l) => l.message)).toContainEqual(expect.stringMatching(/linear-probe head: logistic regression on the pooled features of 340 training images, \d+ L-BFGS iterations, balanced accuracy 0\.\d{3} on them/))
    expect(run.latest['val/accuracy']).toBeGreaterThanOrEqual(0.6)
    expect(run.latest['val/balanced_accuracy']).toBeGreaterThanOrEqual(0.6)
    expect(run.latest['val/auc']).toBeGreaterThanOrEqual(0.65)
    expect(run.backend).toBe(ctx.engine.getStatus().backend)
    expect(run.datasetHash).toMatch(/^[0-9a-f]{64}$/)
    expect(run.modelHash).toMatch(/^[0-9a-f]{64}$/)
    for (const k of ['val/loss', 'val/precision', 'val/recall', 'val/f1']) expect(Number.isFinite(run.latest[k]), k).toBe(true)
    const metrics = runMetrics(ctx.ledger.db, runId)
    const losses = metrics.filter((m) => m.name === 'train/loss').map((m) => m.value)
    expect(losses).toHaveLength(200)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(mean(losses.slice(-40))).toBeLessThan(mean(losses.slice(0, 40)))
    // One evaluation, at the end, each tile scored in its 8 orientations (the preset's test-time augmentation).
    expect(metrics.filter((m) => m.name.startsWith('val/confusion/')).length).toBe(4)
    expect(ctx.log.recent().map((l) => l.message)).toContainEqual(expect.stringMatching(/test-time augmentation: each evaluation scores every image in its 8 orientations/))
    const confusion = metrics.filter((m) => m.name.startsWith('val/confusion/') && m.step === 200).reduce((a, m) => a + m.value, 0)
    expect(confusion).toBe(200)
    const ckpts = runCheckpoints(ctx.ledger.db, runId)
    expect(ckpts.map((c) => c.kind)).toEqual(expect.arrayContaining(['best', 'last']))
    for (const c of ckpts) expect(existsSync(c.path)).toBe(true)
  }, 480_000) // about 2 minutes on a quiet 2-core machine; the margin is for a busy one

  it('a run whose engine is killed mid-way and then resumed logs the same later metrics as an uninterrupted run', async () => {
    const cfg = classification({ name: 'uninterrupted', steps: 40, batchSize: 4, eval: { everySteps: 10, maxImages: 24 } })
    const a = await runToEnd(cfg)
    expect(a.run.status).toBe('done')

    const { runId } = await startRun(ctx, { ...cfg, name: 'killed and resumed' })
    await new Promise<void>((resolve) => {
      const onMetrics = (m: RunMetricsEvent) => {
        if (m.runId !== runId || m.step < 15) return
        runs.off('metrics', onMetrics)
        process.kill(ctx.engine.getStatus().pid!, 'SIGKILL')
        resolve()
      }
      runs.on('metrics', onMetrics)
    })
    const crashed = await runs.waitFor(runId)
    expect(crashed.status).toBe('failed')
    expect(crashed.statusReason).toMatch(/engine process was killed.*resume/)
    expect(crashed.lastCheckpointStep).toBeGreaterThanOrEqual(10)
    await ctx.engine.whenReady()
    runs.resume(runId)
    const resumed = await runs.waitFor(runId)
    expect(resumed.status, resumed.statusReason ?? '').toBe('done')

    const series = (id: number) => runMetrics(ctx.ledger.db, id).filter((m) => m.name !== 'train/images_per_s' && m.step > 10)
    expect(series(runId).length).toBeGreaterThan(30 * 3)
    expect(series(runId)).toEqual(series(a.runId))
  }, 480_000) // about 2 minutes on a quiet 2-core machine; the margin is for a busy one

  it('segmentation on inscribed-ellipse crater masks reports per-class IoU with sliding-window evaluation', async () => {
    const previews: unknown[] = []
    const onMetrics = (m: RunMetricsEvent) => m.previews && previews.push(...m.previews)
    runs.on('metrics', onMetrics)
    const { run } = await runToEnd({
      name: 'crater masks',
      task: 'segmentation',
      model: { demo: true },
      data: { kind: 'folder', path: craters, layout: 'mmseg' },
      imgSize: 64,
      steps: 16,
      batchSize: 4,
      seed: 1,
      optimizer: { name: 'adamw', lr: 5e-4, weightDecay: 0.05 },
      schedule: { name: 'poly', warmupSteps: 5 },
      eval: { everySteps: 16, maxImages: 4 },
      checkpoint: { everySteps: 0, bestMetric: 'val/miou', mode: 'max' },
      segmentation: { numClasses: 2, neckDim: 32, headChannels: 16, loss: 'ce+dice', classWeights: [0.2, 0.8], resize: 128, previewTiles: 2 }
    })
    runs.off('metrics', onMetrics)
    expect(run.status, run.statusReason ?? '').toBe('done')
    for (const k of ['val/iou/background', 'val/iou/crater', 'val/miou', 'val/pixel_accuracy']) {
      expect(run.latest[k], k).toBeGreaterThanOrEqual(0)
      expect(run.latest[k], k).toBeLessThanOrEqual(1)
    }
    expect(previews).toHaveLength(2)
  })

  // The users' case: folders Crater / NoCrater (the negative class second in name order), 86 %
  // no-crater. The run must name Crater positive by default, warn about the skew, report
  // precision / recall / F1 of Crater, pick its best checkpoint by balanced accuracy and keep the
  // validation probabilities (with a balanced-accuracy threshold) in that checkpoint.
  it('`marsfm train --preset … --data …` on skewed Crater / NoCrater folders: Crater is positive and its metrics are reported', () => {
    const cli = tempHome('marsfm-cli-preset-')
    try {
      const folder = join(cli.dir, 'skewed')
      const counts = landmarkImageFolder(folder, { trainPerClass: [86, 14], validPerClass: [43, 7], classNames: ['NoCrater', 'Crater'] })
      expect(counts.train).toEqual([86, 14])
      const env = { ...process.env, MARSFM_HOME: cli.dir }
      const r = spawnSync(process.execPath, [CLI_ENTRY, 'train', '--preset', 'demo-classification', '--data', folder, '--steps', '4', '--log-every', '2'], { env, encoding: 'utf8', timeout: 170_000 })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/positive class "Crater"; best checkpoint by val\/balanced_accuracy/)
      expect(r.stderr).toMatch(/warning: training set: class "Crater" is only 14\.0 % of 100 images/)
      const c = openLedger(cli.dir)
      try {
        const [run] = listRuns(c.db)
        const config = run!.config as { positiveClass: string; checkpoint: { bestMetric: string; mode: string }; steps: number; classWeights: string }
        expect(config).toMatchObject({ positiveClass: 'Crater', checkpoint: { bestMetric: 'val/balanced_accuracy', mode: 'max' }, steps: 4, classWeights: 'balanced' })
        // Class order in the engine: [NoCrater, Crater]; recall / precision are Crater's.
        const cm = [0, 1].map((t) => [0, 1].map((p) => run!.latest[`val/confusion/${t}/${p}`]!))
        expect(cm[1]![0]! + cm[1]![1]!).toBe(7)
        expect(run!.latest['val/recall']).toBeCloseTo(cm[1]![1]! / 7, 10)
        const predictedCrater = cm[0]![1]! + cm[1]![1]!
        expect(run!.latest['val/precision']).toBeCloseTo(predictedCrater ? cm[1]![1]! / predictedCrater : 0, 10)
        expect(run!.latest['val/balanced_accuracy']).toBeCloseTo((cm[0]![0]! / 43 + cm[1]![1]! / 7) / 2, 10)
        const best = runCheckpoints(c.db, run!.id).find((k) => k.kind === 'best')!
        expect(best.metricName).toBe('val/balanced_accuracy')
        const meta = JSON.parse(readFileSync(best.path.replace(/\.safetensors$/, '.json'), 'utf8'))
        expect(meta.classes).toEqual(['NoCrater', 'Crater'])
        expect(meta.config.positiveClass).toBe('Crater')
        expect(meta.validation).toMatchObject({ positiveClass: 'Crater', step: 4 })
        expect(meta.validation.positive).toBe('0'.repeat(43) + '1'.repeat(7))
        expect(meta.validation.threshold.balancedAccuracy).toBeGreaterThanOrEqual(run!.latest['val/balanced_accuracy']! - 1e-9)
      } finally {
        c.close()
      }
      // Plain accuracy cannot pick the best checkpoint on these skewed folders.
      const path = join(cli.dir, 'run.json')
      writeFileSync(path, JSON.stringify(classification({ name: 'by accuracy', steps: 2, data: { kind: 'folder', path: folder, layout: 'imagefolder' } })))
      const refused = spawnSync(process.execPath, [CLI_ENTRY, 'train', '--config', path], { env, encoding: 'utf8', timeout: 120_000 })
      expect(refused.status).not.toBe(0)
      expect(refused.stderr).toMatch(/Plain accuracy cannot pick the best checkpoint here/)
    } finally {
      cli.remove()
    }
  })

  it('`marsfm train --config run.json` prints progress and records the run in the ledger', () => {
    const cli = tempHome('marsfm-cli-train-')
    try {
      const path = join(cli.dir, 'run.json')
      writeFileSync(path, JSON.stringify(classification({ name: 'from the CLI', steps: 12, batchSize: 4, eval: { everySteps: 12, maxImages: 16 } })))
      const r = spawnSync(process.execPath, [CLI_ENTRY, 'train', '--config', path, '--log-every', '4'], { env: { ...process.env, MARSFM_HOME: cli.dir }, encoding: 'utf8', timeout: 170_000 })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/step\s+12\/12\s+loss \d/)
      expect(r.stdout).toMatch(/eval\s+step 12\/12 .*val\/accuracy/)
      expect(r.stdout).toMatch(/run #1 done/)
      const bad = spawnSync(process.execPath, [CLI_ENTRY, 'train', '--config', path.replace('run.json', 'nope.json')], { env: { ...process.env, MARSFM_HOME: cli.dir }, encoding: 'utf8' })
      expect(bad.status).toBe(2)
    } finally {
      cli.remove()
    }
  })
})

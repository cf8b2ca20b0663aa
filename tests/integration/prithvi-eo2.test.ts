// Prithvi-EO-2.0 as IBM publishes it, through what a user runs: `marsfm reconstruct` with the
// checkpoint and its Hugging Face config.json gives the losses of our re-implementation of
// TerraTorch's PrithviMAE (tests/fixtures/prithvi-eo2/make_fixtures.py) on real HiRISE crops, with
// the model's own mean / std; `marsfm model import` records its architecture and statistics; the
// Backbones use case embeds a frozen landmark version with it, and a classification run fine-tunes it
// at an input size other than its pre-training size.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { listRuns, runMetrics } from '@main/runs/repository'
import { startRun } from '@main/runs/start'
import type { BackboneStudyDetail } from '@shared/ipc/schemas/backbones'
import type { ModelRecord } from '@shared/ipc/schemas/models'
import { CLI_ENTRY, ENGINE_ENTRY, ROOT, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder } from '../support/training-data'

const FIX = resolve(ROOT, 'tests/fixtures/prithvi-eo2')
const PT = join(FIX, 'Prithvi_EO_V2_tiny_TL.pt')
const CONFIG = join(FIX, 'config.json')
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as {
  imputation: { mask_ratio: number; cases: { size: number; rgb: number[]; noise: number[]; methods: Record<string, { model_loss: number; rgb_loss: number }> }[] }
}
const hf = JSON.parse(readFileSync(CONFIG, 'utf8')) as { pretrained_cfg: { mean: number[]; std: number[] } }
const home = tempHome('marsfm-eo2-')

function marsfm(args: string[]) {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: join(home.dir, 'cli') }, encoding: 'utf8', timeout: 180_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

beforeAll(() => {
  requireBuild()
  mkdirSync(join(home.dir, 'cli'), { recursive: true })
})
afterAll(() => home.remove())

describe('marsfm with Prithvi_EO_V2_tiny_TL.pt and its config.json', () => {
  it('reconstruct --mask-noise --json gives the official code’s losses for the three imputations', async () => {
    const dir = join(home.dir, 'crops')
    mkdirSync(dir, { recursive: true })
    const images = await Promise.all(
      expected.imputation.cases.map(async (c, i) => {
        const file = join(dir, `crop${i}.png`)
        await sharp(Buffer.from(c.rgb), { raw: { width: c.size, height: c.size, channels: 3 } }).png().toFile(file)
        return file
      })
    )
    const noise = join(dir, 'n.json')
    writeFileSync(noise, JSON.stringify(expected.imputation.cases.map((c) => c.noise)))
    const out = join(dir, 'out.json')
    const r = marsfm(['reconstruct', '--checkpoint', PT, '--config', CONFIG, '--images', ...images, '--mask-noise', noise, '--json', out])
    expect(r.code, r.err).toBe(0)
    const json = JSON.parse(readFileSync(out, 'utf8'))
    expect(json.model.imgSize).toBe(28)
    expect(json.images).toHaveLength(expected.imputation.cases.length)
    for (const [i, c] of expected.imputation.cases.entries()) {
      expect(json.images[i].image).toBe(images[i])
      for (const m of ['means', 'prenorm-dup', 'postnorm-dup']) {
        expect(Math.abs(json.images[i].methods[m].model_loss - c.methods[m]!.model_loss), `${i} ${m}`).toBeLessThan(1e-4)
        expect(Math.abs(json.images[i].methods[m].rgb_loss - c.methods[m]!.rgb_loss), `${i} ${m}`).toBeLessThan(1e-4)
      }
    }
  })

  it('model import records the architecture, the pre-training grid and the model’s statistics', () => {
    const r = marsfm(['model', 'import', PT, '--config', CONFIG, '--name', 'eo2-tiny', '--json'])
    expect(r.code, r.err).toBe(0)
    const record = JSON.parse(r.out) as ModelRecord
    expect(record.config).toMatchObject({ img_size: 28, patch_size: 7, num_frames: 1, pretrain_img_size: 28, coords_encoding: ['time', 'location'] })
    expect(record.stats).toMatchObject({ mean: hf.pretrained_cfg.mean, std: hf.pretrained_cfg.std })
    expect(record.report.unexpected).toEqual([])
    expect(record.report.ignored).toContain('temporal_embed_enc.scale')
    expect(record.card).toMatchObject({ family: 'Prithvi-EO-2.0 (TL)', config: 'file', stats: 'file' })
  })

  it('model show prints the card recorded at import', () => {
    const r = marsfm(['model', 'show', 'eo2-tiny'])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/^family {8}Prithvi-EO-2.0 \(TL\)$/m)
    expect(r.out).toMatch(/^statistics {4}from its config file: BLUE GREEN RED/m)
    expect(r.out).toMatch(/^architecture .*position tables from the 28² pre-training grid/m)
    const missing = marsfm(['model', 'show', 'nope'])
    expect(missing.code).toBe(1)
    expect(missing.err).toMatch(/no model nope in the ledger/)
  })
})

describe('the app’s use cases with an EO-2.0 backbone', () => {
  let ctx: AppContext
  const call = async <T>(channel: string, payload: unknown): Promise<T> => {
    const reply = await ctx.router.dispatch(channel, payload)
    if (!reply.ok) throw new Error(`${reply.error.name}: ${reply.error.message}`)
    return reply.value as T
  }

  beforeAll(async () => {
    ctx = await createAppContext({ mode: 'cli', dataDir: join(home.dir, 'app'), engineEntry: ENGINE_ENTRY, echoLog: false })
  })
  afterAll(async () => {
    await ctx?.close()
  })

  it('embeds a frozen landmark version and probes it', async () => {
    const { jobId } = await call<{ jobId: string }>('models:import', { path: PT, configPath: CONFIG, name: 'eo2' })
    expect((await ctx.jobs.waitFor(jobId)).state).toBe('done')
    const model = (await call<ModelRecord[]>('models:list', {})).find((m) => m.name === 'eo2')!
    const root = join(SHARED_DATA, 'hirise-landmarks-v1')
    const lines = readFileSync(join(root, 'labels-map-proj.txt'), 'utf8').trim().split(/\r?\n/).map((l) => l.trim().split(/\s+/))
    // Six tiles of each class from different observations (the folds group by observation).
    const pick = (keep: (c: string) => boolean): string[] => {
      const byObs = new Map<string, string>()
      for (const [f, c] of lines) if (keep(c!) && !byObs.has(f!.split('_RED-')[0]!)) byObs.set(f!.split('_RED-')[0]!, f!)
      return [...byObs.values()].slice(0, 6).map((f) => join(root, 'map-proj', f))
    }
    const craters = pick((c) => c === '1')
    const others = pick((c) => c !== '1' && c !== '6')
    const dataset = await call<{ id: number }>('datasets:create', { name: 'landmarks', classes: ['other', 'crater'] })
    const imported = await call<{ jobId: string }>('datasets:import', { datasetId: dataset.id, paths: [...craters, ...others] })
    expect((await ctx.jobs.waitFor(imported.jobId)).state).toBe('done')
    const { tiles } = await call<{ tiles: { id: number; fileName: string }[] }>('tiles:list', { datasetId: dataset.id, limit: 100 })
    const craterNames = new Set(craters.map((f) => f.split('/').pop()))
    await call('labels:set', { tileIds: tiles.filter((t) => craterNames.has(t.fileName)).map((t) => t.id), className: 'crater' })
    await call('labels:set', { tileIds: tiles.filter((t) => !craterNames.has(t.fileName)).map((t) => t.id), className: 'other' })
    const versionId = (await call<{ id: number }>('datasets:freeze', { datasetId: dataset.id, note: 'eo2' })).id
    const started = await call<{ jobId: string; studyId: number }>('backbones:start', {
      versionId,
      backbones: [{ kind: 'model', modelId: model.id }],
      folds: 3,
      seeds: [0],
      bootstrap: 20,
      device: 'cpu'
    })
    const job = await ctx.jobs.waitFor(started.jobId)
    expect(job.state, job.error?.message).toBe('done')
    const d = await call<BackboneStudyDetail>('backbones:get', { id: started.studyId })
    const b = d.outcome!.backbones[0]!
    expect(b.embed.computed).toBe(12)
    // Embedded as the model's family expects: its architecture (1 frame, 28 px) and its own statistics.
    expect(b.embed.config).toMatchObject({ img_size: 28, pretrain_img_size: 28, num_frames: 1 })
    expect(b.embed.preprocessing.stats.mean).toEqual(hf.pretrained_cfg.mean)
    expect(b.embed.dim).toBe(32)
    expect(b.rows.map((r) => `${r.pooling}/${r.method}`)).toEqual(['cls/logistic', 'cls/knn', 'mean/logistic', 'mean/knn'])
    for (const row of b.rows) expect(row.mean.accuracy).toBeGreaterThanOrEqual(0)
  })

  it('fine-tunes it for classification at 42 px (position tables resized from its 28 px grid)', async () => {
    const model = (await call<ModelRecord[]>('models:list', {})).find((m) => m.name === 'eo2')!
    const folder = join(home.dir, 'landmarks')
    landmarkImageFolder(folder, { trainPerClass: 8, validPerClass: 4 })
    const { runId } = await startRun(ctx, {
      name: 'eo2 fine-tune',
      task: 'classification',
      model: { id: model.id },
      data: { kind: 'folder', path: folder, layout: 'imagefolder' },
      imgSize: 42,
      steps: 4,
      batchSize: 4,
      seed: 1,
      optimizer: { name: 'adamw', lr: 1e-4, weightDecay: 0.05 },
      eval: { everySteps: 4 },
      checkpoint: { everySteps: 0, bestMetric: 'val/loss', mode: 'min' }
    })
    const run = await ctx.runs.waitFor(runId)
    expect(run.status, run.statusReason ?? '').toBe('done')
    expect(listRuns(ctx.ledger.db).find((r) => r.id === runId)!.status).toBe('done')
    const losses = runMetrics(ctx.ledger.db, runId).filter((m) => m.name === 'train/loss')
    expect(losses).toHaveLength(4)
    for (const m of losses) expect(Number.isFinite(m.value)).toBe(true)
  })
})

// The reconstruction service end to end in main: a study on real HiRISE tiles runs as an engine
// job, lands in the ledger with its results, reopens exactly, serves its gallery and can be
// cancelled (keeping its finished tiles as a partial study) and removed; images larger than the
// model are tiled at native resolution; custom recipes persist in settings. Plus `marsfm reconstruct`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import Database from 'better-sqlite3'
import { createAppContext, type AppContext } from '@main/app/context'
import type { StudyDetail, StudyListItem } from '@shared/ipc/schemas/reconstruction'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { isChannel } from '@shared/ipc/contract'
import { CLI_ENTRY, ENGINE_ENTRY, ROOT, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const FIX = resolve(ROOT, 'tests/fixtures/checkpoints')
const TILES = join(SHARED_DATA, 'hirise-rgb')
let ctx: AppContext
let modelId: number
const home = tempHome()

async function call<T>(channel: string, payload: unknown): Promise<T> {
  const reply = await ctx.router.dispatch(channel, payload)
  if (!reply.ok) throw new Error(`${reply.error.name}: ${reply.error.message}`)
  return reply.value as T
}

beforeAll(async () => {
  requireBuild()
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
  const { jobId } = await call<{ jobId: string }>('models:import', { path: join(FIX, 'tiny_prithvi.pt'), configPath: join(FIX, 'Prithvi_tiny_config.yaml'), name: 'tiny' })
  expect((await ctx.jobs.waitFor(jobId)).state).toBe('done')
  modelId = (await call<{ id: number }[]>('models:list', {}))[0]!.id
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('reconstruction service', () => {
  let studyId: number

  it('runs a study on a folder of real tiles and records it in the ledger', async () => {
    const started = await call<{ jobId: string; studyId: number }>('reconstruction:start', {
      modelId,
      source: { kind: 'folder', path: TILES },
      methods: ['means', 'prenorm-dup', 'postnorm-dup'],
      maxTiles: 6,
      seed: 3,
      galleryTiles: 4
    })
    studyId = started.studyId
    expect((await call<StudyListItem[]>('reconstruction:list', {})).find((s) => s.id === studyId)?.status).toBe('running')
    const job = await ctx.jobs.waitFor(started.jobId)
    expect(job.error).toBeNull()
    expect(job.state).toBe('done')
    const study = await call<StudyDetail>('reconstruction:get', { id: studyId })
    expect(study.status).toBe('done')
    expect(study.rows).toHaveLength(6 * 3)
    expect(study.config.recipes.map((r) => r.name)).toEqual(['means', 'prenorm-dup', 'postnorm-dup'])
    expect(study.outcome!.summary.methods).toHaveLength(3)
    expect(study.outcome!.summary.pairs).toHaveLength(6)
    expect(study.outcome!.backend.name).toBe('ort')
    // Native-resolution tiles by default: the first six 32² cells of the first 512² image.
    expect(study.config.geometry).toBe('tile')
    expect(study.outcome!.tiles.map((t) => t.ref)).toEqual([0, 1, 2, 3, 4, 5].map((c) => `ESP_011472_1225_0_0.jpg#r0c${c}`))
    expect(study.outcome!.partial).toBeUndefined()
    // The ledger rows are the job's rows: the table reopens exactly.
    const direct = ctx.ledger.db.prepare('SELECT COUNT(*) AS n FROM reconstruction_results WHERE study_id = ?').get(studyId) as { n: number }
    expect(direct.n).toBe(18)
    const tile0 = study.rows.filter((r) => r.tile === study.outcome!.tiles[0]!.ref)
    expect(new Set(tile0.map((r) => r.maskSeed))).toEqual(new Set([3]))
    // The ONNX graph is cached under the data folder by model hash and mask ratio.
    expect(readdirSync(join(home.dir, 'onnx-cache')).some((f) => f.startsWith('mae-') && f.includes('-r0.5-'))).toBe(true)
  })

  it('serves the gallery as PNG data URLs, only for tiles the study has', async () => {
    const study = await call<StudyDetail>('reconstruction:get', { id: studyId })
    expect(study.outcome!.gallery!.tiles).toHaveLength(4)
    const tile = await call<{ panels: { kind: string; dataUrl: string }[] }>('reconstruction:gallery-tile', { studyId, index: 1 })
    expect(tile.panels.map((p) => p.kind)).toEqual(['original', 'masked', 'recon', 'error', 'recon', 'error', 'recon', 'error'])
    const png = Buffer.from(tile.panels[2]!.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64')
    expect((await sharp(png).metadata()).width).toBe(32)
    await expect(call('reconstruction:gallery-tile', { studyId, index: 9 })).rejects.toThrow(/no gallery tile 9/)
    await expect(call('reconstruction:gallery-tile', { studyId, index: 0, file: '../ledger.sqlite' })).rejects.toThrow(/ValidationError/)
  })

  it('saves, validates and deletes custom recipes, and runs a study with one', async () => {
    const recipe = { name: 'red-dup', bands: [{ source: 'B', stage: 'prenorm' }, { source: 'G', stage: 'prenorm' }, { source: 'R', stage: 'prenorm' }, { source: 'R', stage: 'postnorm' }, { source: 'R', stage: 'postnorm' }, { source: 'R', stage: 'postnorm' }] }
    const saved = await call<{ custom: { name: string }[]; presets: unknown[] }>('reconstruction:save-recipe', { recipe })
    expect(saved.custom.map((r) => r.name)).toEqual(['red-dup'])
    expect(saved.presets).toHaveLength(5)
    const stored = ctx.ledger.db.prepare("SELECT value_json FROM settings WHERE key = 'reconstruction.recipes'").get() as { value_json: string }
    expect(JSON.parse(stored.value_json)[0].name).toBe('red-dup')
    await expect(call('reconstruction:save-recipe', { recipe: { ...recipe, name: 'bad', bands: recipe.bands.slice(0, 5) } })).rejects.toThrow(/6 entries/)
    await expect(call('reconstruction:save-recipe', { recipe: { ...recipe, name: 'means' } })).rejects.toThrow(/preset/)
    const started = await call<{ jobId: string; studyId: number }>('reconstruction:start', { modelId, source: { kind: 'folder', path: TILES }, methods: ['postnorm-dup', 'red-dup'], maxTiles: 2, galleryTiles: 0, backend: 'tfjs' })
    expect((await ctx.jobs.waitFor(started.jobId)).state).toBe('done')
    const study = await call<StudyDetail>('reconstruction:get', { id: started.studyId })
    expect(study.outcome!.backend.name).toBe('tfjs')
    expect(study.config.recipes[1]!.bands[3]).toEqual({ source: 'R', stage: 'postnorm' })
    expect(study.outcome!.gallery!.tiles).toEqual([])
    const after = await call<{ custom: unknown[] }>('reconstruction:delete-recipe', { name: 'red-dup' })
    expect(after.custom).toEqual([])
    await expect(call('reconstruction:start', { modelId, source: { kind: 'folder', path: TILES }, methods: ['red-dup'] })).rejects.toThrow(/unknown method/)
  })

  /** Resolves at the first progress update of the job that `ready` accepts. */
  function whenProgress(jobId: string, ready: (j: JobView) => boolean): Promise<JobView> {
    return new Promise((resolve) => {
      const onUpdate = (j: JobView) => {
        if (j.id !== jobId || !ready(j)) return
        ctx.jobs.off('update', onUpdate)
        resolve(j)
      }
      ctx.jobs.on('update', onUpdate)
    })
  }

  it('tiles a 512² crop at native resolution and records every tile', async () => {
    const image = join(TILES, 'ESP_011472_1225_4_0.jpg')
    const started = await call<{ jobId: string; studyId: number }>('reconstruction:start', {
      modelId,
      source: { kind: 'files', paths: [image] },
      methods: ['means', 'postnorm-dup'],
      batchSize: 32,
      galleryTiles: 0
    })
    expect((await ctx.jobs.waitFor(started.jobId)).state).toBe('done')
    const study = await call<StudyDetail>('reconstruction:get', { id: started.studyId })
    // 512 / 32 = 16 cells a side: the whole crop, every pixel once, against one 32² centre crop before.
    expect(study.outcome!.tiles).toHaveLength(256)
    const cells = new Set(study.outcome!.tiles.map((t) => `${t.x},${t.y}`))
    expect(cells.size).toBe(256)
    for (let y = 0; y < 512; y += 32) for (let x = 0; x < 512; x += 32) expect(cells.has(`${x},${y}`)).toBe(true)
    expect(study.outcome!.tiles.every((t) => t.image === image && t.width === 32 && t.height === 32)).toBe(true)
    expect(study.rows).toHaveLength(256 * 2)
    expect(study.outcome!.summary.tiles).toBe(256)
    const listed = (await call<StudyListItem[]>('reconstruction:list', {})).find((s) => s.id === started.studyId)!
    expect(listed).toMatchObject({ status: 'done', tiles: 256, partial: null })
  })

  it('a cancel while the images are read keeps nothing', async () => {
    const started = await call<{ jobId: string; studyId: number }>('reconstruction:start', {
      modelId,
      source: { kind: 'folder', path: TILES },
      methods: ['means', 'postnorm-dup'],
      maxTiles: 20_000,
      batchSize: 2,
      galleryTiles: 0
    })
    await whenProgress(started.jobId, (j) => j.message.startsWith('reading'))
    expect((await call<{ cancelled: boolean }>('jobs:cancel', { jobId: started.jobId })).cancelled).toBe(true)
    expect((await ctx.jobs.waitFor(started.jobId)).state).toBe('cancelled')
    const study = await call<StudyDetail>('reconstruction:get', { id: started.studyId })
    expect(study.status).toBe('cancelled')
    expect(study.partial).toBeNull()
    expect(study.outcome).toBeNull()
    expect(study.rows).toEqual([])
  })

  it('a cancel after some tiles keeps them as a partial study, with its counts', async () => {
    const started = await call<{ jobId: string; studyId: number }>('reconstruction:start', {
      modelId,
      source: { kind: 'files', paths: [join(TILES, 'ESP_011472_1225_5_0.jpg'), join(TILES, 'ESP_011472_1225_6_0.jpg')] },
      methods: ['means', 'postnorm-dup'],
      batchSize: 2,
      galleryTiles: 2
    })
    await whenProgress(started.jobId, (j) => /of 512 tiles/.test(j.message) && j.done >= 4)
    expect(ctx.jobs.cancel(started.jobId)).toBe(true)
    const job = await ctx.jobs.waitFor(started.jobId)
    expect(job.state).toBe('cancelled')
    const study = await call<StudyDetail>('reconstruction:get', { id: started.studyId })
    expect(study.status).toBe('cancelled')
    const partial = study.outcome!.partial!
    expect(partial.tilesPlanned).toBe(512)
    expect(partial.tilesDone).toBeGreaterThanOrEqual(4)
    expect(partial.tilesDone).toBeLessThan(512)
    expect(study.partial).toEqual(partial)
    expect(study.statusReason).toBe(`cancelled after ${partial.tilesDone} of 512 tiles; the finished tiles are kept (partial study)`)
    // Every finished tile, and only those, with both methods; the summary is over them.
    expect(study.outcome!.tiles).toHaveLength(partial.tilesDone)
    expect(study.rows).toHaveLength(partial.tilesDone * 2)
    expect(new Set(study.rows.map((r) => r.tile))).toEqual(new Set(study.outcome!.tiles.map((t) => t.ref)))
    expect(study.outcome!.summary.tiles).toBe(partial.tilesDone)
    expect(study.outcome!.gallery!.tiles).toHaveLength(2)
    const listed = (await call<StudyListItem[]>('reconstruction:list', {})).find((s) => s.id === started.studyId)!
    expect(listed).toMatchObject({ status: 'cancelled', tiles: partial.tilesDone, partial })
  })

  it('removes a study with its results and gallery folder', async () => {
    expect(existsSync(join(home.dir, 'studies', String(studyId)))).toBe(true)
    await call('reconstruction:remove', { id: studyId })
    expect(existsSync(join(home.dir, 'studies', String(studyId)))).toBe(false)
    const left = ctx.ledger.db.prepare('SELECT COUNT(*) AS n FROM reconstruction_results WHERE study_id = ?').get(studyId) as { n: number }
    expect(left.n).toBe(0)
    await expect(call('reconstruction:get', { id: studyId })).rejects.toThrow(/no study/)
  })

  it.runIf(isChannel('datasets:freeze'))('reads the tiles of a frozen dataset version', async () => {
    const dataset = await call<{ id: number }>('datasets:create', { name: 'recon-e2e' })
    const files = ['ESP_011472_1225_0_0.jpg', 'ESP_011472_1225_1_0.jpg', 'ESP_011472_1225_2_0.jpg'].map((f) => join(TILES, f))
    const imp = await call<{ jobId: string }>('datasets:import', { datasetId: dataset.id, paths: files })
    expect((await ctx.jobs.waitFor(imp.jobId)).state).toBe('done')
    const version = await call<{ id: number; tiles: number }>('datasets:freeze', { datasetId: dataset.id })
    expect(version.tiles).toBe(3)
    const started = await call<{ jobId: string; studyId: number }>('reconstruction:start', {
      modelId,
      source: { kind: 'dataset-version', versionId: version.id },
      methods: ['means', 'postnorm-dup'],
      geometry: 'centre-crop',
      galleryTiles: 1
    })
    expect((await ctx.jobs.waitFor(started.jobId)).state).toBe('done')
    const study = await call<StudyDetail>('reconstruction:get', { id: started.studyId })
    expect(study.rows).toHaveLength(3 * 2)
    expect(study.outcome!.tiles.map((t) => t.ref).sort()).toEqual(['ESP_011472_1225_0_0_x0_y0', 'ESP_011472_1225_1_0_x0_y0', 'ESP_011472_1225_2_0_x0_y0'])
    // With the centre crop asked for, a 512² dataset tile gives the model's 32² middle: the offset is recorded.
    expect(study.outcome!.tiles[0]).toMatchObject({ x: 240, y: 240, width: 32, height: 32 })
    const row = ctx.ledger.db.prepare('SELECT dataset_version_id AS v FROM reconstruction_studies WHERE id = ?').get(started.studyId) as { v: number }
    expect(row.v).toBe(version.id)
  })

  it('refuses a missing folder before any work starts', async () => {
    await expect(call('reconstruction:start', { modelId, source: { kind: 'folder', path: join(home.dir, 'nope') }, methods: ['means'] })).rejects.toThrow(/folder not found/)
  })
})

describe('marsfm reconstruct', () => {
  const expected = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/reconstruction/expected.json'), 'utf8')) as {
    cases: { size: number; rgb: number[]; noise: number[]; methods: Record<string, { model_loss: number; rgb_loss: number }> }[]
  }

  function marsfm(args: string[]) {
    const cliHome = join(home.dir, 'cli')
    mkdirSync(cliHome, { recursive: true })
    const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: cliHome }, encoding: 'utf8', timeout: 120_000 })
    return { code: r.status, out: r.stdout, err: r.stderr }
  }

  it('with --mask-noise and --json gives PyTorch\'s losses for each image and method', async () => {
    const dir = join(home.dir, 'crops')
    mkdirSync(dir, { recursive: true })
    const images: string[] = []
    for (const [i, c] of expected.cases.entries()) {
      images.push(join(dir, `crop${i}.png`))
      await sharp(Buffer.from(c.rgb), { raw: { width: c.size, height: c.size, channels: 3 } }).png().toFile(images[i]!)
    }
    const noiseFile = join(dir, 'noise.json')
    writeFileSync(noiseFile, JSON.stringify(expected.cases.map((c) => c.noise)))
    const out = join(dir, 'out.json')
    const r = marsfm(['reconstruct', '--checkpoint', join(FIX, 'tiny_prithvi.pt'), '--config', join(FIX, 'Prithvi_tiny_config.yaml'), '--images', ...images, '--mask-noise', noiseFile, '--json', out])
    expect(r.err).not.toMatch(/error/i)
    expect(r.code).toBe(0)
    const json = JSON.parse(readFileSync(out, 'utf8'))
    expect(json.images).toHaveLength(expected.cases.length)
    for (const [i, c] of expected.cases.entries()) {
      expect(json.images[i].image).toBe(images[i])
      for (const m of ['means', 'prenorm-dup', 'postnorm-dup']) {
        expect(Math.abs(json.images[i].methods[m].model_loss - c.methods[m]!.model_loss)).toBeLessThan(1e-4)
        expect(Math.abs(json.images[i].methods[m].rgb_loss - c.methods[m]!.rgb_loss)).toBeLessThan(1e-4)
      }
    }
    expect(Object.keys(json.aggregates)).toEqual(['means', 'prenorm-dup', 'postnorm-dup'])
    expect(json.aggregates.means.rgb_loss.ci95).toHaveLength(2)
    expect(json.pairs).toHaveLength(6)
  })

  it('without a checkpoint uses the shipped demo model (64², patch 16), and records the study as the UI does', () => {
    const ledger = join(home.dir, 'cli', 'ledger.sqlite')
    const studies = () => {
      if (!existsSync(ledger)) return []
      const db = new Database(ledger, { readonly: true })
      try {
        return db.prepare('SELECT s.id, s.status, s.model_id, s.config_json, m.source, (SELECT COUNT(*) FROM reconstruction_results r WHERE r.study_id = s.id) AS results FROM reconstruction_studies s LEFT JOIN models m ON m.id = s.model_id ORDER BY s.id').all() as {
          id: number
          status: string
          model_id: number
          config_json: string
          source: string
          results: number
        }[]
      } finally {
        db.close()
      }
    }
    const before = studies().length
    const r = marsfm(['reconstruct', '--images', TILES, '--max-tiles', '3', '--json', '-'])
    expect(r.err).toMatch(/demo model/)
    expect(r.code).toBe(0)
    const json = JSON.parse(r.out)
    expect(json.model.imgSize).toBe(64)
    expect(json.images).toHaveLength(3)
    // Tiled at native resolution by default: three 64² cells of the first 512² image.
    expect(json.images.map((i: { tile: string; x: number; y: number }) => [i.tile, i.x, i.y])).toEqual([
      ['ESP_011472_1225_0_0.jpg#r0c0', 0, 0],
      ['ESP_011472_1225_0_0.jpg#r0c1', 64, 0],
      ['ESP_011472_1225_0_0.jpg#r0c2', 128, 0]
    ])
    expect(json.aggregates['postnorm-dup'].rgb_loss.mean).toBeGreaterThan(0)
    const after = studies()
    expect(after).toHaveLength(before + 1)
    const study = after[after.length - 1]!
    expect(r.err).toContain(`recorded as study #${study.id}`)
    expect(study).toMatchObject({ status: 'done', source: 'demo', results: 3 * 3 })
    const config = JSON.parse(study.config_json)
    expect(config.methods).toEqual(['means', 'prenorm-dup', 'postnorm-dup'])
    expect(config.source).toEqual({ kind: 'folder', path: TILES })
    expect(config.model.id).toBe(study.model_id)
    // The shipped crater encoder (Prithvi family, no decoder) is refused with the reason, and nothing is recorded.
    const crater = marsfm(['reconstruct', '--checkpoint', join(ROOT, 'resources', 'models', 'marsfm-demo-crater.safetensors'), '--images', TILES, '--max-tiles', '1', '--json', '-'])
    expect(crater.code).not.toBe(0)
    expect(crater.err).toMatch(/encoder-only \(no decoder weights/)
    expect(studies()).toHaveLength(before + 1)
  })
})

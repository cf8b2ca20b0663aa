// The backbone comparison through the app's services and the CLI: a frozen landmark version
// (tiles from several HiRISE observations, crater vs other), the shipped demo model against its
// untrained floor, recorded in the ledger by the view's channels and by `marsfm probe` alike;
// neighbours, tile pictures, removal, and refusals that name the problem.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { ensureDemoModel } from '@main/models/demo'
import type { BackboneStudyDetail, BackboneStudyListItem } from '@shared/ipc/schemas/backbones'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const home = tempHome('marsfm-backbones-')
let ctx: AppContext
let versionId: number
let demoId: number

async function call<T>(channel: string, payload: unknown): Promise<T> {
  const reply = await ctx.router.dispatch(channel, payload)
  if (!reply.ok) throw new Error(`${reply.error.name}: ${reply.error.message}`)
  return reply.value as T
}

beforeAll(async () => {
  requireBuild()
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  demoId = ensureDemoModel(ctx)!.id
  const root = join(SHARED_DATA, 'hirise-landmarks-v1')
  const lines = readFileSync(join(root, 'labels-map-proj.txt'), 'utf8').trim().split(/\r?\n/).map((l) => l.trim().split(/\s+/))
  // Round-robin over observations, so the folds have several observations to group.
  const pick = (keep: (c: string) => boolean) => {
    const byObs = new Map<string, string[]>()
    for (const [f, c] of lines) if (keep(c!)) byObs.set(f!.split('_RED-')[0]!, [...(byObs.get(f!.split('_RED-')[0]!) ?? []), f!])
    const out: string[] = []
    for (let round = 0; out.length < 20; round++) for (const files of byObs.values()) if (files[round] && out.length < 20) out.push(files[round]!)
    return out.map((f) => join(root, 'map-proj', f))
  }
  const craters = pick((c) => c === '1')
  const others = pick((c) => c !== '1' && c !== '6')
  const dataset = await call<{ id: number }>('datasets:create', { name: 'landmarks', classes: ['other', 'crater'] })
  const imported = await call<{ jobId: string }>('datasets:import', { datasetId: dataset.id, paths: [...craters, ...others] })
  expect((await ctx.jobs.waitFor(imported.jobId)).state).toBe('done')
  const { tiles } = await call<{ tiles: { id: number; fileName: string }[] }>('tiles:list', { datasetId: dataset.id, limit: 1000 })
  const craterNames = new Set(craters.map((f) => f.split('/').pop()))
  await call('labels:set', { tileIds: tiles.filter((t) => craterNames.has(t.fileName)).map((t) => t.id), className: 'crater' })
  await call('labels:set', { tileIds: tiles.filter((t) => !craterNames.has(t.fileName)).map((t) => t.id), className: 'other' })
  versionId = (await call<{ id: number }>('datasets:freeze', { datasetId: dataset.id, note: 'backbones' })).id
})

afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('backbone study from the view', () => {
  let studyId: number

  it('records the study, runs the probes and keeps the outcome in the ledger', async () => {
    const started = await call<{ jobId: string; studyId: number }>('backbones:start', {
      versionId,
      backbones: [{ kind: 'model', modelId: demoId }, { kind: 'random', likeModelId: demoId }],
      folds: 4,
      seeds: [0, 1],
      bootstrap: 100,
      device: 'cpu'
    })
    studyId = started.studyId
    const running = await call<BackboneStudyListItem[]>('backbones:list', {})
    expect(running[0]).toMatchObject({ id: studyId, status: 'running', versionId })
    const job = await ctx.jobs.waitFor(started.jobId)
    expect(job.state, job.error?.message).toBe('done')
    const d = await call<BackboneStudyDetail>('backbones:get', { id: studyId })
    expect(d.status).toBe('done')
    expect(d.input.positiveClass).toBe('crater')
    expect(d.input.backbones.map((b) => b.kind)).toEqual(['model', 'random'])
    expect(d.input.backbones[1]!.name).toMatch(/^random init/)
    const o = d.outcome!
    expect(o.tiles).toHaveLength(40)
    expect(o.observations).toBeGreaterThanOrEqual(8)
    expect(o.classes[o.positiveIndex]).toBe('crater')
    expect(o.backbones).toHaveLength(2)
    for (const b of o.backbones) {
      expect(b.rows.map((r) => `${r.pooling}/${r.method}`)).toEqual(['cls/logistic', 'cls/knn', 'mean/logistic', 'mean/knn'])
      expect(b.embed.computed + b.embed.reused).toBe(40)
      expect(b.map!.coords).toHaveLength(80)
    }
    expect(o.comparisons).toHaveLength(4)
    // The embeddings are cached in the data folder by weights and preprocessing.
    expect(readdirSync(join(home.dir, 'embeddings'))).toHaveLength(2)
  })

  it('finds similar tiles and shows a scored tile, and only those', async () => {
    const d = await call<BackboneStudyDetail>('backbones:get', { id: studyId })
    const nb = await call<{ index: number; similarity: number; observation: string }[]>('backbones:neighbours', { id: studyId, backbone: d.outcome!.backbones[0]!.name, index: 0, k: 5 })
    expect(nb).toHaveLength(5)
    expect(nb.map((n) => n.index)).not.toContain(0)
    for (let i = 1; i < nb.length; i++) expect(nb[i - 1]!.similarity).toBeGreaterThanOrEqual(nb[i]!.similarity)
    const img = await call<{ dataUrl: string }>('backbones:tile-image', { id: studyId, index: 3 })
    expect(img.dataUrl).toMatch(/^data:image\/png;base64,/)
    await expect(call('backbones:tile-image', { id: studyId, index: 4000 })).rejects.toThrow(/has no tile 4000/)
    await expect(call('backbones:neighbours', { id: studyId, backbone: 'nope', index: 0 })).rejects.toThrow(/no backbone "nope"/)
  })

  it('refuses what cannot be probed, naming why, and records nothing for it', async () => {
    const before = (await call<BackboneStudyListItem[]>('backbones:list', {})).length
    await expect(call('backbones:start', { versionId, backbones: [{ kind: 'model', modelId: 999 }] })).rejects.toThrow(/no model #999/)
    await expect(call('backbones:start', { versionId, backbones: [{ kind: 'model', modelId: demoId }], positiveClass: 'dunes' })).rejects.toThrow(/positive class "dunes" is not one of other, crater/)
    await expect(call('backbones:start', { versionId: 424242, backbones: [{ kind: 'model', modelId: demoId }] })).rejects.toThrow(/424242/)
    expect((await call<BackboneStudyListItem[]>('backbones:list', {})).length).toBe(before)
  })

  it('removes a finished study', async () => {
    await call('backbones:remove', { id: studyId })
    await expect(call('backbones:get', { id: studyId })).rejects.toThrow(`no backbone study #${studyId}`)
  })
})

describe('marsfm probe and marsfm embed', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 300_000 })
    return { code: r.status, out: r.stdout, err: r.stderr }
  }

  it('records the study exactly as the view does and prints the table', () => {
    const r = cli('probe', '--version', String(versionId), '--model', String(demoId), '--random', String(demoId), '--folds', '4', '--seeds', '3', '--methods', 'logistic', '--pooling', 'cls', '--bootstrap', '50', '--device', 'cpu')
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/backbone study #\d+: 40 tiles from \d+ observations, classes other, crater \(positive class: crater\)/)
    expect(r.out).toMatch(/MarsFM demo.*cls {6}logistic/)
    expect(r.out).toMatch(/random init .* vs|vs random init/)
    const id = Number(/backbone study #(\d+)/.exec(r.out)![1])
    const row = ctx.ledger.db.prepare('SELECT status, input_json FROM backbone_studies WHERE id = ?').get(id) as { status: string; input_json: string }
    expect(row.status).toBe('done')
    expect(JSON.parse(row.input_json).request).toMatchObject({ versionId, seeds: [3], methods: ['logistic'], poolings: ['cls'], embedOnly: false })
  })

  it('embed fills the cache (everything reused the second time)', () => {
    const r = cli('embed', '--version', String(versionId), '--model', String(demoId), '--device', 'cpu')
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/0 computed, 40 cached, 0 failed; 128 features on none \(all cached\)/)
    expect(r.out).toMatch(/recorded as backbone study #\d+/)
  })

  it('usage errors name the option', () => {
    expect(cli('probe', '--model', '1').err).toMatch(/--version ID is required/)
    expect(cli('probe', '--version', String(versionId)).err).toMatch(/at least one backbone/)
    expect(cli('probe', '--version', String(versionId), '--model', 'x').err).toMatch(/--model takes a positive integer id, not "x"/)
    const folds = cli('probe', '--version', String(versionId), '--model', String(demoId), '--folds', '1')
    expect(folds.code).toBe(2)
    expect(folds.err).toMatch(/--folds/)
    expect(existsSync(join(home.dir, 'embeddings'))).toBe(true)
  })
})

describe('an MAE-family backbone (MOMO layout) in the comparison', () => {
  it('imports as the Models view does (checkpoint + JSON config) and is compared with its own input', async () => {
    const fix = join(__dirname, '..', 'fixtures', 'mae')
    const imported = await call<{ jobId: string }>('models:import', { path: join(fix, 'tiny_mae_encoder.pth'), configPath: join(fix, 'tiny_mae.json'), name: 'tiny MOMO encoder' })
    expect((await ctx.jobs.waitFor(imported.jobId)).state).toBe('done')
    const model = (await call<{ id: number; name: string; config: { family?: string } }[]>('models:list', {})).find((m) => m.name === 'tiny MOMO encoder')!
    expect(model.config.family).toBe('mae')
    const started = await call<{ jobId: string; studyId: number }>('backbones:start', {
      versionId,
      backbones: [{ kind: 'model', modelId: model.id }, { kind: 'model', modelId: demoId }, { kind: 'random', likeModelId: model.id }],
      folds: 4,
      seeds: [0],
      methods: ['logistic'],
      poolings: ['cls'],
      bootstrap: 50,
      device: 'cpu'
    })
    const job = await ctx.jobs.waitFor(started.jobId)
    expect(job.state, job.error?.message).toBe('done')
    const o = (await call<BackboneStudyDetail>('backbones:get', { id: started.studyId })).outcome!
    expect(o.backbones.map((b) => b.embed.preprocessing.recipe)).toEqual(['native', 'postnorm-dup', 'native'])
    expect(o.backbones[0]!.embed.preprocessing.stats.mean).toEqual([0.5006, 0.5006, 0.5006])
    expect(o.backbones[0]!.embed.computed).toBe(40)
    expect(o.backbones[0]!.rows[0]!.mean.auc).toBeGreaterThan(0)
  })
})

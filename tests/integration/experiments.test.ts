// The experiments channels on a real ledger file, through the router as the renderer reaches them:
// `runs:list` (names of the dataset version and the model, latest metrics, notes and tags) in one
// statement, `runs:annotate` (notes and tags saved, validated, announced), `runs:series` (several
// runs' metrics in one query, long series downsampled, the first and last points kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import type { RunRecord, RunSeries } from '@shared/ipc/schemas/runs'
import { ENGINE_ENTRY } from '../support/built'
import { tempHome } from '../support/temp-home'
import { lossAt, seedDatasetVersion, seedRuns, type SeededRun } from '../support/experiment-ledger'

const home = tempHome('marsfm-experiments-')
let ctx: AppContext
let seeded: SeededRun[]
let demoModel: { id: number; name: string }

async function call<T>(channel: string, payload: unknown): Promise<T> {
  const env = await ctx.router.dispatch(channel, payload)
  if (!env.ok) throw new Error(env.error.message)
  return env.value as T
}

beforeAll(async () => {
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false, startEngine: 'on-demand' })
  const model = ctx.ledger.db.prepare('SELECT id, name FROM models ORDER BY id LIMIT 1').get() as { id: number; name: string } | undefined
  expect(model, 'the demo model is in the ledger').toBeTruthy()
  demoModel = model!
  const versionId = seedDatasetVersion(ctx.ledger.db, 'craters')
  seeded = seedRuns(ctx.ledger.db, { versionId, modelId: demoModel.id, lrs: [1e-3, 1e-2], seeds: [0, 1, 2], steps: 3000, checkpointDir: home.dir })
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

describe('experiments channels', () => {
  it('runs:list answers in one statement with names instead of ids, the latest metrics and the step', async () => {
    let statements = 0
    const prepare = ctx.ledger.db.prepare.bind(ctx.ledger.db)
    ctx.ledger.db.prepare = ((sql: string) => (statements++, prepare(sql))) as typeof ctx.ledger.db.prepare
    const list = await call<RunRecord[]>('runs:list', {}).finally(() => (ctx.ledger.db.prepare = prepare))
    expect(statements).toBe(1)
    expect(list.map((r) => r.id)).toEqual(seeded.map((r) => r.id).reverse())
    const first = list.find((r) => r.id === seeded[0]!.id)!
    expect(first.datasetName).toBe('craters v1')
    expect(first.modelName).toBe(demoModel.name)
    expect(first.step).toBe(3000)
    expect(first.latest['train/loss']).toBeCloseTo(lossAt(3000, 1e-3, 0), 12)
    expect(first.latest['val/loss']).toBeCloseTo(lossAt(3000, 1e-3, 0) + 0.05, 12)
    expect(first.lastCheckpointStep).toBe(3000)
    expect(first).toMatchObject({ notes: '', tags: [], backend: 'wasm', device: 'cpu', status: 'done' })
  })

  it('runs:annotate saves notes and tags in the ledger and announces the run', async () => {
    const id = seeded[1]!.id
    const announced: RunRecord[] = []
    const off = ctx.bus.subscribe((event, payload) => event === 'runs:status' && announced.push((payload as { run: RunRecord }).run))
    const run = await call<RunRecord>('runs:annotate', { id, notes: 'diverged after warm-up\nsecond line', tags: ['baseline', ' lr-sweep ', 'baseline'] })
    off()
    expect(run.notes).toBe('diverged after warm-up\nsecond line')
    expect(run.tags).toEqual(['baseline', 'lr-sweep'])
    expect(announced.map((r) => r.id)).toContain(id)
    const row = ctx.ledger.db.prepare('SELECT notes, tags_json FROM runs WHERE id = ?').get(id) as { notes: string; tags_json: string }
    expect(row).toEqual({ notes: 'diverged after warm-up\nsecond line', tags_json: '["baseline","lr-sweep"]' })
    expect((await call<RunRecord[]>('runs:list', {})).find((r) => r.id === id)!.tags).toEqual(['baseline', 'lr-sweep'])
  })

  it('runs:annotate refuses bad input by field and an unknown run by id, changing nothing', async () => {
    const id = seeded[1]!.id
    await expect(call('runs:annotate', { id, notes: 'x', tags: ['two\nlines'] })).rejects.toThrow(/tags\.0: must not contain control characters/)
    await expect(call('runs:annotate', { id, notes: 'x'.repeat(20_001), tags: [] })).rejects.toThrow(/notes:/)
    await expect(call('runs:annotate', { id, notes: 'x', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) })).rejects.toThrow(/tags:/)
    await expect(call('runs:annotate', { id: 9999, notes: 'x', tags: [] })).rejects.toThrow('no run #9999')
    const row = ctx.ledger.db.prepare('SELECT notes FROM runs WHERE id = ?').get(id) as { notes: string }
    expect(row.notes).toBe('diverged after warm-up\nsecond line')
  })

  it('runs:series returns several runs’ metrics in one query, downsampled to maxPoints with the ends kept', async () => {
    const ids = seeded.slice(0, 4).map((r) => r.id)
    let statements = 0
    const prepare = ctx.ledger.db.prepare.bind(ctx.ledger.db)
    ctx.ledger.db.prepare = ((sql: string) => (statements++, prepare(sql))) as typeof ctx.ledger.db.prepare
    const series = await call<RunSeries[]>('runs:series', { runIds: ids, names: ['train/loss', 'val/loss', 'no/such'], maxPoints: 200 }).finally(
      () => (ctx.ledger.db.prepare = prepare)
    )
    expect(statements).toBe(1)
    expect(series.map((s) => `${s.runId} ${s.name}`)).toEqual(ids.flatMap((id) => [`${id} train/loss`, `${id} val/loss`]))
    const loss = series[0]!
    expect(loss.recorded).toBe(3000)
    expect(loss.steps.length).toBe(200)
    expect(loss.steps[0]).toBe(1)
    expect(loss.steps.at(-1)).toBe(3000)
    expect(loss.steps.every((s, i) => i === 0 || s > loss.steps[i - 1]!)).toBe(true)
    const run = seeded.find((r) => r.id === loss.runId)!
    loss.steps.forEach((s, i) => expect(loss.values[i]).toBeCloseTo(lossAt(s, run.lr, run.seed), 12))
    // Short series (evaluations every 10 steps: 300 points) under maxPoints come back whole.
    const val = await call<RunSeries[]>('runs:series', { runIds: [ids[0]], names: ['val/loss'] })
    expect(val[0]!.steps.length).toBe(300)
    expect(val[0]!.recorded).toBe(300)
  })

  it('runs:series refuses an empty or oversized request by field', async () => {
    await expect(call('runs:series', { runIds: [], names: ['train/loss'] })).rejects.toThrow(/runIds:/)
    await expect(call('runs:series', { runIds: [1], names: ['train/loss'], maxPoints: 2 })).rejects.toThrow(/maxPoints:/)
  })

  it('deleting a run removes its metric summary with its metrics', async () => {
    const id = seeded.at(-1)!.id
    await call('runs:delete', { id })
    expect((ctx.ledger.db.prepare('SELECT COUNT(*) AS n FROM run_latest_metrics WHERE run_id = ?').get(id) as { n: number }).n).toBe(0)
    expect((await call<RunRecord[]>('runs:list', {})).map((r) => r.id)).not.toContain(id)
  })
})

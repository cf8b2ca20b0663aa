// Runs across app restarts, and deleting runs, through the real services, a real ledger file and
// the real engine child, on a tiny random-weight model and synthetic images: closing the app marks
// the running run and the queued one as interrupted (how to continue each); runs a killed process
// left 'running' / 'queued' are marked on the next start (a live owner's are left alone); a run
// that never started resumes from step 0 with its recorded config, one with a checkpoint from that
// step; `runs:delete` removes the rows (run, metrics, checkpoints) and the folder, refuses a running
// or queued run, a run whose checkpoint an inference job is using or a model was imported from;
// `marsfm train --delete` does the same from a shell.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppContext, type AppContext } from '@main/app/context'
import { openLedger } from '@main/ledger/ledger'
import { migrations } from '@main/ledger/migrations'
import type { RunsController } from '@main/runs/controller'
import { startRun } from '@main/runs/start'
import { addCheckpoint, appendMetrics, createRun, deleteRun, getRun, runCheckpoints, runMetrics } from '@main/runs/repository'
import { prithvi100m } from '@engine/model/config'
import { seededRandom } from '@shared/random'
import type { RunConfigInput, RunMetricsEvent } from '@shared/ipc/schemas/runs'
import { CLI_ENTRY, ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const TINY = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
const home = tempHome('marsfm-runs-')
const data = join(home.dir, 'images')
let ctx: AppContext | null = null
let sleeper: ChildProcess | null = null

async function writeImage(path: string, seed: number, bright: boolean) {
  const r = seededRandom(seed)
  const px = Buffer.alloc(40 * 40 * 3)
  for (let i = 0; i < px.length; i++) px[i] = Math.floor(r() * 128) + (bright ? 100 : 0)
  await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(path)
}

function tiny(name: string, over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name,
    task: 'classification',
    model: { random: TINY },
    data: { kind: 'folder', path: data, layout: 'imagefolder' },
    steps: 6,
    batchSize: 4,
    seed: 5,
    optimizer: { name: 'adamw', lr: 1e-3 },
    eval: { everySteps: 4, maxImages: 4 },
    checkpoint: { everySteps: 4, bestMetric: 'val/loss', mode: 'min' },
    ...over
  }
}

async function open(): Promise<{ ctx: AppContext; runs: RunsController }> {
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
  return { ctx, runs: ctx.runs }
}

async function close(): Promise<void> {
  await ctx?.close()
  ctx = null
}

/** Resolves with the first metrics event of `runId` that `pick` accepts. */
function metricsOf(runs: RunsController, runId: number, pick: (m: RunMetricsEvent) => boolean): Promise<RunMetricsEvent> {
  return new Promise((resolve) => {
    const on = (m: RunMetricsEvent) => {
      if (m.runId !== runId || !pick(m)) return
      runs.off('metrics', on)
      resolve(m)
    }
    runs.on('metrics', on)
  })
}

function ledgerRows(runId: number) {
  const ledger = openLedger(home.dir)
  try {
    const count = (sql: string) => (ledger.db.prepare(sql).get(runId) as { n: number }).n
    return {
      runs: count('SELECT COUNT(*) AS n FROM runs WHERE id = ?'),
      metrics: count('SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?'),
      checkpoints: count('SELECT COUNT(*) AS n FROM checkpoints WHERE run_id = ?')
    }
  } finally {
    ledger.close()
  }
}

beforeAll(async () => {
  requireBuild()
  let seed = 0
  for (const split of ['train', 'valid'])
    for (const [c, bright] of [['a', false], ['b', true]] as const) {
      mkdirSync(join(data, split, c), { recursive: true })
      for (let i = 0; i < (split === 'train' ? 8 : 4); i++) await writeImage(join(data, split, c, `${i}.png`), seed++, bright)
    }
})
afterAll(async () => {
  sleeper?.kill()
  await close()
  home.remove()
})

let long: number // a long run, stopped at step >= 6 with a checkpoint at step 4 or later
let never: number // queued behind it, never started
let foreign: number // queued by another live process

describe('runs across an app restart', () => {
  it('closing the app marks the running run and the queued one as interrupted, with how to continue each', async () => {
    const { ctx, runs } = await open()
    long = (await startRun(ctx, tiny('long', { steps: 400 }))).runId
    never = (await startRun(ctx, tiny('never started'))).runId
    expect(runs.get(never).status).toBe('queued')
    await metricsOf(runs, long, (m) => m.step >= 6)
    await close()

    const ledger = openLedger(home.dir)
    try {
      const a = getRun(ledger.db, long)!
      expect(a.status).toBe('failed')
      expect(a.lastCheckpointStep).toBeGreaterThanOrEqual(4)
      expect(a.statusReason).toBe(`the app stopped while this run was running; resume it from step ${a.lastCheckpointStep}`)
      const b = getRun(ledger.db, never)!
      expect(b.status).toBe('failed')
      expect(b.startedAt).toBeNull()
      expect(b.lastCheckpointStep).toBeNull()
      expect(b.statusReason).toBe('the app stopped before this run started; resume it to start from step 0')
    } finally {
      ledger.close()
    }
  })

  it("runs a killed process left 'running' / 'queued' are marked on the next start; a live owner's queued run is left alone", async () => {
    // What a main process killed mid-run leaves: statuses as they were, owner.pid of a dead process.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' })
    const ledger = openLedger(home.dir)
    try {
      ledger.db.prepare("UPDATE runs SET status = 'running', status_reason = NULL, finished_at = NULL WHERE id = ?").run(long)
      ledger.db.prepare("UPDATE runs SET status = 'queued', status_reason = NULL, finished_at = NULL WHERE id = ?").run(never)
      for (const id of [long, never]) writeFileSync(join(home.dir, 'runs', String(id), 'owner.pid'), String(dead))
      foreign = createRun(ledger.db, { name: 'owned by another process', task: 'classification', config: {}, modelId: null, modelHash: null, seed: 0, appVersion: 'test' })
      mkdirSync(join(home.dir, 'runs', String(foreign)), { recursive: true })
      writeFileSync(join(home.dir, 'runs', String(foreign), 'owner.pid'), String(sleeper.pid))
    } finally {
      ledger.close()
    }

    const { runs } = await open()
    const a = runs.get(long)
    expect(a.status).toBe('failed')
    expect(a.statusReason).toBe(`the app stopped while this run was running; resume it from step ${a.lastCheckpointStep}`)
    const b = runs.get(never)
    expect(b.status).toBe('failed')
    expect(b.statusReason).toBe('the app stopped before this run started; resume it to start from step 0')
    expect(runs.get(foreign).status).toBe('queued')
    expect(() => runs.resume(foreign)).toThrow(/already queued/)
  })

  it('a run that never started resumes from step 0 with its recorded config and runs to the end', async () => {
    const runs = ctx!.runs
    const first = metricsOf(runs, never, () => true)
    expect(runs.resume(never).runId).toBe(never)
    expect(runs.get(never).statusReason).toBe('starting from step 0')
    expect((await first).step).toBe(1)
    const done = await runs.waitFor(never)
    expect(done.status, done.statusReason ?? '').toBe('done')
    expect(done.step).toBe(6)
    expect(done.startedAt).not.toBeNull()
    const losses = runMetrics(ctx!.ledger.db, never).filter((m) => m.name === 'train/loss')
    expect(losses.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6])
    expect(runCheckpoints(ctx!.ledger.db, never).length).toBeGreaterThan(0)
  })

  it('a run stopped with the app resumes from its newest checkpoint', async () => {
    const runs = ctx!.runs
    const from = runs.get(long).lastCheckpointStep!
    const first = metricsOf(runs, long, () => true)
    runs.resume(long)
    expect(runs.get(long).statusReason).toBe(`resuming from step ${from}`)
    expect((await first).step).toBe(from + 1)
    runs.cancel(long)
    expect((await runs.waitFor(long)).status).toBe('cancelled')
  })
})

describe('deleting runs', () => {
  it('a ledger from before runs could be deleted upgrades; metrics stay append-only while their run exists; ids are not reused', () => {
    const dir = tempHome('marsfm-runs-ledger-')
    try {
      const old = openLedger(dir.dir, { migrations: migrations.filter((m) => m.version < 3) })
      const id = Number(
        old.db.prepare("INSERT INTO runs (name, task, status, config_json, seed, app_version, created_at) VALUES ('old', 'classification', 'done', '{}', 0, 'test', 'now')").run().lastInsertRowid
      )
      appendMetrics(old.db, id, [{ step: 1, name: 'train/loss', value: 1 }])
      addCheckpoint(old.db, { runId: id, step: 1, kind: 'last', path: '/nowhere', metricName: null, metricValue: null })
      expect(() => deleteRun(old.db, id)).toThrow(/append-only/)
      expect(old.db.prepare('SELECT id FROM runs WHERE id = ?').get(id)).toEqual({ id }) // the transaction rolled back (repositories read the latest schema, so plain SQL here)
      old.close()
      const ledger = openLedger(dir.dir)
      expect(() => ledger.db.prepare('DELETE FROM metrics WHERE run_id = ?').run(id)).toThrow(/append-only/)
      expect(deleteRun(ledger.db, id)).toEqual({ unlinkedInferenceJobs: 0, inferredCheckpoints: [] })
      expect(deleteRun(ledger.db, id)).toBeNull()
      expect(ledger.db.prepare('SELECT id, name FROM deleted_runs').all()).toEqual([{ id, name: 'old' }])
      // The deleted run had the highest id: the next run still gets a new one.
      expect(createRun(ledger.db, { name: 'new', task: 'classification', config: {}, modelId: null, modelHash: null, seed: 0, appVersion: 'test' })).toBe(id + 1)
      expect(ledger.db.prepare('SELECT (SELECT COUNT(*) FROM metrics) + (SELECT COUNT(*) FROM checkpoints) AS n').get()).toEqual({ n: 0 })
      expect(ledger.db.pragma('foreign_key_check')).toEqual([])
      ledger.close()
    } finally {
      dir.remove()
    }
  })

  const call = (channel: string, payload: unknown) => ctx!.router.dispatch(channel, payload)
  const message = (reply: Awaited<ReturnType<typeof call>>) => (reply.ok ? '(ok)' : reply.error.message)

  it('refuses a running or queued run: cancel it first', async () => {
    const runs = ctx!.runs
    const busy = (await startRun(ctx!, tiny('busy', { steps: 400 }))).runId
    const behind = (await startRun(ctx!, tiny('behind it'))).runId
    await metricsOf(runs, busy, () => true)
    expect(message(await call('runs:delete', { id: busy }))).toBe(`run #${busy} is running: cancel it first, then delete it`)
    expect(message(await call('runs:delete', { id: behind }))).toBe(`run #${behind} is queued: cancel it first, then delete it`)
    expect(message(await call('runs:delete', { id: foreign }))).toMatch(/is queued: cancel it first/)
    expect(message(await call('runs:delete', { id: 999 }))).toBe('no run #999')
    expect((await call('runs:delete', { runId: busy })).ok).toBe(false) // validated request
    runs.cancel(behind)
    runs.cancel(busy)
    expect((await runs.waitFor(busy)).status).toBe('cancelled')
    expect(getRun(ctx!.ledger.db, busy)).not.toBeNull()
    expect(existsSync(runs.runDir(busy))).toBe(true)
  })

  it('removes the run, its metrics and checkpoints (rows and files) in one go and tells the renderer', async () => {
    const runs = ctx!.runs
    const db = ctx!.ledger.db
    const deleted: number[] = []
    const unsubscribe = ctx!.bus.subscribe((event, payload) => event === 'runs:deleted' && deleted.push((payload as { id: number }).id))
    const ckpt = runCheckpoints(db, long).at(-1)!
    const sha = createHash('sha256').update(readFileSync(ckpt.path)).digest('hex')
    const inference = (status: string, output: unknown = null) =>
      Number(
        db
          .prepare("INSERT INTO inference_jobs (model_id, checkpoint_id, input_json, output_json, status, created_at) VALUES (NULL, ?, '{}', ?, ?, 'now')")
          .run(ckpt.id, output === null ? null : JSON.stringify(output), status).lastInsertRowid
      )
    const finished = inference('done', { checkpoint: { path: ckpt.path, sha256: sha, step: ckpt.step } })
    const running = inference('running')
    expect(message(await call('runs:delete', { id: long }))).toBe(`inference job #${running} is using a checkpoint of run #${long}: wait for it to finish or cancel it first`)
    db.prepare("UPDATE inference_jobs SET status = 'failed' WHERE id = ?").run(running)

    const before = ledgerRows(long)
    expect(before.metrics).toBeGreaterThan(0)
    expect(before.checkpoints).toBeGreaterThan(0)
    expect(existsSync(ckpt.path)).toBe(true)
    // The ONNX graph the finished inference job exported from the checkpoint (cached by content,
    // named in its recorded outcome) goes too; another checkpoint's stays.
    const cache = join(home.dir, 'onnx-cache')
    mkdirSync(cache, { recursive: true })
    writeFileSync(join(cache, `classifier-${sha}-s${ckpt.step}-32px.onnx`), 'graph')
    writeFileSync(join(cache, `classifier-${'0'.repeat(64)}-s1-32px.onnx`), 'graph')
    const reply = await call('runs:delete', { id: long })
    expect(reply.ok, message(reply)).toBe(true)
    expect(ledgerRows(long)).toEqual({ runs: 0, metrics: 0, checkpoints: 0 })
    expect(existsSync(runs.runDir(long))).toBe(false)
    expect(readdirSync(cache)).toEqual([`classifier-${'0'.repeat(64)}-s1-32px.onnx`])
    expect(deleted).toEqual([long])
    // Inference jobs keep their results (their input names the run), without the link.
    const links = db.prepare('SELECT checkpoint_id AS c FROM inference_jobs WHERE id IN (?, ?)').all(finished, running) as { c: number | null }[]
    expect(links).toEqual([{ c: null }, { c: null }])
    expect(runs.list().some((r) => r.id === long)).toBe(false)
    expect(() => runs.resume(long)).toThrow(`no run #${long}`)
    // The metrics of a run that exists stay append-only.
    expect(() => db.prepare('DELETE FROM metrics WHERE run_id = ?').run(never)).toThrow(/append-only/)
    unsubscribe()
  })

  it('refuses a run whose checkpoint a registered model was imported from', async () => {
    const runs = ctx!.runs
    const db = ctx!.ledger.db
    const run = runs.list().find((r) => r.name === 'busy')!
    const path = join(runs.runDir(run.id), 'checkpoints', 'last.safetensors')
    const model = Number(
      db
        .prepare("INSERT INTO models (name, path, sha256, format, config_json, param_count, dtype, report_json, created_at) VALUES ('from a run', ?, 'x', 'safetensors', '{}', 1, 'float32', '{}', 'now')")
        .run(path).lastInsertRowid
    )
    expect(message(await call('runs:delete', { id: run.id }))).toBe(`model #${model} "from a run" is this run's checkpoint (${path}): remove that model first, then delete the run`)
    expect((await call('models:remove', { id: model })).ok).toBe(true)
    expect((await call('runs:delete', { id: run.id })).ok).toBe(true)
    expect(ledgerRows(run.id).runs).toBe(0)
  })

  it('`marsfm train --delete RUN` deletes a run from a shell', async () => {
    await close()
    sleeper?.kill()
    const marsfm = (...args: string[]) => spawnSync(process.execPath, [CLI_ENTRY, 'train', ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 120_000 })
    const ok = marsfm('--delete', String(never))
    expect(ok.status, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(new RegExp(`run #${never} deleted`))
    expect(ledgerRows(never)).toEqual({ runs: 0, metrics: 0, checkpoints: 0 })
    expect(existsSync(join(home.dir, 'runs', String(never)))).toBe(false)
    const again = marsfm('--delete', String(never))
    expect(again.status).toBe(1)
    expect(again.stderr).toMatch(new RegExp(`no run #${never}`))
    expect(marsfm('--delete', 'seven').status).toBe(2)
    expect(marsfm('--delete', String(foreign), '--resume', String(foreign)).status).toBe(2)
  })
})

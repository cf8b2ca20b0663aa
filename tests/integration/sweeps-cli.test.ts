// The sweep from a shell and on a cluster, with real runs and real ledgers:
//   - `marsfm sweep --config sweep.json` runs a sweep in the foreground with a line per trial and
//     exits 0; Ctrl-C cancels it (exit 1, the sweep cancelled in the ledger);
//   - `--emit slurm --out DIR` writes the job array; its script, run as two array tasks, trains
//     each trial with `marsfm train` in its own MARSFM_HOME;
//   - `marsfm ledger merge` brings both homes (moved, as after copying them back from a cluster)
//     into a third ledger: runs, metrics, checkpoint files and the model they used, ids remapped;
//     merging again adds nothing.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prithvi100m } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { writeSafetensors } from '@engine/checkpoint'
import { CLI_ENTRY, ROOT, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder, sharedDataAvailable } from '../support/training-data'

const TINY = prithvi100m({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2 })
const tmp = tempHome('marsfm-sweeps-cli-')
const data = join(tmp.dir, 'landmarks')
const mine = join(tmp.dir, 'my-home')
const modelFile = join(tmp.dir, 'tiny.safetensors')

function marsfm(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { cwd: tmp.dir, env: { ...process.env, MARSFM_HOME: mine, ...env }, encoding: 'utf8', timeout: 300_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function sweepFile(name: string, body: Record<string, unknown>): string {
  const path = join(tmp.dir, `${name}.json`)
  writeFileSync(path, JSON.stringify(body))
  return path
}

const base = (over: Record<string, unknown> = {}) => ({
  // Relative to the sweep file's folder.
  data: 'landmarks',
  model: { random: TINY },
  config: { task: 'classification', steps: 2, batchSize: 4, optimizer: { name: 'adamw', lr: 1e-3 }, eval: { everySteps: 2, maxImages: 8 }, ...over }
})

function counts(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    return { runs: n('SELECT COUNT(*) AS n FROM runs'), metrics: n('SELECT COUNT(*) AS n FROM metrics'), checkpoints: n('SELECT COUNT(*) AS n FROM checkpoints'), models: n(`SELECT COUNT(*) AS n FROM models WHERE source NOT IN ('demo', 'demo-crater')`) }
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  requireBuild()
  if (!sharedDataAvailable()) throw new Error('../shared/data is missing (HiRISE landmark tiles)')
  landmarkImageFolder(data, { trainPerClass: 6, validPerClass: 4 })
  await writeSafetensors(modelFile, randomWeights(TINY, 11, { decoder: true }))
})
afterAll(() => tmp.remove())

describe('marsfm sweep', () => {
  it('runs a sweep in the foreground with a line per trial and the best run', () => {
    const r = marsfm(['sweep', '--config', sweepFile('fg', { name: 'fg', base: base(), parameters: { dropout: { values: [0, 0.5] } } })])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^sweep #1 "fg": 2 trial\(s\) \(grid\), ranked by val\/balanced_accuracy \(max\)/)
    expect(r.out).toMatch(/trial 1\/2 run #1 started: dropout=0/)
    expect(r.out).toMatch(/trial 2\/2 done: val\/balanced_accuracy \d/)
    expect(r.out).toMatch(/sweep #1 done: 2 done/)
    expect(r.out).toMatch(/best: trial [12], run #[12], val\/balanced_accuracy /)
    expect(counts(join(mine, 'ledger.sqlite')).runs).toBe(2)
  })

  it('refuses a bad spec with a usage error naming the key, before anything starts', () => {
    const r = marsfm(['sweep', '--config', sweepFile('bad', { name: 'bad', base: base(), parameters: { 'optimizer.lrr': { values: [1] } } })])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/unknown run-config key "optimizer\.lrr"/)
  })

  it('Ctrl-C cancels the sweep: the running trial stops, the pending ones are dropped', async () => {
    const file = sweepFile('long', { name: 'long', base: base({ steps: 2000, eval: { everySteps: 1000, maxImages: 4 } }), parameters: { seed: { values: [1, 2] } } })
    const child = spawn(process.execPath, [CLI_ENTRY, 'sweep', '--config', file], { cwd: tmp.dir, env: { ...process.env, MARSFM_HOME: mine } })
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += String(d)))
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d) => {
        out += String(d)
        if (/trial 1\/2 run #\d+ started/.test(out) && !child.killed) setTimeout(() => child.kill('SIGINT'), 1500)
      })
      child.on('exit', (c) => resolve(c))
    })
    expect(err).toMatch(/cancelling the sweep/)
    expect(code).toBe(1)
    expect(out).toMatch(/sweep #\d+ cancelled/)
    const listed = JSON.parse(marsfm(['sweep', '--list', '--json']).out) as { name: string; status: string; counts: Record<string, number> }[]
    const long = listed.find((s) => s.name === 'long')!
    expect(long.status).toBe('cancelled')
    expect(long.counts).toEqual({ cancelled: 2 })
  })

  it('a sweep whose process is killed (with its engine) continues with --resume: the trial resumes, the pending one runs', async () => {
    const file = sweepFile('killed', { name: 'killed', base: base({ steps: 24, eval: { everySteps: 12, maxImages: 4 }, checkpoint: { everySteps: 6 } }), parameters: { seed: { values: [1, 2] } } })
    const child = spawn(process.execPath, [CLI_ENTRY, 'sweep', '--config', file], { cwd: tmp.dir, env: { ...process.env, MARSFM_HOME: mine } })
    let out = ''
    let killed = false
    const sweepId = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += String(d)
        // After its first evaluation (step 12, with checkpoints at 6 and 12): kill the CLI and its engine.
        if (/trial 1 eval step 12\/24/.test(out) && !killed) {
          killed = true
          const engines = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean).map(Number)
          child.kill('SIGKILL')
          for (const pid of engines) process.kill(pid, 'SIGKILL')
        }
      })
      // Reaped (as a shell reaps it): a dead driver, not a zombie that still looks alive.
      child.on('exit', () => (killed ? resolve(Number(/^sweep #(\d+)/m.exec(out)![1])) : reject(new Error(`the sweep ended before it was killed:\n${out}`))))
    })
    const resumed = marsfm(['sweep', '--resume', String(sweepId)])
    expect(resumed.err).toBe('')
    expect(resumed.code).toBe(0)
    expect(resumed.out).toMatch(/trial 1\/2 done/)
    expect(resumed.out).toMatch(/trial 2\/2 run #\d+ started/)
    expect(resumed.out).toMatch(new RegExp(`sweep #${sweepId} done: 2 done`))
    // The interrupted run continued from its checkpoint: each step's loss once.
    const runId = Number(/trial 1\/2 run #(\d+) started/.exec(out)![1])
    const db = new Database(join(mine, 'ledger.sqlite'), { readonly: true })
    const steps = (db.prepare(`SELECT step FROM metrics WHERE run_id = ? AND name = 'train/loss' ORDER BY step`).all(runId) as { step: number }[]).map((r) => r.step)
    db.close()
    expect(steps).toEqual(Array.from({ length: 24 }, (_, i) => i + 1))
  })
})

describe('Slurm export and ledger merge', () => {
  const array = join(tmp.dir, 'array')
  it('writes a job array whose tasks train in their own homes, and the merge brings them back once', () => {
    const spec = sweepFile('hpc', { name: 'hpc lr', base: { ...base(), model: { path: modelFile } }, parameters: { 'optimizer.lr': { values: [1e-3, 3e-3] } } })
    const emitted = marsfm(['sweep', '--config', spec, '--emit', 'slurm', '--out', array, '--time', '00:30:00', '--sbatch', 'mem=4G', '--sbatch=--gres=gpu:1', '--marsfm', `${process.execPath} ${join(ROOT, 'bin', 'marsfm.js')}`])
    expect(emitted.err).toBe('')
    expect(emitted.code).toBe(0)
    const script = readFileSync(join(array, 'sweep.sbatch'), 'utf8')
    expect(script).toMatch(/^#SBATCH --array=0-1$/m)
    expect(script).toMatch(/^#SBATCH --time=00:30:00$/m)
    expect(script).toMatch(/^#SBATCH --mem=4G$/m)
    expect(script).toMatch(/^#SBATCH --gres=gpu:1$/m)
    expect(script).toContain('export MARSFM_HOME="$SWEEP_DIR/homes/$TASK"')
    const trial1 = JSON.parse(readFileSync(join(array, 'trials', '1.json'), 'utf8')) as { optimizer: { lr: number }; data: { path: string } }
    expect(trial1.optimizer.lr).toBe(3e-3)
    expect(trial1.data.path).toBe(data)
    // Emitting again into the same folder is refused (nothing overwritten).
    expect(marsfm(['sweep', '--config', spec, '--emit', 'slurm', '--out', array]).err).toMatch(/is not empty/)

    // The array's two tasks, as Slurm runs them: the script with SLURM_ARRAY_TASK_ID set.
    for (const task of ['0', '1']) {
      const r = spawnSync('bash', [join(array, 'sweep.sbatch')], { env: { ...process.env, SLURM_ARRAY_TASK_ID: task, MARSFM_HOME: '' }, encoding: 'utf8', timeout: 300_000 })
      expect(r.stderr).not.toMatch(/error/i)
      expect(r.status).toBe(0)
      expect(r.stdout).toMatch(/run #1 done/)
    }
    // Without the array id the script says how to submit it.
    const bare = spawnSync('bash', [join(array, 'sweep.sbatch')], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '' }, encoding: 'utf8' })
    expect(bare.status).not.toBe(0)
    expect(bare.stderr).toMatch(/submit this script with sbatch/)

    // Copied back from the cluster to another path: checkpoint paths in the ledgers point to where they were.
    const back = join(tmp.dir, 'copied-back')
    mkdirSync(back)
    renameSync(join(array, 'homes'), join(back, 'homes'))
    const homes = ['0', '1'].map((t) => join(back, 'homes', t))
    const sources = homes.map((h) => counts(join(h, 'ledger.sqlite')))
    for (const s of sources) expect(s).toMatchObject({ runs: 1, models: 1 })
    const before = counts(join(mine, 'ledger.sqlite'))

    const merged = marsfm(['ledger', 'merge', ...homes, '--json'])
    expect(merged.err).toBe('')
    expect(merged.code).toBe(0)
    const reports = JSON.parse(merged.out) as { runsAdded: number; runsAlready: number; metrics: number; checkpoints: number; modelsAdded: number; idMap: Record<string, number> }[]
    expect(reports.map((r) => r.runsAdded)).toEqual([1, 1])
    // The same weights in both homes: one model row here.
    expect(reports.map((r) => r.modelsAdded)).toEqual([1, 0])
    const after = counts(join(mine, 'ledger.sqlite'))
    expect(after.runs).toBe(before.runs + 2)
    expect(after.metrics).toBe(before.metrics + sources[0]!.metrics + sources[1]!.metrics)
    expect(after.checkpoints).toBe(before.checkpoints + sources[0]!.checkpoints + sources[1]!.checkpoints)
    expect(after.models).toBe(before.models + 1)

    // Ids remapped (both homes had run #1); metrics and checkpoint files came along.
    const newIds = reports.map((r) => r.idMap['1']!)
    expect(new Set(newIds).size).toBe(2)
    const db = new Database(join(mine, 'ledger.sqlite'), { readonly: true })
    for (const [i, id] of newIds.entries()) {
      const src = new Database(join(homes[i]!, 'ledger.sqlite'), { readonly: true })
      const metricsOf = (d: Database.Database, run: number) => d.prepare('SELECT step, name, value FROM metrics WHERE run_id = ? ORDER BY rowid').all(run)
      expect(metricsOf(db, id)).toEqual(metricsOf(src, 1))
      const run = db.prepare('SELECT uuid, config_json, model_id FROM runs WHERE id = ?').get(id) as { uuid: string; config_json: string; model_id: number }
      expect(run.uuid).toBe((src.prepare('SELECT uuid FROM runs WHERE id = 1').get() as { uuid: string }).uuid)
      expect(JSON.parse(run.config_json).optimizer.lr).toBe([1e-3, 3e-3][i])
      const model = db.prepare('SELECT sha256 FROM models WHERE id = ?').get(run.model_id) as { sha256: string }
      expect(model.sha256).toBe((src.prepare('SELECT sha256 FROM models LIMIT 1').get() as { sha256: string }).sha256)
      const ckpts = db.prepare('SELECT path, kind, step FROM checkpoints WHERE run_id = ?').all(id) as { path: string; kind: string; step: number }[]
      const srcCkpts = src.prepare('SELECT path, kind, step FROM checkpoints WHERE run_id = 1').all() as { path: string; kind: string; step: number }[]
      expect(ckpts.map((c) => [c.kind, c.step])).toEqual(srcCkpts.map((c) => [c.kind, c.step]))
      for (const [k, c] of ckpts.entries()) {
        expect(c.path.startsWith(join(mine, 'runs', String(id), 'checkpoints'))).toBe(true)
        const original = join(homes[i]!, 'runs', '1', 'checkpoints', c.path.split('/').pop()!)
        expect(statSync(c.path).size).toBe(statSync(original).size)
        expect(srcCkpts[k]!.path.startsWith(array)).toBe(true)
      }
      src.close()
    }
    db.close()

    // Merging again adds nothing.
    const again = marsfm(['ledger', 'merge', ...homes, '--json'])
    expect(again.code).toBe(0)
    expect((JSON.parse(again.out) as { runsAdded: number; runsAlready: number }[]).map((r) => [r.runsAdded, r.runsAlready])).toEqual([[0, 1], [0, 1]])
    expect(counts(join(mine, 'ledger.sqlite'))).toEqual(after)

    // The merged runs are ordinary runs here: listed by the CLI.
    const listed = marsfm(['sweep', '--list'])
    expect(listed.code).toBe(0)
  })

  it('a sweep on a dataset version: the version is exported for the array, and merged runs belong to it again', () => {
    // A small frozen version in this ledger (20 landmark tiles, split by observation).
    const folder = join(tmp.dir, 'small')
    const lines = readFileSync(join(SHARED_DATA, 'hirise-landmarks-v1', 'labels-map-proj.txt'), 'utf8').trim().split(/\r?\n/).map((l) => l.trim().split(/\s+/))
    const taken = [0, 0]
    for (const [file, cls] of lines) {
      const k = cls === '1' ? 1 : 0
      if (cls === '6' || taken[k]! >= 10) continue
      taken[k]!++
      mkdirSync(join(folder, k ? 'crater' : 'other'), { recursive: true })
      symlinkSync(join(SHARED_DATA, 'hirise-landmarks-v1', 'map-proj', file!), join(folder, k ? 'crater' : 'other', file!))
    }
    for (const args of [['dataset', 'import', 'small', folder, '--format', 'imagefolder'], ['dataset', 'split', 'small'], ['dataset', 'freeze', 'small']]) expect(marsfm(args).code).toBe(0)
    const versionId = (JSON.parse(marsfm(['dataset', 'list', 'small', '--json']).out) as { id: number }[])[0]!.id
    const out = join(tmp.dir, 'array-version')
    const spec = sweepFile('hpc-version', { name: 'on a version', base: { ...base(), data: `version:${versionId}` }, parameters: { seed: { values: [4] } } })
    expect(marsfm(['sweep', '--config', spec, '--emit', 'slurm', '--out', out]).code).toBe(0)
    const trial = JSON.parse(readFileSync(join(out, 'trials', '0.json'), 'utf8')) as { data: { kind: string; path: string } }
    expect(trial.data).toEqual({ kind: 'folder', path: join(out, 'data', `version-${versionId}-imagefolder`), layout: 'imagefolder' })
    expect(readdirSync(join(trial.data.path, 'train')).length).toBe(2)
    const r = spawnSync('bash', [join(out, 'sweep.sbatch')], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '0', MARSFM: `${process.execPath} ${join(ROOT, 'bin', 'marsfm.js')}` }, encoding: 'utf8', timeout: 300_000 })
    expect(r.status).toBe(0)
    const merged = JSON.parse(marsfm(['ledger', 'merge', join(out, 'homes', '0'), '--json']).out) as { idMap: Record<string, number> }[]
    const db = new Database(join(mine, 'ledger.sqlite'), { readonly: true })
    const row = db.prepare('SELECT dataset_version_id AS v FROM runs WHERE id = ?').get(merged[0]!.idMap['1']) as { v: number }
    db.close()
    expect(row.v).toBe(versionId)
  })

  it('one home that cannot be merged is reported and the others still merge (exit 3)', () => {
    const other = join(tmp.dir, 'not-a-home')
    mkdirSync(other)
    const r = marsfm(['ledger', 'merge', other, join(tmp.dir, 'copied-back', 'homes', '0')])
    expect(r.code).toBe(3)
    expect(r.err).toMatch(/holds no ledger/)
    expect(r.out).toMatch(/0 run\(s\) added .*1 already here/)
    expect(existsSync(join(other, 'ledger.sqlite'))).toBe(false)
  })
})

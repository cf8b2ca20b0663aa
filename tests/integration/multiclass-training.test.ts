// Multi-class fine-tuning from a real landmark list imported with its classes kept: the run
// trains on all five classes (edge dropped at import) with cross-entropy, and its live confusion
// matrix and per-class scores cover all five. A few steps of the small demo model at 64 px on the
// CPU: the point is the classes, not the accuracy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAppContext, type AppContext } from '@main/app/context'
import { startRun } from '@main/runs/start'
import type { Channel, ResponseOf, RequestOf } from '@shared/ipc/contract'
import type { RunConfigInput } from '@shared/ipc/schemas/runs'
import { perClassScores } from '@shared/training/per-class'
import { classFromFolder } from '@shared/datasets/classes'
import { ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1')

let ctx: AppContext
let home: { dir: string; remove(): void }

async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const env = await ctx.router.dispatch(channel, request)
  if (!env.ok) throw new Error(`${env.error.name}: ${env.error.message}`)
  return env.value as ResponseOf<C>
}

beforeAll(async () => {
  requireBuild()
  home = tempHome()
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
}, 120_000)
afterAll(async () => {
  await ctx?.close()
  home?.remove()
})

describe('multi-class fine-tuning', () => {
  it('trains on every kept class; the confusion matrix and per-class scores cover them all', async () => {
    // Eight tiles of each class from the real list, taken across its length so several observations make each class.
    const byClass = new Map<string, string[]>()
    for (const l of readFileSync(join(LANDMARKS, 'labels-map-proj.txt'), 'utf8').split(/\r?\n/).filter(Boolean)) {
      const c = l.split(/\s+/)[1]!
      byClass.set(c, [...(byClass.get(c) ?? []), l])
    }
    const list = join(home.dir, 'labels.txt')
    writeFileSync(list, [...byClass.values()].flatMap((ls) => Array.from({ length: 8 }, (_, i) => ls[Math.floor((i * ls.length) / 8)]!)).join('\n') + '\n')
    const ds = (await call('datasets:create', { name: 'five-classes' })).id
    const started = await call('datasets:import-format', { datasetId: ds, format: 'landmarks', path: list, imagesDir: join(LANDMARKS, 'map-proj'), classMapping: { mode: 'keep', drop: ['edge'] } })
    expect((await ctx.jobs.waitFor(started.jobId)).state).toBe('done')
    await call('datasets:split', { datasetId: ds, seed: 2, ratios: { train: 0.6, valid: 0.4, test: 0 } })
    const version = await call('datasets:freeze', { datasetId: ds })
    expect(version.classMappings[0]!.map.edge).toBeNull()

    const events: { confusion?: number[][]; classNames?: string[] }[] = []
    const unsubscribe = ctx.bus.subscribe((event, payload) => event === 'runs:metrics' && events.push(payload as (typeof events)[number]))
    const config: RunConfigInput = {
      name: 'five classes',
      task: 'classification',
      model: { demo: true },
      data: { kind: 'dataset-version', id: version.id },
      imgSize: 64,
      steps: 4,
      batchSize: 4,
      seed: 1,
      optimizer: { name: 'adamw', lr: 3e-4 },
      eval: { everySteps: 4, maxImages: 0 },
      checkpoint: { everySteps: 0 }
    }
    const { runId } = await startRun(ctx, config)
    const run = await ctx.runs.waitFor(runId)
    unsubscribe()
    expect(run.status, run.statusReason ?? '').toBe('done')
    const evaluated = events.find((e) => e.confusion)!
    // The run reads the version's ImageFolder export: its class folders are the dataset's classes.
    expect(evaluated.classNames!.map(classFromFolder).sort()).toEqual(['bright-dune', 'crater', 'dark-dune', 'other', 'slope-streak'])
    expect(evaluated.confusion).toHaveLength(5)
    expect(evaluated.confusion!.every((row) => row.length === 5)).toBe(true)
    const scores = perClassScores(evaluated.confusion!, evaluated.classNames!)
    const valid = await call('tiles:list', { datasetId: ds, split: 'valid' })
    expect(scores.reduce((a, s) => a + s.support, 0)).toBe(valid.total)
    for (const s of scores) expect(s.support, s.className).toBe(valid.tiles.filter((t) => t.label === classFromFolder(s.className)).length)
  }, 600_000)
})

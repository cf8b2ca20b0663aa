// Class mapping at import and label corrections, through the real router on a real temporary
// ledger with the real landmark list (../shared/data/hirise-landmarks-v1): the classes found, a
// mapping recorded in the version and its export, a dropped class absent everywhere; a person's
// correction of an imported label winning, or going to adjudication, with the header, the split
// and the export counting the same tiles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAppContext, type AppContext } from '@main/app/context'
import type { Channel, ResponseOf, RequestOf } from '@shared/ipc/contract'
import type { ImportSummary } from '@shared/ipc/schemas/datasets'
import { folderFromClass } from '@shared/datasets/classes'
import { CLI_ENTRY, ENGINE_ENTRY, SHARED_DATA, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const LANDMARKS = join(SHARED_DATA, 'hirise-landmarks-v1')
const LIST = join(LANDMARKS, 'labels-map-proj.txt')

let ctx: AppContext
let home: { dir: string; remove(): void }
let subset: string

async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const env = await ctx.router.dispatch(channel, request)
  if (!env.ok) throw new Error(`${env.error.name}: ${env.error.message}`)
  return env.value as ResponseOf<C>
}

async function job<T>(started: Promise<{ jobId: string }>): Promise<T> {
  const view = await ctx.jobs.waitFor((await started).jobId)
  if (view.state !== 'done') throw new Error(`job ${view.state}: ${view.error?.message}`)
  return view.result as T
}

const summaryOf = async (datasetId: number) => (await call('datasets:list', {})).find((d) => d.id === datasetId)!

/** Tiles per class in an ImageFolder export (every split). */
function exportedCounts(dir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const split of readdirSync(dir).filter((s) => ['train', 'valid', 'test'].includes(s))) {
    for (const cls of readdirSync(join(dir, split))) out[cls] = (out[cls] ?? 0) + readdirSync(join(dir, split, cls)).length
  }
  return out
}

beforeAll(async () => {
  home = tempHome()
  // The real list's first 14 lines of each class (whole observations differ across them), beside
  // the real images: a real label list small enough to import in seconds.
  const lines = readFileSync(LIST, 'utf8').split(/\r?\n/).filter(Boolean)
  const byClass = new Map<string, string[]>()
  for (const l of lines) {
    const c = l.split(/\s+/)[1]!
    byClass.set(c, [...(byClass.get(c) ?? []), l])
  }
  subset = join(home.dir, 'labels-subset.txt')
  writeFileSync(subset, [...byClass.values()].flatMap((ls) => ls.slice(0, 14)).join('\n') + '\n')
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, startEngine: false, engineEntry: ENGINE_ENTRY, echoLog: false })
})
afterAll(async () => {
  await ctx?.close()
  home?.remove()
})

describe('class mapping at import', () => {
  it('lists the real landmark list\'s classes with counts before importing', async () => {
    const found = await call('datasets:import-classes', { format: 'landmarks', path: LIST })
    const counts = Object.fromEntries(found.classes.map((c) => [c.name, c.count]))
    expect(counts).toEqual({ other: 1273, crater: 282, 'dark-dune': 232, 'slope-streak': 25, 'bright-dune': 95, edge: 521 })
    expect(found.unit).toBe('labels')
    expect(found.defaultMapping).toEqual({ mode: 'crater-vs-rest', drop: ['edge'] })
    expect((await call('datasets:list', {})).length).toBe(0) // nothing imported
  })

  it('keeps all classes but edge: a 5-class dataset, the mapping in the version and its export, edge absent', async () => {
    const ds = (await call('datasets:create', { name: 'landmarks-5' })).id
    const summary = await job<ImportSummary>(
      call('datasets:import-format', { datasetId: ds, format: 'landmarks', path: subset, imagesDir: join(LANDMARKS, 'map-proj'), classMapping: { mode: 'keep', drop: ['edge'] } })
    )
    expect(summary.failed).toEqual([])
    expect(summary.imported).toBe(14 * 5)
    expect(summary.notes.join('\n')).toMatch(/14 images of dropped classes left out \(edge 14\)/)
    const d = await summaryOf(ds)
    expect(d.classes).toEqual(['crater', 'bright-dune', 'dark-dune', 'other', 'slope-streak'])
    expect(d.labelled).toBe(70)
    expect(d.classMappings).toHaveLength(1)
    expect(d.classMappings[0]).toMatchObject({ format: 'landmarks', mode: 'keep', drop: ['edge'], map: { edge: null, crater: 'crater', other: 'other' }, counts: { edge: 14, crater: 14 } })
    const { tiles } = await call('tiles:list', { datasetId: ds })
    expect(new Set(tiles.map((t) => t.label))).toEqual(new Set(d.classes))
    expect(tiles.some((t) => t.labels.some((l) => l.className === 'edge'))).toBe(false)

    await call('datasets:split', { datasetId: ds, seed: 1 })
    const v = await call('datasets:freeze', { datasetId: ds, note: '5 classes' })
    expect(v.classMappings[0]).toMatchObject({ mode: 'keep', map: { edge: null } })
    const out = join(home.dir, 'lm5-imagefolder')
    await job(call('datasets:export', { versionId: v.id, format: 'imagefolder', outDir: out }))
    const exported = exportedCounts(out)
    expect(Object.keys(exported).sort()).toEqual(d.classes.map(folderFromClass).sort())
    expect(Object.values(exported).every((n) => n === 14)).toBe(true)
    const marker = JSON.parse(readFileSync(join(out, 'dataset-version.json'), 'utf8'))
    expect(marker.classMappings[0]).toMatchObject({ format: 'landmarks', mode: 'keep', map: { edge: null } })
  })

  it('merges into crater vs rest by default and says so; a custom map renames and drops', async () => {
    const ds = (await call('datasets:create', { name: 'landmarks-binary' })).id
    const summary = await job<ImportSummary>(call('datasets:import-format', { datasetId: ds, format: 'landmarks', path: subset, imagesDir: join(LANDMARKS, 'map-proj') }))
    expect(summary.notes.join('\n')).toMatch(/classes \(labels\) crater-vs-rest: other → no-crater, crater, .*bright-dune → no-crater; dropped edge/)
    const d = await summaryOf(ds)
    expect(d.classes).toEqual(['crater', 'no-crater'])
    const { tiles } = await call('tiles:list', { datasetId: ds })
    expect(tiles.filter((t) => t.label === 'crater')).toHaveLength(14)
    expect(tiles.filter((t) => t.label === 'no-crater')).toHaveLength(14 * 4)

    const custom = (await call('datasets:create', { name: 'landmarks-dunes' })).id
    await job(
      call('datasets:import-format', {
        datasetId: custom,
        format: 'landmarks',
        path: subset,
        imagesDir: join(LANDMARKS, 'map-proj'),
        classMapping: { mode: 'custom', map: { 'dark-dune': 'dune', 'bright-dune': 'dune', 'slope-streak': null, edge: null }, drop: [] }
      })
    )
    const c = await summaryOf(custom)
    expect(c.classes).toEqual(['crater', 'dune', 'other'])
    expect((await call('tiles:list', { datasetId: custom, label: 'dune' })).total).toBe(28)
    expect(c.classMappings[0]!.map).toMatchObject({ 'slope-streak': null, 'dark-dune': 'dune' })
  })

  it('maps shape classes too: YOLO class ids kept, renamed or dropped (real boxes, one class added)', async () => {
    // Four real pictures with their real crater boxes; a second class (1) is added to two of them.
    const root = join(home.dir, 'yolo')
    const src = join(SHARED_DATA, 'mars-crater-boxes')
    const names = readdirSync(join(src, 'images', 'train')).sort().slice(0, 4)
    mkdirSync(join(root, 'images', 'train'), { recursive: true })
    mkdirSync(join(root, 'labels', 'train'), { recursive: true })
    let craters = 0
    names.forEach((n, i) => {
      copyFileSync(join(src, 'images', 'train', n), join(root, 'images', 'train', n))
      const stem = n.replace(/\.jpg$/, '')
      const boxes = readFileSync(join(src, 'labels', 'train', `${stem}.txt`), 'utf8').trim()
      craters += boxes ? boxes.split('\n').length : 0
      writeFileSync(join(root, 'labels', 'train', `${stem}.txt`), `${boxes}\n${i < 2 ? '1 0.5 0.5 0.1 0.1\n' : ''}`)
    })
    const found = await call('datasets:import-classes', { format: 'yolo', path: root })
    expect(found.unit).toBe('shapes')
    expect(found.classes).toEqual([{ name: 'crater', count: craters }, { name: 'class-1', count: 2 }].filter((c) => c.count))
    expect(found.defaultMapping).toEqual({ mode: 'keep', drop: [] })

    const renamed = (await call('datasets:create', { name: 'yolo-renamed', task: 'segmentation' })).id
    const a = await job<ImportSummary>(call('datasets:import-format', { datasetId: renamed, format: 'yolo', path: root, classMapping: { mode: 'custom', map: { 'class-1': 'boulder' }, drop: [] } }))
    expect(a.annotationsAdded).toBe(craters + 2)
    const shapesOf = (datasetId: number) => ctx.ledger.db.prepare('SELECT a.class_name AS c, COUNT(*) AS n FROM annotations a JOIN tiles t ON t.id = a.tile_id WHERE t.dataset_id = ? GROUP BY a.class_name ORDER BY c').all(datasetId)
    expect(shapesOf(renamed)).toEqual([{ c: 'boulder', n: 2 }, { c: 'crater', n: craters }])

    const dropped = (await call('datasets:create', { name: 'yolo-dropped', task: 'segmentation' })).id
    const b = await job<ImportSummary>(call('datasets:import-format', { datasetId: dropped, format: 'yolo', path: root, classMapping: { mode: 'keep', drop: ['class-1'] } }))
    expect(b.notes.join('\n')).toMatch(/2 shapes of dropped classes left out/)
    expect(shapesOf(dropped)).toEqual([{ c: 'crater', n: craters }])
    expect((await summaryOf(dropped)).classMappings[0]).toMatchObject({ format: 'yolo', map: { crater: 'crater', 'class-1': null }, counts: { 'class-1': 2 } })
  })

  it('refuses a mapping to an unusable class name at the contract', async () => {
    const ds = (await summaryOf((await call('datasets:list', {}))[0]!.id)).id
    await expect(call('datasets:import-format', { datasetId: ds, format: 'landmarks', path: subset, classMapping: { mode: 'custom', map: { crater: 'Big Crater' } } } as never)).rejects.toThrow(/ValidationError.*classMapping/)
  })
})

describe('label corrections', () => {
  let ds: number
  let corrected: number[]
  it('a correction of an imported label wins: header, split and export agree', async () => {
    ds = (await call('datasets:create', { name: 'corrections' })).id
    await job(call('datasets:import-format', { datasetId: ds, format: 'landmarks', path: subset, imagesDir: join(LANDMARKS, 'map-proj') }))
    const { tiles } = await call('tiles:list', { datasetId: ds, label: 'no-crater' })
    corrected = tiles.slice(0, 4).map((t) => t.id)
    await call('labels:set', { tileIds: corrected, className: 'crater', annotator: 'alice' })
    const after = (await call('tiles:list', { datasetId: ds })).tiles
    const fixed = after.filter((t) => corrected.includes(t.id))
    expect(fixed.every((t) => t.label === 'crater' && t.labelStatus === 'corrected')).toBe(true)
    expect(fixed[0]!.labels).toEqual([
      { annotator: 'alice', className: 'crater', origin: 'manual' },
      { annotator: 'landmarks', className: 'no-crater', origin: 'import' }
    ])
    await expectCountsAgree(ds, { crater: 18, 'no-crater': 52 }, 0)
  })

  it('under the adjudicate policy the same tiles wait for a decision, then count once decided', async () => {
    await call('datasets:update', { datasetId: ds, labelPolicy: 'adjudicate' })
    const conflicts = await call('tiles:list', { datasetId: ds, conflict: true })
    expect(conflicts.tiles.map((t) => t.id).sort()).toEqual([...corrected].sort())
    expect(conflicts.tiles.every((t) => t.label === null && t.labelStatus === 'conflict')).toBe(true)
    await expectCountsAgree(ds, { crater: 14, 'no-crater': 52 }, 4)

    await call('labels:adjudicate', { tileIds: corrected.slice(0, 3), className: 'no-crater', annotator: 'lead' })
    await expect(call('labels:adjudicate', { tileIds: [corrected[3]!], className: 'dune' })).rejects.toThrow(/not a class/)
    const decided = (await call('tiles:list', { datasetId: ds })).tiles.filter((t) => corrected.slice(0, 3).includes(t.id))
    expect(decided.every((t) => t.label === 'no-crater' && t.labelStatus === 'adjudicated')).toBe(true)
    expect(decided[0]!.labels.map((l) => l.annotator)).toEqual(['alice', 'landmarks', 'lead']) // who said what is kept
    await expectCountsAgree(ds, { crater: 14, 'no-crater': 55 }, 1)
  })

  /** The header's counts, the split's and an ImageFolder export's are the same tiles. */
  async function expectCountsAgree(datasetId: number, byClass: Record<string, number>, conflicts: number) {
    const total = Object.values(byClass).reduce((a, b) => a + b, 0)
    const head = await summaryOf(datasetId)
    expect(head.labelled).toBe(total)
    expect(head.conflicts).toBe(conflicts)
    const split = await call('datasets:split', { datasetId, seed: 7, ratios: { train: 0.7, valid: 0.3, test: 0 } })
    const splitCounts: Record<string, number> = {}
    for (const s of ['train', 'valid', 'test', 'none']) for (const [k, n] of Object.entries(split.byClass[s] ?? {})) splitCounts[k] = (splitCounts[k] ?? 0) + n
    expect(splitCounts).toEqual(conflicts ? { ...byClass, 'in conflict': conflicts } : byClass)
    const v = await call('datasets:freeze', { datasetId })
    expect(Object.values(v.counts).reduce((a, b) => a + b, 0)).toBe(total + conflicts)
    if (conflicts) expect(Object.entries(v.counts).filter(([k]) => k.endsWith('/in conflict')).reduce((a, [, n]) => a + n, 0)).toBe(conflicts)
    const out = join(home.dir, `export-${datasetId}-${v.version}`)
    const result = await job<{ tiles: number; skipped: { reason: string; tiles: number }[] }>(call('datasets:export', { versionId: v.id, format: 'imagefolder', outDir: out }))
    expect(result.tiles).toBe(total)
    expect(result.skipped).toEqual(conflicts ? [{ reason: 'labels in conflict (adjudicate them)', tiles: conflicts }] : [])
    expect(exportedCounts(out)).toEqual(Object.fromEntries(Object.entries(byClass).map(([k, n]) => [folderFromClass(k), n])))
    expect(v.labelPolicy).toBe(head.labelPolicy)
  }
})

describe('existing ledgers', () => {
  it('marks labels of the import formats as imported when migrating', () => {
    expect(existsSync(join(home.dir, 'ledger.sqlite'))).toBe(true)
    const origins = ctx.ledger.db.prepare("SELECT origin, COUNT(*) AS n FROM labels WHERE annotator = 'landmarks' GROUP BY origin").all() as { origin: string; n: number }[]
    expect(origins.map((o) => o.origin)).toEqual(['import'])
  })
})

describe('marsfm dataset', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir, USER: 'cli-user' }, encoding: 'utf8', timeout: 120_000 })

  it('lists a source\'s classes, imports with --classes map.json and --drop, shows the mapping of a version', () => {
    requireBuild()
    const found = cli('dataset', 'classes', LIST, '--format', 'landmarks', '--json')
    expect(found.status).toBe(0)
    expect(JSON.parse(found.stdout).classes).toContainEqual({ name: 'edge', count: 521 })
    const map = join(home.dir, 'map.json')
    writeFileSync(map, JSON.stringify({ 'Dark Dune': 'dune', 'bright-dune': 'dune' }))
    const r = cli('dataset', 'import', 'cli-dunes', subset, '--format', 'landmarks', '--images-dir', join(LANDMARKS, 'map-proj'), '--classes', map, '--drop', 'edge', '--drop', 'slope-streak')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/classes \(labels\) custom: .*dark-dune → dune.*; dropped (edge, slope-streak|slope-streak, edge)/)
    expect(r.stdout).toMatch(/dataset classes: crater, dune, other/)
    expect(cli('dataset', 'freeze', 'cli-dunes').status).toBe(0)
    const listed = cli('dataset', 'list', 'cli-dunes')
    expect(listed.stdout).toMatch(/classes from landmarks .*labels-subset\.txt: custom: .*bright-dune → dune.*dropped/)
    const bad = cli('dataset', 'import', 'cli-bad', subset, '--format', 'landmarks', '--classes', 'everything')
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/--classes is keep, crater-vs-rest or a map file/)
    writeFileSync(map, '{"crater": "Big Crater"}')
    const badMap = cli('dataset', 'import', 'cli-bad', subset, '--format', 'landmarks', '--classes', map)
    expect(badMap.status).toBe(2)
    expect(badMap.stderr).toMatch(/not a usable class name/)
    expect(cli('dataset', 'list').stdout).not.toMatch(/cli-bad/) // a refused import creates no dataset
  })

  it('lists conflicts with who said what and adjudicates them', () => {
    const ds = ctx.ledger.db.prepare("SELECT id FROM datasets WHERE name = 'cli-dunes'").get() as { id: number }
    const tile = ctx.ledger.db.prepare("SELECT l.tile_id AS id FROM labels l JOIN tiles t ON t.id = l.tile_id WHERE t.dataset_id = ? AND l.class_name = 'dune' LIMIT 1").get(ds.id) as { id: number }
    expect(cli('dataset', 'policy', 'cli-dunes', 'adjudicate').status).toBe(0)
    ctx.ledger.db.prepare("INSERT INTO labels (tile_id, class_name, annotator, created_at, origin) VALUES (?, 'crater', 'alice', 'now', 'manual')").run(tile.id)
    const listed = cli('dataset', 'conflicts', 'cli-dunes')
    expect(listed.stdout).toMatch(new RegExp(`1 tiles in conflict \\(policy adjudicate\\):\\n  #${tile.id} .*alice \\(manual\\) crater; landmarks \\(import\\) dune`))
    expect(cli('dataset', 'list').stdout).toMatch(/cli-dunes .* 1 in conflict/)
    const decided = cli('dataset', 'adjudicate', 'cli-dunes', String(tile.id), '--class', 'crater')
    expect(decided.stdout).toMatch(/1 tiles decided as crater by /)
    expect(cli('dataset', 'conflicts', 'cli-dunes', '--json').stdout.trim()).toBe('[]')
    expect(cli('dataset', 'adjudicate', 'cli-dunes', '999999', '--class', 'crater').stderr).toMatch(/tile 999999 does not exist/)
  })
})

// `marsfm dataset import|tile|split|freeze|export|list`: dataset curation from a shell, over
// the same functions the app's datasets service runs.
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import * as D from '@shared/ipc/schemas/datasets'
import type { ImportSummary } from '@shared/ipc/schemas/datasets'
import type { AppContext } from '../../app/types'
import { UsageError, parseOptions, type CliIo, type Command } from '../command'
import { annotatorName, importPaths } from '../../services/datasets'
import { importClasses, importFormat } from '../../datasets/formats-import'
import { gridTile } from '../../datasets/tiler'
import { splitDataset } from '../../datasets/splitter'
import { freeze, listVersions } from '../../datasets/versions'
import { exportVersion } from '../../datasets/exporter'
import { createDataset, deleteDataset, findDatasetByName, getDataset, listDatasets, summarise, type DatasetRow } from '../../datasets/repository/datasets'
import { printable } from '../text'
import { classFromFolder } from '@shared/datasets/classes'
import { describeMapping, parseMapJson } from '@shared/datasets/class-mapping'
import { tileViews } from '../../datasets/repository/tile-views'
import { updateDataset } from '../../datasets/repository/datasets'
import { setLabels } from '../../datasets/repository/labels'
import { datasetsOfTiles } from '../../datasets/repository/tiles'

const USAGE = `marsfm dataset <action> …
  list [<dataset>] [--json]                       datasets, or one dataset's versions
  import <dataset> <path…> [--format F] [--images-dir D] [--ellipses] [--annotator A] [--no-whole-tiles] [--json]
         [--classes keep|crater-vs-rest|map.json] [--drop CLASS]…
                                                  images (files/folders), or F = coco|imagefolder|yolo|voc|landmarks;
                                                  the dataset is created if it does not exist. --classes: what becomes
                                                  of the source's classes (default: landmarks crater-vs-rest --drop edge,
                                                  others keep); map.json = {"source": "target" or null}
  classes <path> --format F [--images-dir D] [--json]   the classes a source holds, with counts (nothing imported)
  conflicts <dataset> [--json]                    tiles whose labels conflict, with who said what
  adjudicate <dataset> <tile-id…> --class C [--annotator A]   decide conflicting tiles
  policy <dataset> correction-wins|adjudicate     how a correction of an imported label is decided
  tile <dataset> --size 224|512 [--stride N] [--edge drop|pad] [--json]
  split <dataset> [--seed 42] [--train 0.8] [--valid 0.2] [--test 0] [--exclude-colour] [--labelled-only] [--json]
  freeze <dataset> [--note TEXT] [--json]
  export <dataset> <out-dir> --format imagefolder|mmseg|coco [--version N] [--mask filled|outline] [--mask-width 5] [--json]`

function progressTo(io: CliIo) {
  let last = 0
  return (done: number, total: number, message?: string) => {
    const now = Date.now()
    if (process.stderr.isTTY && (now - last > 250 || done === total)) {
      last = now
      io.err(`  ${message ?? `${done} / ${total}`}`)
    }
  }
}

function datasetByName(ctx: AppContext, name: string | undefined): DatasetRow {
  if (!name) throw new UsageError('name the dataset')
  const d = findDatasetByName(ctx.ledger.db, name)
  if (!d) throw new Error(`no dataset named "${name}" (marsfm dataset list shows them)`)
  return d
}

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`)
  return n
}

/** `--classes keep|crater-vs-rest|map.json` and `--drop` as the import's class mapping. */
function classMappingOf(classes: string | undefined, drop: string[] | undefined, format: string): D.ClassMapping | undefined {
  const dropped = (drop ?? []).map(classFromFolder)
  if (classes === undefined) {
    if (!dropped.length) return undefined
    // --drop alone adds to the format's default (landmarks: crater vs rest without edge).
    return format === 'landmarks' ? { mode: 'crater-vs-rest', drop: [...new Set(['edge', ...dropped])] } : { mode: 'keep', drop: dropped }
  }
  if (classes === 'keep' || classes === 'crater-vs-rest') return { mode: classes, drop: dropped }
  if (!/\.json$/i.test(classes)) throw new UsageError(`--classes is keep, crater-vs-rest or a map file (.json), got "${printable(classes)}"`)
  const file = resolve(classes)
  if (!existsSync(file)) throw new UsageError(`--classes: not found: ${printable(file)}`)
  const parsed = parseMapJson(readFileSync(file, 'utf8'), (c) => D.ClassName.safeParse(c).success)
  if ('problem' in parsed) throw new UsageError(`--classes ${printable(file)} ${parsed.problem}`)
  const map = Object.fromEntries(Object.entries(parsed.map).map(([k, to]) => [classFromFolder(k), to]))
  return { mode: 'custom', map, drop: dropped }
}

/**
 * 0: everything asked for is in (or was already there); 1: nothing came in (all failed, or
 * nothing found); 3: partly failed — some files or annotations were imported, others not.
 */
export function importExitCode(summary: ImportSummary): number {
  const anyIn = summary.imported > 0 || summary.duplicates.length > 0
  if (!anyIn) return 1
  return summary.failed.length ? 3 : 0
}

export const datasetCommand: Command = {
  name: 'dataset',
  summary: 'import, tile, split, freeze, export and list curated datasets',
  usage: USAGE,
  needsEngine: false,
  async run(args, ctx, io) {
    const [action, ...rest] = args
    const { values: v, positionals: pos } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        format: { type: 'string' },
        'images-dir': { type: 'string' },
        ellipses: { type: 'boolean', default: false },
        annotator: { type: 'string' },
        'no-whole-tiles': { type: 'boolean', default: false },
        size: { type: 'string' },
        stride: { type: 'string' },
        edge: { type: 'string' },
        seed: { type: 'string' },
        train: { type: 'string' },
        valid: { type: 'string' },
        test: { type: 'string' },
        'exclude-colour': { type: 'boolean', default: false },
        'labelled-only': { type: 'boolean', default: false },
        note: { type: 'string' },
        version: { type: 'string' },
        mask: { type: 'string' },
        'mask-width': { type: 'string' },
        classes: { type: 'string' },
        drop: { type: 'string', multiple: true },
        class: { type: 'string' }
      }
    })
    const db = ctx.ledger.db
    const deps = { db, dataDir: ctx.dataDir }
    const print = (value: unknown, text: () => string[]) => {
      if (v.json) io.out(JSON.stringify(value, null, 2))
      else for (const line of text()) io.out(line)
    }
    switch (action) {
      case 'list': {
        if (pos[0]) {
          const d = datasetByName(ctx, pos[0])
          const versions = listVersions(db, d.id)
          print(versions, () =>
            versions.length
              ? versions.flatMap((x) => [
                  `v${x.version}  ${x.contentHash.slice(0, 16)}  ${x.tiles} tiles  ${x.frozenAt}  ${printable(x.note)}`,
                  ...x.classMappings.map((m) => `    classes from ${m.format} ${printable(m.source)}: ${printable(describeMapping(m))}`)
                ])
              : [`"${printable(d.name)}" has no frozen versions`]
          )
        } else {
          const list = listDatasets(db)
          print(list, () => (list.length ? list.map((d) => `${printable(d.name)}  ${d.images} images  ${d.tiles} tiles  ${d.labelled} labelled${d.conflicts ? `  ${d.conflicts} in conflict` : ''}  ${d.latestVersion ? `v${d.latestVersion}` : 'never frozen'}${d.draft ? ' (draft)' : ''}`) : ['no datasets yet']))
        }
        return 0
      }
      case 'import': {
        const [name, ...paths] = pos
        if (!name || !paths.length) throw new UsageError('import needs a dataset name and at least one path')
        if (v.format && paths.length > 1) throw new UsageError(`--format ${v.format} imports one path (a folder or a file), not ${paths.length}`)
        // Everything is checked before the dataset is created: a refused import leaves no empty dataset.
        parseOptions(D.DatasetName, name, { '': '<dataset>' })
        const abs = paths.map((p) => resolve(p))
        // A path that does not exist is named (that is all it tells) and no dataset is created for it.
        const missing = abs.filter((p) => !existsSync(p))
        if (missing.length) throw new Error(`not found: ${missing.slice(0, 5).map(printable).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`)
        const flags = { format: '--format', path: '<path>', paths: '<path>', imagesDir: '--images-dir', annotator: '--annotator' }
        if (!v.format && (v.classes || v.drop)) throw new UsageError('--classes and --drop apply to an annotation format (--format)')
        const classMapping = v.format ? classMappingOf(v.classes, v.drop, v.format) : undefined
        const formatReq = v.format
          ? parseOptions(
              D.ImportFormatRequest.omit({ datasetId: true }),
              { format: v.format, path: abs[0], imagesDir: v['images-dir'] && resolve(v['images-dir']), boxesAsEllipses: v.ellipses, annotator: v.annotator, classMapping },
              { ...flags, classMapping: '--classes' }
            )
          : null
        const pathsReq = formatReq ? null : parseOptions(D.ImportRequest.omit({ datasetId: true }), { paths: abs, wholeTiles: !v['no-whole-tiles'] }, flags)
        let d = findDatasetByName(db, name)
        const created = !d
        if (!d) d = getDataset(db, createDataset(db, { name, description: '', task: 'classification', classes: ['crater', 'no-crater'] }))
        const dataset = d
        // A dataset created for this import is removed again when nothing came in (no empty dataset left behind).
        const dropIfEmpty = () => {
          if (created && !summarise(db, getDataset(db, dataset.id)).images) {
            deleteDataset(db, dataset.id)
            return true
          }
          return false
        }
        let summary
        try {
          summary = formatReq
            ? await importFormat(deps, { ...formatReq, datasetId: dataset.id }, { progress: progressTo(io) })
            : await importPaths(deps, { ...pathsReq!, datasetId: dataset.id }, { progress: progressTo(io) })
        } catch (err) {
          dropIfEmpty()
          throw err
        }
        const dropped = dropIfEmpty()
        if (created && !dropped && !v.json) io.out(`created dataset "${printable(name)}"`)
        if (dropped) summary.notes.push(`dataset "${name}" was not created: nothing was imported`)
        print(summary, () => [
          `scanned ${summary.scanned}, imported ${summary.imported}, already there ${summary.duplicates.length}, failed ${summary.failed.length}`,
          `tiles created ${summary.tilesCreated}, labels set ${summary.labelsSet}, shapes added ${summary.annotationsAdded}`,
          ...summary.notes.map((n) => `note: ${printable(n)}`),
          ...summary.failed.map((f) => `failed: ${printable(f.path)}: ${printable(f.reason)}`)
        ])
        return importExitCode(summary)
      }
      case 'classes': {
        if (!pos[0]) throw new UsageError('classes needs the path of an annotation source')
        if (!v.format) throw new UsageError('classes needs --format coco|imagefolder|yolo|voc|landmarks')
        const req = parseOptions(D.ImportClassesRequest, { format: v.format, path: resolve(pos[0]), imagesDir: v['images-dir'] && resolve(v['images-dir']) }, { format: '--format', path: '<path>', imagesDir: '--images-dir' })
        if (!existsSync(req.path)) throw new Error(`not found: ${printable(req.path)}`)
        const found = await importClasses(req)
        print(found, () => [
          `${found.classes.length} classes (${found.unit}):`,
          ...found.classes.map((c) => `  ${printable(c.name)}  ${c.count}`),
          `default mapping: ${found.defaultMapping.mode}${found.defaultMapping.drop.length ? ` --drop ${found.defaultMapping.drop.join(' --drop ')}` : ''}`
        ])
        return 0
      }
      case 'conflicts': {
        const d = datasetByName(ctx, pos[0])
        const conflicts = tileViews(db, d.id).filter((t) => t.labelStatus === 'conflict')
        const rows = conflicts.map((t) => ({ tileId: t.id, fileName: t.fileName, x: t.x, y: t.y, labels: t.labels }))
        print(rows, () =>
          rows.length
            ? [`${rows.length} tiles in conflict (policy ${d.labelPolicy}):`, ...rows.map((r) => `  #${r.tileId} ${printable(r.fileName)} @${r.x},${r.y}: ${r.labels.map((l) => `${printable(l.annotator)} (${l.origin}) ${l.className}`).join('; ')}`)]
            : [`no conflicts in "${printable(d.name)}" (policy ${d.labelPolicy})`]
        )
        return 0
      }
      case 'adjudicate': {
        const d = datasetByName(ctx, pos[0])
        const ids = pos.slice(1).map((x) => {
          const n = Number(x)
          if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`tile ids are positive integers, got "${x}"`)
          return n
        })
        if (!ids.length) throw new UsageError('adjudicate needs tile ids (marsfm dataset conflicts lists them)')
        if (!v.class) throw new UsageError('adjudicate needs --class')
        const cls = parseOptions(D.ClassName, v.class, { '': '--class' })
        if (!d.classes.includes(cls)) throw new Error(`"${cls}" is not a class of "${d.name}" (${d.classes.join(', ')})`)
        const foreign = ids.filter((id) => !datasetsOfTiles(db, [id]).includes(d.id))
        if (foreign.length) throw new Error(`tile${foreign.length > 1 ? 's' : ''} ${foreign.join(', ')} not in "${d.name}"`)
        const who = parseOptions(D.AnnotatorName, v.annotator ?? annotatorName(ctx), { '': '--annotator' })
        const updated = setLabels(db, ids, cls, who, 'adjudication')
        print({ updated }, () => [`${updated} tiles decided as ${cls} by ${printable(who)}`])
        return 0
      }
      case 'policy': {
        const d = datasetByName(ctx, pos[0])
        const policy = parseOptions(D.LabelPolicy, pos[1], { '': '<policy>' })
        updateDataset(db, d.id, { labelPolicy: policy })
        const s = summarise(db, getDataset(db, d.id))
        print(s, () => [`"${printable(d.name)}": ${policy}; ${s.labelled} tiles labelled, ${s.conflicts} in conflict`])
        return 0
      }
      case 'tile': {
        const d = datasetByName(ctx, pos[0])
        if (!v.size) throw new UsageError('tile needs --size (224 or 512)')
        const req = parseOptions(D.GridTileRequest, { datasetId: d.id, size: num(v.size, 'size', 224), stride: v.stride === undefined ? undefined : num(v.stride, 'stride', 0), edge: v.edge ?? 'drop' }, { size: '--size', stride: '--stride', edge: '--edge' })
        const started = Date.now()
        const result = await gridTile(deps, req, { progress: progressTo(io) })
        const seconds = (Date.now() - started) / 1000
        print({ ...result, seconds }, () => [
          `${result.tilesCreated} tiles cut from ${result.images} images (${result.tilesExisting} already there) in ${seconds.toFixed(2)} s` + (result.annotationsCarried ? `, ${result.annotationsCarried} shapes carried` : ''),
          ...result.failed.map((f) => `failed: ${printable(f.fileName)}: ${printable(f.reason)}`)
        ])
        return 0
      }
      case 'split': {
        const d = datasetByName(ctx, pos[0])
        const ratios = { train: num(v.train, 'train', 0.8), valid: num(v.valid, 'valid', 0.2), test: num(v.test, 'test', 0) }
        if (v.test !== undefined && v.train === undefined && v.valid === undefined) ratios.train = 1 - ratios.valid - ratios.test
        const req = parseOptions(
          D.SplitRequest,
          { datasetId: d.id, seed: num(v.seed, 'seed', 42), ratios, excludeFlaggedColour: v['exclude-colour'], labelledOnly: v['labelled-only'] },
          { seed: '--seed', 'ratios.train': '--train', 'ratios.valid': '--valid', 'ratios.test': '--test' }
        )
        const report = splitDataset(db, d.id, req)
        print(report, () => [
          `train ${report.counts.train}, valid ${report.counts.valid}, test ${report.counts.test}, unassigned ${report.counts.none} (${report.groups} observation groups)`,
          ...Object.entries(report.byClass).map(([s, c]) => `  ${s}: ${Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ')}`),
          report.leaks.length ? `LEAKS: ${report.leaks.map((l) => `${printable(l.group)} in ${l.splits.join('+')}`).join('; ')}` : 'no observation spans two splits',
          ...report.warnings.map((w) => `warning: ${printable(w)}`)
        ])
        return report.leaks.length ? 1 : 0
      }
      case 'freeze': {
        const d = datasetByName(ctx, pos[0])
        const { version, created } = freeze(db, d.id, v.note ?? '')
        print({ ...version, created }, () => [`${created ? 'froze' : 'unchanged since'} "${printable(d.name)}" v${version.version}: ${version.tiles} tiles, sha256 ${version.contentHash}`])
        return 0
      }
      case 'export': {
        const d = datasetByName(ctx, pos[0])
        if (!pos[1]) throw new UsageError('export needs an output folder')
        if (!v.format) throw new UsageError('export needs --format imagefolder|mmseg|coco')
        const versions = listVersions(db, d.id)
        const wanted = v.version === undefined ? versions[0] : versions.find((x) => x.version === num(v.version, 'version', 0))
        if (!wanted) throw new Error(v.version ? `"${d.name}" has no version ${v.version}` : `"${d.name}" has no frozen version: run marsfm dataset freeze first`)
        const req = parseOptions(
          D.ExportRequest,
          { versionId: wanted.id, format: v.format, outDir: resolve(pos[1]), mask: { mode: v.mask ?? 'filled', width: num(v['mask-width'], 'mask-width', 5) } },
          { format: '--format', outDir: '<out-dir>', 'mask.mode': '--mask', 'mask.width': '--mask-width' }
        )
        const result = await exportVersion(deps, req, { progress: progressTo(io) })
        print(result, () => [`exported "${printable(d.name)}" v${wanted.version} as ${result.format}: ${result.tiles} tiles, ${result.files} files in ${result.outDir}`, ...result.skipped.map((s) => `skipped ${s.tiles} tiles: ${s.reason}`)])
        return 0
      }
      default:
        throw new UsageError(action ? `unknown action '${action}'` : 'name an action')
    }
  }
}

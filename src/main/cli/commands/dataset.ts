// `marsfm dataset import|tile|split|freeze|export|list`: dataset curation from a shell, over
// the same functions the app's datasets service runs.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import * as D from '@shared/ipc/schemas/datasets'
import type { AppContext } from '../../app/context'
import { UsageError, type CliIo, type Command } from '../command'
import { importPaths } from '../../services/datasets'
import { importFormat } from '../../datasets/formats-import'
import { gridTile } from '../../datasets/tiler'
import { splitDataset } from '../../datasets/splitter'
import { freeze, listVersions } from '../../datasets/versions'
import { exportVersion } from '../../datasets/exporter'
import * as repo from '../../datasets/repo'

const USAGE = `marsfm dataset <action> …
  list [<dataset>] [--json]                       datasets, or one dataset's versions
  import <dataset> <path…> [--format F] [--images-dir D] [--ellipses] [--annotator A] [--no-whole-tiles] [--json]
                                                  images (files/folders), or F = coco|imagefolder|yolo|voc|landmarks;
                                                  the dataset is created if it does not exist
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

function datasetByName(ctx: AppContext, name: string | undefined): repo.DatasetRow {
  if (!name) throw new UsageError('name the dataset')
  const d = repo.findDatasetByName(ctx.ledger.db, name)
  if (!d) throw new Error(`no dataset named "${name}" (marsfm dataset list shows them)`)
  return d
}

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`)
  return n
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
        'mask-width': { type: 'string' }
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
          print(versions, () => (versions.length ? versions.map((x) => `v${x.version}  ${x.contentHash.slice(0, 16)}  ${x.tiles} tiles  ${x.frozenAt}  ${x.note}`) : [`"${d.name}" has no frozen versions`]))
        } else {
          const list = repo.listDatasets(db)
          print(list, () => (list.length ? list.map((d) => `${d.name}  ${d.images} images  ${d.tiles} tiles  ${d.labelled} labelled  ${d.latestVersion ? `v${d.latestVersion}` : 'never frozen'}${d.draft ? ' (draft)' : ''}`) : ['no datasets yet']))
        }
        return 0
      }
      case 'import': {
        const [name, ...paths] = pos
        if (!name || !paths.length) throw new UsageError('import needs a dataset name and at least one path')
        let d = repo.findDatasetByName(db, name)
        if (!d) {
          d = repo.getDataset(db, repo.createDataset(db, { name, description: '', task: 'classification', classes: ['crater', 'no-crater'] }))
          if (!v.json) io.out(`created dataset "${name}"`)
        }
        const abs = paths.map((p) => resolve(p))
        const summary = v.format
          ? await importFormat(
              deps,
              D.ImportFormatRequest.parse({ datasetId: d.id, format: v.format, path: abs[0], imagesDir: v['images-dir'] && resolve(v['images-dir']), boxesAsEllipses: v.ellipses, annotator: v.annotator }),
              { progress: progressTo(io) }
            )
          : await importPaths(deps, D.ImportRequest.parse({ datasetId: d.id, paths: abs, wholeTiles: !v['no-whole-tiles'] }), { progress: progressTo(io) })
        print(summary, () => [
          `scanned ${summary.scanned}, imported ${summary.imported}, already there ${summary.duplicates.length}, failed ${summary.failed.length}`,
          `tiles created ${summary.tilesCreated}, labels set ${summary.labelsSet}, shapes added ${summary.annotationsAdded}`,
          ...summary.notes.map((n) => `note: ${n}`),
          ...summary.failed.map((f) => `failed: ${f.path}: ${f.reason}`)
        ])
        return summary.failed.length && !summary.imported && !summary.duplicates.length ? 1 : 0
      }
      case 'tile': {
        const d = datasetByName(ctx, pos[0])
        if (!v.size) throw new UsageError('tile needs --size (224 or 512)')
        const req = D.GridTileRequest.parse({ datasetId: d.id, size: num(v.size, 'size', 224), stride: v.stride === undefined ? undefined : num(v.stride, 'stride', 0), edge: v.edge ?? 'drop' })
        const started = Date.now()
        const result = await gridTile(deps, req, { progress: progressTo(io) })
        const seconds = (Date.now() - started) / 1000
        print({ ...result, seconds }, () => [
          `${result.tilesCreated} tiles cut from ${result.images} images (${result.tilesExisting} already there) in ${seconds.toFixed(2)} s` + (result.annotationsCarried ? `, ${result.annotationsCarried} shapes carried` : ''),
          ...result.failed.map((f) => `failed: ${f.fileName}: ${f.reason}`)
        ])
        return 0
      }
      case 'split': {
        const d = datasetByName(ctx, pos[0])
        const ratios = { train: num(v.train, 'train', 0.8), valid: num(v.valid, 'valid', 0.2), test: num(v.test, 'test', 0) }
        if (v.test !== undefined && v.train === undefined && v.valid === undefined) ratios.train = 1 - ratios.valid - ratios.test
        const report = splitDataset(db, d.id, { seed: num(v.seed, 'seed', 42), ratios, excludeFlaggedColour: v['exclude-colour'], labelledOnly: v['labelled-only'] })
        print(report, () => [
          `train ${report.counts.train}, valid ${report.counts.valid}, test ${report.counts.test}, unassigned ${report.counts.none} (${report.groups} observation groups)`,
          ...Object.entries(report.byClass).map(([s, c]) => `  ${s}: ${Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ')}`),
          report.leaks.length ? `LEAKS: ${report.leaks.map((l) => `${l.group} in ${l.splits.join('+')}`).join('; ')}` : 'no observation spans two splits',
          ...report.warnings.map((w) => `warning: ${w}`)
        ])
        return report.leaks.length ? 1 : 0
      }
      case 'freeze': {
        const d = datasetByName(ctx, pos[0])
        const { version, created } = freeze(db, d.id, v.note ?? '')
        print({ ...version, created }, () => [`${created ? 'froze' : 'unchanged since'} "${d.name}" v${version.version}: ${version.tiles} tiles, sha256 ${version.contentHash}`])
        return 0
      }
      case 'export': {
        const d = datasetByName(ctx, pos[0])
        if (!pos[1]) throw new UsageError('export needs an output folder')
        if (!v.format) throw new UsageError('export needs --format imagefolder|mmseg|coco')
        const versions = listVersions(db, d.id)
        const wanted = v.version === undefined ? versions[0] : versions.find((x) => x.version === num(v.version, 'version', 0))
        if (!wanted) throw new Error(v.version ? `"${d.name}" has no version ${v.version}` : `"${d.name}" has no frozen version: run marsfm dataset freeze first`)
        const req = D.ExportRequest.parse({ versionId: wanted.id, format: v.format, outDir: resolve(pos[1]), mask: { mode: v.mask ?? 'filled', width: num(v['mask-width'], 'mask-width', 5) } })
        const result = await exportVersion(deps, req, { progress: progressTo(io) })
        print(result, () => [`exported "${d.name}" v${wanted.version} as ${result.format}: ${result.tiles} tiles, ${result.files} files in ${result.outDir}`, ...result.skipped.map((s) => `skipped ${s.tiles} tiles: ${s.reason}`)])
        return 0
      }
      default:
        throw new UsageError(action ? `unknown action '${action}'` : 'name an action')
    }
  }
}

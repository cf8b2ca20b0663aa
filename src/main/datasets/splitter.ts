// Splitting a dataset's tiles: grouped by observation (a leak is impossible by construction),
// stratified by label, seeded. Manual moves are allowed but every leak they make is reported.
import type { SplitReport } from '@shared/ipc/schemas/datasets'
import { isExcludedColour } from '@shared/datasets/colour'
import { splitGroupKey } from '@shared/datasets/observation'
import { findLeaks, groupedStratifiedSplit, type Leak, type SplitName, type SplitRatios } from '@shared/datasets/split'
import type { Db } from '../ledger/ledger'
import { imbalanceWarning } from '@shared/training/positive-class'
import { touch } from './repository/datasets'
import { tileViews } from './repository/tile-views'
import { setSplits } from './repository/tiles'

export interface SplitOptions {
  seed: number
  ratios: SplitRatios
  excludeFlaggedColour: boolean
  labelledOnly: boolean
}

export function splitDataset(db: Db, datasetId: number, opts: SplitOptions): SplitReport {
  const tiles = tileViews(db, datasetId)
  const sha = shaByImage(db, datasetId)
  const eligible = tiles.filter((t) => !(opts.excludeFlaggedColour && isExcludedColour(t.colour)) && !(opts.labelledOnly && !t.label))
  const assignment = groupedStratifiedSplit(
    eligible.map((t) => ({ key: t.id, group: splitGroupKey(t.observationId, sha.get(t.imageId)!), stratum: t.label ?? '' })),
    opts.ratios,
    opts.seed
  )
  const all = new Map<number, SplitName | null>(tiles.map((t) => [t.id, assignment.get(t.id) ?? null]))
  if (all.size) setSplits(db, all, false)
  else touch(db, datasetId)
  return splitReport(db, datasetId)
}

export function splitReport(db: Db, datasetId: number): SplitReport {
  const tiles = tileViews(db, datasetId)
  const counts = { train: 0, valid: 0, test: 0, none: 0 }
  const byClass: Record<string, Record<string, number>> = {}
  for (const t of tiles) {
    const s = t.split ?? 'none'
    counts[s]++
    const c = (byClass[s] ??= {})
    // A tile whose labels conflict is named as such (never a class: class names have no spaces).
    const label = t.label ?? (t.labelStatus === 'conflict' ? 'in conflict' : 'unlabelled')
    c[label] = (c[label] ?? 0) + 1
  }
  const sha = shaByImage(db, datasetId)
  const groups = new Set(tiles.map((t) => splitGroupKey(t.observationId, sha.get(t.imageId)!))).size
  return { counts, byClass, groups, leaks: leaksOf(db, datasetId), warnings: imbalanceWarnings(byClass) }
}

/** A warning per split whose labelled tiles have a minority class under 30 % (train and valid). */
export function imbalanceWarnings(byClass: Record<string, Record<string, number>>): string[] {
  const out: string[] = []
  for (const split of ['train', 'valid', 'test']) {
    const entries = Object.entries(byClass[split] ?? {}).filter(([k]) => k !== 'unlabelled' && k !== 'in conflict')
    const w = imbalanceWarning(entries.map(([k]) => k), entries.map(([, n]) => n), `${split} split`)
    if (w) out.push(w)
  }
  return out
}

export function leaksOf(db: Db, datasetId: number): Leak[] {
  const sha = shaByImage(db, datasetId)
  return findLeaks(tileViews(db, datasetId).map((t) => ({ group: splitGroupKey(t.observationId, sha.get(t.imageId)!), split: t.split })))
}

function shaByImage(db: Db, datasetId: number): Map<number, string> {
  return new Map((db.prepare('SELECT id, sha256 FROM images WHERE dataset_id = ?').all(datasetId) as { id: number; sha256: string }[]).map((r) => [r.id, r.sha256]))
}

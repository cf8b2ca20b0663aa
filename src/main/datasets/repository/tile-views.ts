// What the Datasets view shows of a tile: its row joined with its labels (consensus, agreement) and
// the number of its shapes. Reads three tables, so it sits beside their repositories, not in one.
import type { Db } from '../../ledger/ledger'
import type { TileView } from '@shared/ipc/schemas/datasets'
import { annotatorsAgree, resolveLabel, type LabelPolicy } from '@shared/datasets/agreement'
import { getDataset } from './datasets'
import { annotationCountOf, annotationCounts } from './annotations'
import { labelsByTile, labelsOfTile, type TileLabel } from './labels'
import { getTile, tileRows, type TileRow } from './tiles'

export function toTileView(r: TileRow, labels: TileLabel[], annotations: number, policy: LabelPolicy): TileView {
  const decided = resolveLabel(labels, policy)
  return {
    id: r.id,
    imageId: r.imageId,
    fileName: r.fileName,
    x: r.x,
    y: r.y,
    width: r.width,
    height: r.height,
    origin: r.origin,
    observationId: r.observationId,
    split: r.split,
    splitManual: !!r.splitManual,
    labels,
    label: decided.label,
    labelStatus: decided.status,
    agree: annotatorsAgree(labels),
    annotations,
    colour: r.colour
  }
}

export function tileViews(db: Db, datasetId: number): TileView[] {
  const policy = getDataset(db, datasetId).labelPolicy
  const labels = labelsByTile(db, datasetId)
  const counts = annotationCounts(db, datasetId)
  return tileRows(db, datasetId).map((r) => toTileView(r, labels.get(r.id) ?? [], counts.get(r.id) ?? 0, policy))
}

export function tileView(db: Db, id: number): TileView {
  const r = getTile(db, id)
  return toTileView(r, labelsOfTile(db, id), annotationCountOf(db, id), getDataset(db, r.datasetId).labelPolicy)
}

// Quality checks over a dataset's tiles: near-duplicates by perceptual hash (across splits
// they are a leak of another kind), and the colour check the study applied by eye.
import type { QualityReport } from '@shared/ipc/schemas/datasets'
import { findNearDuplicates } from '@shared/datasets/phash'
import { isExcludedColour, type ColourClass } from '@shared/datasets/colour'
import { CancelledError } from '@shared/ipc/errors'
import { cropRgb, tilePreview } from './image-io'
import type { DatasetDeps } from './importer'
import { getImage } from './repository/images'
import { setTileStats, tileRows } from './repository/tiles'
import { pixelSource } from './store'

export async function qualityReport(
  deps: DatasetDeps,
  datasetId: number,
  maxDistance: number,
  opts: { signal?: AbortSignal; progress?: (done: number, total: number, message?: string) => void } = {}
): Promise<QualityReport> {
  const rows = tileRows(deps.db, datasetId)
  // Tiles made before statistics existed (or by other tools) get them now.
  const missing = rows.filter((r) => !r.phash || !r.colour)
  let done = 0
  for (const r of missing) {
    if (opts.signal?.aborted) throw new CancelledError()
    const im = getImage(deps.db, r.imageId)
    const rgb = await cropRgb(pixelSource(deps.dataDir, im), { ...im, hasAlpha: false }, r)
    const p = await tilePreview(rgb, r.width, r.height, im.channels)
    setTileStats(deps.db, r.id, p.stats.phash, p.stats.colour)
    r.phash = p.stats.phash
    r.colour = p.stats.colour
    opts.progress?.(++done, missing.length, 'hashing tiles')
  }
  opts.progress?.(0, 1, 'comparing hashes')
  const duplicates = findNearDuplicates(rows.map((r) => ({ id: r.id, phash: r.phash!, split: r.split })), maxDistance)
  const colour: Record<string, number> = {}
  const flagged: { tileId: number; colour: ColourClass }[] = []
  for (const r of rows) {
    colour[r.colour!] = (colour[r.colour!] ?? 0) + 1
    if (isExcludedColour(r.colour)) flagged.push({ tileId: r.id, colour: r.colour! })
  }
  opts.progress?.(1, 1, 'done')
  // Cross-split pairs first: those are the ones that matter.
  duplicates.sort((a, b) => Number(b.crossSplit) - Number(a.crossSplit) || a.distance - b.distance || a.a - b.a || a.b - b.b)
  return { tiles: rows.length, duplicates: duplicates.slice(0, 5000), colour, flagged }
}

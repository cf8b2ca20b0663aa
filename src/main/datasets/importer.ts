// Importing image files into a dataset: hash, recognise content seen before, read the facts,
// make a thumbnail and the tile statistics, keep a copy in the data folder, and record it.
// A bad file is reported with its reason and the import goes on; each file is committed on
// its own, so a cancel or a crash keeps everything imported before it.
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { ImportSummary } from '@shared/ipc/schemas/datasets'
import { parseObservationId } from '@shared/datasets/observation'
import { CancelledError } from '@shared/ipc/errors'
import { describeIoError, ioErrorCode, ioReason, isIoError } from '@shared/io-errors'
import type { Db } from '../ledger/ledger'
import { previewImage, readFacts, UnreadableImageError } from './image-io'
import { findImageBySha, getImage, insertImage } from './repository/images'
import { insertTile } from './repository/tiles'
import { sha256Of, storeCopy, storedNameFor } from './store'

export interface DatasetDeps {
  db: Db
  dataDir: string
}

export interface ImportOptions {
  wholeTiles: boolean
  wholeTileMax: number
}

export type FileOutcome =
  | { status: 'imported'; imageId: number; tileId: number | null; width: number; height: number; warning?: string }
  | { status: 'duplicate'; imageId: number; sameAs: string; tileId: number | null; width: number; height: number }
  | { status: 'failed'; reason: string }

/** Content being imported right now, so two copies in one batch are recognised too. */
const inFlight = new Map<string, Promise<FileOutcome>>()

export async function importImageFile(deps: DatasetDeps, datasetId: number, path: string, opts: ImportOptions): Promise<FileOutcome> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    return { status: 'failed', reason: `cannot read the file: ${ioReason(err, 'reading it')}` }
  }
  if (!bytes.length) return { status: 'failed', reason: 'empty file (0 bytes)' }
  const sha256 = sha256Of(bytes)
  const key = `${datasetId}:${sha256}`
  const pending = inFlight.get(key)
  if (pending) {
    const first = await pending
    if (first.status === 'failed') return first
    return { status: 'duplicate', imageId: first.imageId, sameAs: getImage(deps.db, first.imageId).path, tileId: first.tileId, width: first.width, height: first.height }
  }
  const existing = findImageBySha(deps.db, datasetId, sha256)
  if (existing) {
    const tile = deps.db.prepare("SELECT id FROM tiles WHERE image_id = ? AND origin = 'whole'").get(existing.id) as { id: number } | undefined
    return { status: 'duplicate', imageId: existing.id, sameAs: existing.path, tileId: tile?.id ?? null, width: existing.width, height: existing.height }
  }
  const work = importNew(deps, datasetId, path, bytes, sha256, opts)
  inFlight.set(key, work)
  try {
    return await work
  } finally {
    inFlight.delete(key)
  }
}

async function importNew(deps: DatasetDeps, datasetId: number, path: string, bytes: Buffer, sha256: string, opts: ImportOptions): Promise<FileOutcome> {
  let step = 'decoding'
  try {
    const facts = await readFacts(bytes)
    const preview = await previewImage(bytes, facts)
    const storedName = storedNameFor(sha256, facts.format)
    step = 'copying'
    await storeCopy(deps.dataDir, storedName, bytes)
    step = 'recording'
    const fileName = basename(path)
    const observationId = parseObservationId(fileName)
    let tileId: number | null = null
    const imageId = deps.db.transaction(() => {
      const id = insertImage(deps.db, {
        datasetId,
        sha256,
        path,
        fileName,
        format: facts.format,
        width: facts.width,
        height: facts.height,
        channels: facts.channels,
        bitDepth: facts.bitDepth,
        observationId,
        storedName,
        colour: preview.stats.colour,
        thumbnail: preview.thumbnail
      })
      if (opts.wholeTiles && facts.width <= opts.wholeTileMax && facts.height <= opts.wholeTileMax) {
        // A crop that is a tile already: the image's own thumbnail and statistics serve the tile.
        tileId = insertTile(deps.db, {
          datasetId,
          imageId: id,
          x: 0,
          y: 0,
          width: facts.width,
          height: facts.height,
          observationId,
          origin: 'whole',
          thumbnail: preview.thumbnail,
          phash: preview.stats.phash,
          colour: preview.stats.colour
        })
      }
      return id
    })()
    return { status: 'imported', imageId, tileId, width: facts.width, height: facts.height, ...(preview.warning ? { warning: preview.warning } : {}) }
  } catch (err) {
    if (err instanceof UnreadableImageError) return { status: 'failed', reason: err.message }
    // A full disk or a permission problem is not a bad image: say what failed, where.
    if (step === 'copying') {
      // ENOENT/ENOTDIR here mean the data folder went away, not the source file.
      const code = ioErrorCode(err)
      return { status: 'failed', reason: code === 'ENOENT' || code === 'ENOTDIR' ? `could not copy ${path} into the data folder (${code}: ${deps.dataDir}/images is gone)` : `${describeIoError(err, 'copying', path)} into the data folder` }
    }
    if (step === 'recording' && isIoError(err)) return { status: 'failed', reason: `${describeIoError(err, 'recording', path)} in the ledger` }
    if (isIoError(err)) return { status: 'failed', reason: describeIoError(err, 'reading', path) }
    return { status: 'failed', reason: `could not be decoded (${(err as Error).message})` }
  }
}

export function emptySummary(): ImportSummary {
  return { scanned: 0, imported: 0, duplicates: [], failed: [], tilesCreated: 0, labelsSet: 0, annotationsAdded: 0, notes: [] }
}

/** Folds one file's outcome into the summary. */
export function record(summary: ImportSummary, path: string, outcome: FileOutcome, tileIsNew = true): void {
  summary.scanned++
  if (outcome.status === 'imported') {
    summary.imported++
    if (outcome.tileId !== null && tileIsNew) summary.tilesCreated++
    if (outcome.warning) summary.notes.push(`${path}: imported, but its image data is damaged (${outcome.warning}); check it`)
  } else if (outcome.status === 'duplicate') summary.duplicates.push({ path, sameAs: outcome.sameAs })
  else summary.failed.push({ path, reason: outcome.reason })
}

/**
 * Runs `each` over the items with a few in flight at once (sharp decodes on libuv's pool),
 * honouring cancel between items and reporting progress.
 */
export async function forEachConcurrent<T>(
  items: readonly T[],
  each: (item: T, index: number) => Promise<void>,
  opts: { signal?: AbortSignal; concurrency?: number; progress?: (done: number, total: number) => void }
): Promise<void> {
  let next = 0
  let done = 0
  let failed = false
  const worker = async () => {
    for (;;) {
      if (failed) return
      if (opts.signal?.aborted) throw new CancelledError()
      const i = next++
      if (i >= items.length) return
      try {
        await each(items[i]!, i)
      } catch (err) {
        failed = true // the other workers stop taking items
        throw err
      }
      done++
      opts.progress?.(done, items.length)
    }
  }
  // Wait for every worker to settle before failing: nothing may still be writing when the
  // caller cleans up (an export's temp folder), then report the first error.
  const results = await Promise.allSettled(Array.from({ length: Math.min(opts.concurrency ?? 6, Math.max(1, items.length)) }, worker))
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejected) throw rejected.reason
}

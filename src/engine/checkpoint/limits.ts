// Bounds that keep a small hostile file from turning into a large allocation: a strided view may
// repeat its storage (stride 0, overlapping rows) only up to a cap, and a zip entry may inflate
// only to what its storage needs. Checked from the headers, before any tensor data is read.

import { CheckpointError } from './errors'

/**
 * Elements a single view may hold beyond the elements its storage has (stride 0 and overlapping
 * strides repeat values). 16 Mi elements is 64 MB as float32: far above any broadcast a real
 * state dict carries, far below a "4.6 MB file becomes 1.2 GB" amplification.
 */
export const MAX_VIEW_AMPLIFICATION = 1 << 24

/** The same bound over all views of one file together (many small repeats add up). */
export const MAX_TOTAL_AMPLIFICATION = 1 << 26

/** data.pkl and other small metadata entries: a real one is kilobytes. */
export const MAX_METADATA_BYTES = 64 << 20

/** deflate cannot do better than about 1032:1; a larger declared ratio is a lie. */
export const MAX_DEFLATE_RATIO = 1032

/** A deflated entry may inflate to at most this much, unless its storage needs exactly that many bytes. */
export const MAX_UNEXPECTED_INFLATE = 64 << 20

export interface ViewFacts {
  offset: number
  shape: readonly number[]
  stride: readonly number[]
}

/** Elements a view covers, or Infinity past what a Number can count exactly. */
export function safeNumel(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) {
    n *= d
    if (!Number.isSafeInteger(n)) return Infinity
  }
  return n
}

/**
 * Checks one strided view against its storage (`storageElems` elements): non-negative ints,
 * inside the storage, and not amplified past the cap. Returns the amplification (elements the
 * view holds beyond its storage's size) for the caller's file-wide total.
 */
export function checkView(name: string, v: ViewFacts, storageElems: number): number {
  const bad = (msg: string): CheckpointError => new CheckpointError('corrupt', `tensor ${name}: ${msg}`)
  if (!Number.isSafeInteger(v.offset) || v.offset < 0) throw bad(`storage offset ${v.offset} is not a non-negative integer`)
  if (v.shape.length !== v.stride.length) throw bad(`size [${v.shape.join(', ')}] and stride [${v.stride.join(', ')}] differ in length`)
  for (let d = 0; d < v.shape.length; d++) {
    if (!Number.isSafeInteger(v.shape[d]) || v.shape[d]! < 0) throw bad(`size [${v.shape.join(', ')}] has a negative or non-integer dimension`)
    if (!Number.isSafeInteger(v.stride[d]) || v.stride[d]! < 0) throw bad(`stride [${v.stride.join(', ')}] has a negative or non-integer entry`)
  }
  const numel = safeNumel(v.shape)
  if (numel === 0) return 0
  if (!Number.isFinite(numel)) throw bad(`shape [${v.shape.join(', ')}] holds more elements than can be counted`)
  let last = v.offset
  for (let d = 0; d < v.shape.length; d++) last += (v.shape[d]! - 1) * v.stride[d]!
  if (!Number.isSafeInteger(last) || last >= storageElems) {
    throw bad(`the view (offset ${v.offset}, size [${v.shape.join(', ')}], stride [${v.stride.join(', ')}]) reaches element ${last} of a storage with ${storageElems} elements`)
  }
  const amplification = Math.max(0, numel - storageElems)
  if (amplification > MAX_VIEW_AMPLIFICATION) {
    throw new CheckpointError(
      'too-large',
      `tensor ${name}: shape [${v.shape.join(', ')}] (${numel} elements) repeats a storage of ${storageElems} elements (stride [${v.stride.join(', ')}]); refusing to expand it past ${MAX_VIEW_AMPLIFICATION} extra elements`
    )
  }
  return amplification
}

/** Running total of amplification over a file; throws naming the tensor that crosses the bound. */
export function amplificationBudget(): (name: string, amplification: number) => void {
  let total = 0
  return (name, amplification) => {
    total += amplification
    if (total > MAX_TOTAL_AMPLIFICATION) {
      throw new CheckpointError('too-large', `tensor ${name}: the file's strided views together expand past ${MAX_TOTAL_AMPLIFICATION} elements more than their storages hold; refusing to read it`)
    }
  }
}

// Reads `torch.save` zip checkpoints: `<root>/data.pkl` (unpickled safely) describes tensors
// as views into `<root>/data/<key>` storages, which are read later, each once, in file order.

import type { WeightTensor } from '../model/weights'
import { DTYPE_BYTES, toFloat32 } from './dtype'
import { CheckpointError } from './errors'
import { amplificationBudget, checkView, MAX_METADATA_BYTES, MAX_UNEXPECTED_INFLATE } from './limits'
import { unpickle } from './pickle'
import { materialize } from './strided'
import { storageLoader, TORCH_GLOBALS, TensorRef, type StorageRef } from './torch-globals'
import { ZipReader, type ZipEntry } from './zip'

export interface TorchZipCheckpoint {
  /** The archive's single root folder: torch names it after the file stem (`Prithvi_100M`). */
  readonly root: string
  /** data.pkl as plain values: Maps, arrays, TensorRefs. */
  readonly object: unknown
  readonly storages: ReadonlyMap<string, StorageRef>
  readonly zip: ZipReader
  /** How many storages have been read so far (each should be read once). */
  storagesRead: number
  close(): Promise<void>
}

export function isTensorRef(v: unknown): v is TensorRef {
  return v instanceof TensorRef
}

function findRoot(zip: ZipReader): string {
  const roots: string[] = []
  for (const name of zip.entries.keys()) {
    const m = /^([^/]+)\/data\.pkl$/.exec(name)
    if (m) roots.push(m[1]!)
  }
  if (roots.length === 0) throw new CheckpointError('not-a-checkpoint', 'not a PyTorch checkpoint: the zip has no <root>/data.pkl')
  if (roots.length > 1) throw new CheckpointError('corrupt', `the zip holds several checkpoints (${roots.join(', ')})`)
  return roots[0]!
}

async function checkByteOrder(zip: ZipReader, root: string): Promise<void> {
  // Written by torch >= 2.1; older files are always little-endian.
  const entry = zip.entries.get(`${root}/byteorder`)
  if (!entry) return
  const order = new TextDecoder().decode(await zip.read(entry, { maxBytes: 64 })).trim()
  if (order === 'little') return
  if (order === 'big') {
    throw new CheckpointError('unsupported-byteorder', 'this checkpoint was saved on a big-endian machine (byteorder "big"); only little-endian checkpoints can be read')
  }
  throw new CheckpointError('corrupt', `unknown byteorder "${order}" in checkpoint`)
}

/** Opens the zip and parses data.pkl; no tensor data is read yet. Caller must close(). */
export async function openTorchCheckpoint(path: string): Promise<TorchZipCheckpoint> {
  const zip = await ZipReader.open(path)
  try {
    const root = findRoot(zip)
    await checkByteOrder(zip, root)
    const { load, storages } = storageLoader()
    const object = unpickle(await zip.read(zip.entries.get(`${root}/data.pkl`)!, { maxBytes: MAX_METADATA_BYTES }), { globals: TORCH_GLOBALS, persistentLoad: load })
    for (const [key, ref] of storages) {
      const entry = zip.entries.get(`${root}/data/${key}`)
      if (!entry) throw new CheckpointError('corrupt', `checkpoint is missing storage ${root}/data/${key}`)
      // The pickle says how many elements each storage holds: its zip entry must hold exactly that.
      const elemBytes = ref.type.dtype ? DTYPE_BYTES[ref.type.dtype] : null
      if (ref.numel !== null && elemBytes !== null && entry.size !== ref.numel * elemBytes) {
        throw new CheckpointError('corrupt', `storage ${entry.name} declares ${entry.size} bytes but the pickle says it holds ${ref.numel} ${ref.type.pyName} elements (${ref.numel * elemBytes} bytes)`)
      }
    }
    return { root, object, storages, zip, storagesRead: 0, close: () => zip.close() }
  } catch (e) {
    await zip.close()
    throw e
  }
}

/** Elements of `t`'s dtype its storage entry holds (the bytes the zip declares for it). */
function storageElements(ckpt: TorchZipCheckpoint, t: TensorRef): number {
  const entry = ckpt.zip.entries.get(`${ckpt.root}/data/${t.storage.key}`)!
  return Math.floor(entry.size / (t.dtype ? DTYPE_BYTES[t.dtype] : 1))
}

/**
 * Checks every view of the state dict against its storage (bounds, signs, repeats) from the
 * headers alone, naming the tensor: a stride-0 view of one value as 16000×16000 is refused here,
 * before a byte of data is read.
 */
export function checkTensorViews(ckpt: TorchZipCheckpoint, tensors: ReadonlyMap<string, TensorRef>): void {
  const spend = amplificationBudget()
  for (const [name, t] of tensors) spend(name, checkView(name, t, storageElements(ckpt, t)))
}

/**
 * Streams the named tensors as dense float32, reading each storage once (in file order, so the
 * disk reads sequentially) and dropping it before the next: peak memory is the tensors
 * returned plus one storage in flight.
 */
export async function* readCheckpointStorages(
  ckpt: TorchZipCheckpoint,
  tensors: ReadonlyMap<string, TensorRef>,
  opts: { verifyCrc?: boolean } = {}
): AsyncGenerator<[string, WeightTensor]> {
  const groups = new Map<string, { entry: ZipEntry; items: [string, TensorRef][] }>()
  for (const [name, t] of tensors) {
    if (t.dtype === null) throw new CheckpointError('unsupported-dtype', `tensor ${name} has element type ${t.dtypeName}, which cannot be converted to float32`)
    let g = groups.get(t.storage.key)
    if (!g) {
      g = { entry: ckpt.zip.entries.get(`${ckpt.root}/data/${t.storage.key}`)!, items: [] }
      groups.set(t.storage.key, g)
    }
    g.items.push([name, t])
  }
  const ordered = [...groups.values()].sort((a, b) => a.entry.localHeaderOffset - b.entry.localHeaderOffset)
  for (const { entry, items } of ordered) {
    // Storages hold what the pickle declared (checked at open); a deflated one whose size was
    // not declared is held to a fixed bound.
    const declared = items[0]![1].storage.numel
    const bytes = await ckpt.zip.read(entry, { ...opts, ...(declared === null && entry.method !== 0 ? { maxBytes: MAX_UNEXPECTED_INFLATE } : {}) })
    ckpt.storagesRead++
    // Views of one storage usually share a dtype; convert once per dtype actually used.
    const converted = new Map<string, Float32Array>()
    for (let i = 0; i < items.length; i++) {
      const [name, t] = items[i]!
      const dtype = t.dtype!
      let flat = converted.get(dtype)
      if (!flat) {
        flat = toFloat32(bytes, dtype)
        converted.set(dtype, flat)
      }
      // Only the last view may alias the storage, so shared storages never alias each other.
      const data = materialize(flat, t.offset, t.shape, t.stride, { name, mayAlias: i === items.length - 1 })
      yield [name, { shape: [...t.shape], data }]
    }
  }
}

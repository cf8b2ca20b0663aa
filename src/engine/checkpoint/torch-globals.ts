// The allow-list of Python globals a torch checkpoint may name, and the inert TypeScript
// stand-ins the unpickler builds for them (tensor and storage references, never data).

import type { DType } from './dtype'
import { CheckpointError } from './errors'
import { isPyCallable, type PyCallable, type PyStateful } from './pickle'

/** A `torch.*Storage` class; dtype is null for storages we cannot convert (complex, quantised). */
export interface StorageType {
  readonly kind: 'storage-type'
  readonly pyName: string
  readonly dtype: DType | null
}

/** A `torch.float32`-style dtype object. */
export interface TorchDType {
  readonly kind: 'dtype'
  readonly pyName: string
  readonly dtype: DType | null
}

/** One `data/<key>` entry of the zip, shared by every tensor that views it. */
export interface StorageRef {
  readonly key: string
  readonly type: StorageType
  readonly location: string
  /** Elements the pickle says the storage holds (bytes for UntypedStorage); null when not given. */
  readonly numel: number | null
}

/** A tensor as the pickle describes it: a strided view into a storage, not yet read. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: DType | null,
    readonly dtypeName: string,
    /** In elements of `dtype`. */
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[]
  ) {}

  // Parameters pickled with extra state (`_rebuild_parameter_with_state`) may BUILD onto us.
  setState(): void {}
}

const STORAGE_DTYPES: Record<string, DType | null> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  // Bytes only: used with _rebuild_tensor_v3, which names the element type itself.
  UntypedStorage: 'uint8',
  ComplexFloatStorage: null,
  ComplexDoubleStorage: null,
  QInt8Storage: null,
  QUInt8Storage: null,
  QInt32Storage: null
}

const TORCH_DTYPES: Record<string, DType | null> = {
  float32: 'float32',
  float: 'float32',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
  complex64: null,
  complex128: null
}

function fn(pyName: string, call: (args: readonly unknown[]) => unknown): PyCallable {
  return { pyName, call }
}

function bad(what: string): CheckpointError {
  return new CheckpointError('corrupt', `damaged pickle: ${what}`)
}

// Signs and bounds are checked later, per state-dict key (checkView), so the error can name the tensor.
function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' || typeof d === 'bigint')) throw bad(`tensor ${what} is not a tuple of ints`)
  return v.map(Number)
}

function isStorageRef(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && typeof (v as StorageRef).key === 'string' && (v as StorageRef).type?.kind === 'storage-type'
}

function rebuildTensor(args: readonly unknown[], dtypeArg?: unknown): TensorRef {
  const [storage, offset, size, stride] = args
  if (!isStorageRef(storage)) throw bad('tensor without a storage')
  if (typeof offset !== 'number' && typeof offset !== 'bigint') throw bad('tensor storage offset is not an int')
  const shape = intList(size, 'size')
  const strides = intList(stride, 'stride')
  let dtype = storage.type.dtype
  let dtypeName = storage.type.pyName
  if (dtypeArg !== undefined) {
    if ((dtypeArg as TorchDType)?.kind !== 'dtype') throw bad('_rebuild_tensor_v3 without a dtype')
    dtype = (dtypeArg as TorchDType).dtype
    dtypeName = (dtypeArg as TorchDType).pyName
  }
  return new TensorRef(storage, dtype, dtypeName, Number(offset), shape, strides)
}

function orderedDict(args: readonly unknown[]): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>()
  // OrderedDict(iterable_of_pairs) is legal; torch pickles OrderedDict() and SETITEMS.
  const init = args[0]
  if (Array.isArray(init)) for (const kv of init) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1])
  return m
}

/**
 * `argparse.Namespace`: MAE-style checkpoints (`{'model': state_dict, 'args': Namespace}`) keep
 * their training arguments in one. Read as inert data: its attributes become a Map, and an
 * attribute holding anything callable is refused, so no Python object the pickle names can act.
 */
export class PyNamespace implements PyStateful {
  readonly attributes = new Map<string, unknown>()

  setState(state: unknown): void {
    if (!(state instanceof Map)) throw bad('argparse.Namespace state is not a dict')
    for (const [name, value] of state) {
      if (typeof name !== 'string') throw bad('argparse.Namespace attribute name is not a string')
      const callable = findCallable(value, 0)
      if (callable) {
        throw new CheckpointError('unsafe-global', `refusing to load: the checkpoint's argparse.Namespace attribute "${name}" holds the Python callable ${callable}; training arguments must be plain data`)
      }
      this.attributes.set(name, value)
    }
  }
}

function findCallable(v: unknown, depth: number): string | null {
  if (isPyCallable(v)) return v.pyName
  if (depth > 32) throw bad('argparse.Namespace nested too deeply')
  const children = Array.isArray(v) ? v : v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof PyNamespace ? [...v.attributes.values()] : []
  for (const c of children) {
    const found = findCallable(c, depth + 1)
    if (found) return found
  }
  return null
}

// Markers for tensor subclasses named by _rebuild_from_type_v2; never instantiated.
const inertType = (pyName: string): PyCallable => fn(pyName, () => {
  throw bad(`${pyName} called directly`)
})

/** Every global a torch state dict may reference. Nothing from os, builtins, subprocess… */
export const TORCH_GLOBALS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ['collections.OrderedDict', fn('collections.OrderedDict', orderedDict)],
  ['torch._utils._rebuild_tensor_v2', fn('torch._utils._rebuild_tensor_v2', (a) => rebuildTensor(a))],
  ['torch._utils._rebuild_tensor_v3', fn('torch._utils._rebuild_tensor_v3', (a) => rebuildTensor(a, a[6]))],
  ['torch._utils._rebuild_parameter', fn('torch._utils._rebuild_parameter', (a) => a[0])],
  ['torch._utils._rebuild_parameter_with_state', fn('torch._utils._rebuild_parameter_with_state', (a) => a[0])],
  [
    'torch._tensor._rebuild_from_type_v2',
    fn('torch._tensor._rebuild_from_type_v2', (a) => {
      const [inner, , innerArgs] = a
      if (typeof (inner as PyCallable)?.call !== 'function' || !Array.isArray(innerArgs)) throw bad('_rebuild_from_type_v2 arguments')
      return (inner as PyCallable).call(innerArgs)
    })
  ],
  [
    'argparse.Namespace',
    fn('argparse.Namespace', (a) => {
      if (a.length) throw bad('argparse.Namespace built with positional arguments')
      return new PyNamespace()
    })
  ],
  ['torch.Tensor', inertType('torch.Tensor')],
  ['torch.nn.parameter.Parameter', inertType('torch.nn.parameter.Parameter')],
  ...Object.entries(STORAGE_DTYPES).map(([n, dtype]): [string, StorageType] => [`torch.${n}`, { kind: 'storage-type', pyName: `torch.${n}`, dtype }]),
  ...Object.entries(TORCH_DTYPES).map(([n, dtype]): [string, TorchDType] => [`torch.${n}`, { kind: 'dtype', pyName: `torch.${n}`, dtype }])
])

/** torch's persistent_load: ('storage', storage_type, key, location, numel) → one shared ref per key. */
export function storageLoader(): { load: (pid: unknown) => StorageRef; storages: Map<string, StorageRef> } {
  const storages = new Map<string, StorageRef>()
  const load = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 4) throw bad('persistent id is not a torch storage reference')
    const [, type, key, location, numel] = pid
    if ((type as StorageType)?.kind !== 'storage-type') throw bad('storage reference without a storage type')
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw bad('storage key is not a plain name')
    let ref = storages.get(key)
    if (!ref) {
      const n = typeof numel === 'number' && Number.isSafeInteger(numel) && numel >= 0 ? numel : null
      ref = { key, type: type as StorageType, location: typeof location === 'string' ? location : 'cpu', numel: n }
      storages.set(key, ref)
    }
    return ref
  }
  return { load, storages }
}

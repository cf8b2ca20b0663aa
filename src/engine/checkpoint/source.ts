// One view over both checkpoint formats: the state dict's keys, shapes and dtypes up front
// (no tensor data read), and a streaming read of just the tensors the caller wants.

import type { WeightTensor } from '../model/weights'
import type { DType } from './dtype'
import { CheckpointError } from './errors'
import { openSafetensors } from './safetensors'
import { sniffFormat, type CheckpointFormat } from './sniff'
import { findStateDict } from './state-dict'
import { PyNamespace, type TensorRef } from './torch-globals'
import { checkTensorViews, isTensorRef, openTorchCheckpoint, readCheckpointStorages } from './torch-pt'

export interface TensorSource {
  readonly format: CheckpointFormat
  /** State dict keys as written in the file, in file order. */
  readonly keys: readonly string[]
  /** Where the state dict sat in the checkpoint, e.g. ['state_dict']; [] for the top level. */
  readonly stateDictPath: readonly string[]
  /** The plain-valued training arguments of an MAE-style `{'model', 'args': Namespace}` checkpoint. */
  readonly trainingArgs?: ReadonlyMap<string, string | number | boolean>
  shapeOf(key: string): readonly number[]
  /** dtype null: an element type we cannot convert (complex, quantised); `name` says which. */
  dtypeOf(key: string): { dtype: DType | null; name: string }
  read(keys: Iterable<string>): AsyncGenerator<[string, WeightTensor]>
  close(): Promise<void>
}

/** The Namespace's string, number and boolean attributes (the rest is not needed to read a model). */
function plainArgs(ns: PyNamespace): Map<string, string | number | boolean> {
  const out = new Map<string, string | number | boolean>()
  for (const [k, v] of ns.attributes) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.set(k, v)
  return out
}

async function openTorchSource(path: string): Promise<TensorSource> {
  const ckpt = await openTorchCheckpoint(path)
  try {
    const { path: stateDictPath, tensors } = findStateDict(ckpt.object, isTensorRef)
    checkTensorViews(ckpt, tensors)
    const get = (key: string): TensorRef => {
      const t = tensors.get(key)
      if (!t) throw new CheckpointError('corrupt', `the state dict has no tensor ${key}`)
      return t
    }
    const args = ckpt.object instanceof Map ? ckpt.object.get('args') : undefined
    const trainingArgs = args instanceof PyNamespace ? plainArgs(args) : undefined
    return {
      format: 'pytorch-zip',
      keys: [...tensors.keys()],
      stateDictPath,
      ...(trainingArgs ? { trainingArgs } : {}),
      shapeOf: (key) => get(key).shape,
      dtypeOf: (key) => ({ dtype: get(key).dtype, name: get(key).dtypeName }),
      read: (keys) => readCheckpointStorages(ckpt, new Map([...keys].map((k) => [k, get(k)]))),
      close: () => ckpt.close()
    }
  } catch (e) {
    await ckpt.close()
    throw e
  }
}

async function openSafetensorsSource(path: string): Promise<TensorSource> {
  const file = await openSafetensors(path)
  return {
    format: 'safetensors',
    keys: [...file.tensors.keys()],
    stateDictPath: [],
    shapeOf: (key) => file.tensors.get(key)!.shape,
    dtypeOf: (key) => ({ dtype: file.tensors.get(key)!.dtype, name: file.tensors.get(key)!.dtype }),
    read: (keys) => file.read(keys),
    close: () => file.close()
  }
}

export async function openTensorSource(path: string): Promise<TensorSource> {
  return (await sniffFormat(path)) === 'pytorch-zip' ? openTorchSource(path) : openSafetensorsSource(path)
}

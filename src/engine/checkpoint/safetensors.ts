// Reads and writes safetensors files: 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}} plus an optional `__metadata__` string map, then data.

import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import type { WeightMap, WeightTensor } from '../model/weights'
import { DTYPE_BYTES, toFloat32, type DType } from './dtype'
import { CheckpointError } from './errors'
import { numelOf } from './strided'
import { readFully } from './zip'

export interface SafetensorsEntry {
  dtype: DType
  shape: number[]
  /** Byte range within the data section. */
  begin: number
  end: number
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>
  readonly metadata: Record<string, string>
  read(names: Iterable<string>): AsyncGenerator<[string, WeightTensor]>
  close(): Promise<void>
}

const DTYPES: Record<string, DType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool'
}

// The format's own limit; a larger header is a corrupt or hostile file.
const MAX_HEADER = 100 * 1024 * 1024

function corrupt(msg: string): CheckpointError {
  return new CheckpointError('corrupt', `damaged safetensors file: ${msg}`)
}

function parseEntry(name: string, raw: unknown, dataSize: number): SafetensorsEntry {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
  if (typeof e !== 'object' || e === null) throw corrupt(`entry ${name} is not an object`)
  const dtype = typeof e.dtype === 'string' ? DTYPES[e.dtype] : undefined
  if (!dtype) throw new CheckpointError('unsupported-dtype', `safetensors tensor ${name} has dtype ${String(e.dtype)}; supported: ${Object.keys(DTYPES).join(', ')}`)
  const shape = e.shape
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(`entry ${name} has a bad shape`)
  const off = e.data_offsets
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
    throw corrupt(`entry ${name} has bad data_offsets`)
  }
  const [begin, end] = off as [number, number]
  if (end - begin !== numelOf(shape) * DTYPE_BYTES[dtype]) throw corrupt(`entry ${name}: ${end - begin} bytes do not hold shape [${shape.join(', ')}] of ${e.dtype}`)
  if (end > dataSize) throw new CheckpointError('truncated', `safetensors tensor ${name} lies past the end of the file (file truncated?)`)
  return { dtype, shape: shape as number[], begin, end }
}

// Two tensors sharing bytes would alias each other's weights: the format forbids it.
function checkNoOverlap(tensors: ReadonlyMap<string, SafetensorsEntry>): void {
  const byStart = [...tensors].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin)
  for (let i = 1; i < byStart.length; i++) {
    const [prevName, prev] = byStart[i - 1]!
    const [name, e] = byStart[i]!
    if (e.begin < prev.end) throw corrupt(`tensors ${prevName} [${prev.begin}, ${prev.end}) and ${name} [${e.begin}, ${e.end}) overlap`)
  }
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined) return {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt('__metadata__ is not a map')
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw corrupt(`__metadata__.${k} is not a string`)
    out[k] = v
  }
  return out
}

/** Opens a safetensors file and parses its header; tensor data is read on demand. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    if (size < 8) throw new CheckpointError('truncated', 'safetensors file is shorter than its header length (file truncated?)')
    const lenBytes = new Uint8Array(8)
    await readFully(fh, lenBytes, 0)
    const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true)
    if (headerLen > BigInt(Math.min(MAX_HEADER, size - 8))) {
      throw new CheckpointError(headerLen > BigInt(MAX_HEADER) ? 'not-a-checkpoint' : 'truncated', 'safetensors header is longer than the file (file truncated?)')
    }
    const header = new Uint8Array(Number(headerLen))
    await readFully(fh, header, 8)
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(header))
    } catch {
      throw corrupt('header is not JSON')
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw corrupt('header is not a JSON object')
    const dataStart = 8 + header.length
    const tensors = new Map<string, SafetensorsEntry>()
    let metadata: Record<string, string> = {}
    for (const [name, raw] of Object.entries(json)) {
      if (name === '__metadata__') metadata = parseMetadata(raw)
      else tensors.set(name, parseEntry(name, raw, size - dataStart))
    }
    checkNoOverlap(tensors)
    return { tensors, metadata, read: (names) => readTensors(fh, dataStart, tensors, names), close: () => fh.close() }
  } catch (e) {
    await fh.close()
    throw e
  }
}

async function* readTensors(fh: FileHandle, dataStart: number, tensors: ReadonlyMap<string, SafetensorsEntry>, names: Iterable<string>): AsyncGenerator<[string, WeightTensor]> {
  const wanted = [...names].map((n) => {
    const e = tensors.get(n)
    if (!e) throw new CheckpointError('corrupt', `safetensors file has no tensor ${n}`)
    return [n, e] as const
  })
  wanted.sort((a, b) => a[1].begin - b[1].begin)
  for (const [name, e] of wanted) {
    const bytes = new Uint8Array(e.end - e.begin)
    await readFully(fh, bytes, dataStart + e.begin)
    yield [name, { shape: [...e.shape], data: toFloat32(bytes, e.dtype) }]
  }
}

// A single write may be partial (very large buffers); loop until all bytes are out.
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.length - done, 1 << 30))
    done += bytesWritten
  }
}

/**
 * Writes float32 weights as safetensors (header padded to 8 bytes, tensors in map order).
 * Written to a temporary name and renamed, so a crash never leaves a half file behind.
 */
export async function writeSafetensors(path: string, weights: WeightMap, metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = {}
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata
  let offset = 0
  for (const [name, w] of weights) {
    if (w.data.length !== numelOf(w.shape)) throw new CheckpointError('wrong-shape', `weight ${name}: ${w.data.length} values do not fill shape [${w.shape.join(', ')}]`)
    header[name] = { dtype: 'F32', shape: w.shape, data_offsets: [offset, offset + w.data.byteLength] }
    offset += w.data.byteLength
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8)
  const headerBytes = Buffer.from(json, 'utf8')
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(headerBytes.length))
  const tmp = `${path}.${process.pid}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await writeAll(fh, len)
    await writeAll(fh, headerBytes)
    for (const w of weights.values()) await writeAll(fh, new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength))
    await fh.close()
    await rename(tmp, path)
  } catch (e) {
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw e
  }
}

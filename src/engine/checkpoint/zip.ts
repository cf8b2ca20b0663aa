// A minimal read-only ZIP reader for torch.save checkpoints: parses the central directory
// (zip64 included) and reads one entry at a time by offset, so a 450 MB checkpoint is never
// held in memory twice.

import { open, type FileHandle } from 'node:fs/promises'
import { crc32, inflateRawSync } from 'node:zlib'
import { CheckpointError } from './errors'
import { MAX_DEFLATE_RATIO } from './limits'

export interface ZipEntry {
  name: string
  /** 0 = stored, 8 = deflated. */
  method: number
  compressedSize: number
  size: number
  crc32: number
  localHeaderOffset: number
}

const SIG_EOCD = 0x06054b50
const SIG_ZIP64_LOCATOR = 0x07064b50
const SIG_ZIP64_EOCD = 0x06064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50
const EOCD_SIZE = 22
const MAX_COMMENT = 0xffff
// fs reads are chunked: one call may not read more than ~2 GiB.
const READ_CHUNK = 1 << 30

function truncated(what: string): CheckpointError {
  return new CheckpointError('truncated', `not a PyTorch zip checkpoint: ${what} (file truncated?)`)
}

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true)
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError('corrupt', 'zip64 field is larger than any real file')
  return Number(v)
}

/** Reads exactly `length` bytes at `position` into `target`, or fails as truncated. */
export async function readFully(fh: FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < target.length) {
    const want = Math.min(READ_CHUNK, target.length - done)
    const { bytesRead } = await fh.read(target, done, want, position + done)
    if (bytesRead === 0) throw truncated(`expected ${target.length} bytes at offset ${position}, file ends early`)
    done += bytesRead
  }
}

export class ZipReader {
  readonly entries: Map<string, ZipEntry>

  private constructor(
    private readonly fh: FileHandle,
    readonly fileSize: number,
    entries: Map<string, ZipEntry>,
    private readonly centralDirOffset: number
  ) {
    this.entries = entries
  }

  /** Opens a file and reads its central directory; the caller must close() it. */
  static async open(path: string): Promise<ZipReader> {
    const fh = await open(path, 'r')
    try {
      const { size } = await fh.stat()
      const { entries, cdOffset } = await readCentralDirectory(fh, size)
      return new ZipReader(fh, size, entries, cdOffset)
    } catch (e) {
      await fh.close()
      throw e
    }
  }

  /** Offset of the entry's first data byte (past its local header, whose extra field may differ from the central one). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const header = new Uint8Array(30)
    await readFully(this.fh, header, entry.localHeaderOffset)
    const view = new DataView(header.buffer)
    if (view.getUint32(0, true) !== SIG_LOCAL) throw new CheckpointError('corrupt', `zip entry ${entry.name}: bad local header`)
    const start = entry.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true)
    if (start + entry.compressedSize > this.centralDirOffset) throw truncated(`entry ${entry.name} runs past the central directory`)
    return start
  }

  /**
   * Reads and (if deflated) inflates one entry; checks its CRC unless told not to. `maxBytes`
   * bounds what the caller expects: a larger declared size is refused before anything is
   * allocated, so a small deflate bomb never inflates.
   */
  async read(entry: ZipEntry, opts: { verifyCrc?: boolean; maxBytes?: number } = {}): Promise<Uint8Array> {
    if (opts.maxBytes !== undefined && entry.size > opts.maxBytes) {
      throw new CheckpointError('too-large', `zip entry ${entry.name} declares ${entry.size} bytes, more than the ${opts.maxBytes} it can need; refusing to read it`)
    }
    if (entry.method === 0 && entry.size !== entry.compressedSize) {
      throw new CheckpointError('corrupt', `zip entry ${entry.name} is stored uncompressed but declares ${entry.size} bytes from ${entry.compressedSize}`)
    }
    // Deflate's best case is about 1032:1: a larger ratio is a lie about the size (a bomb).
    if (entry.method === 8 && entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw new CheckpointError('too-large', `zip entry ${entry.name} declares ${entry.size} bytes from ${entry.compressedSize} compressed, more than deflate can produce; refusing to inflate it`)
    }
    const start = await this.dataOffset(entry)
    const raw = new Uint8Array(entry.compressedSize)
    await readFully(this.fh, raw, start)
    let data: Uint8Array
    if (entry.method === 0) data = raw
    else if (entry.method === 8) {
      try {
        // Capped at the declared size: a hostile entry cannot inflate into gigabytes.
        const out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) })
        data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
      } catch (e) {
        throw new CheckpointError('corrupt', `zip entry ${entry.name}: cannot inflate (${(e as Error).message})`)
      }
    } else throw new CheckpointError('unsupported-format', `zip entry ${entry.name} uses compression method ${entry.method}; only stored and deflated entries are supported`)
    if (data.length !== entry.size) throw new CheckpointError('corrupt', `zip entry ${entry.name}: expected ${entry.size} bytes, got ${data.length}`)
    if (opts.verifyCrc !== false && crc32(data) >>> 0 !== entry.crc32) {
      throw new CheckpointError('corrupt', `zip entry ${entry.name}: CRC mismatch (the file is damaged)`)
    }
    return data
  }

  async close(): Promise<void> {
    await this.fh.close()
  }
}

async function readCentralDirectory(fh: FileHandle, fileSize: number): Promise<{ entries: Map<string, ZipEntry>; cdOffset: number }> {
  const tailLen = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT)
  const tail = new Uint8Array(tailLen)
  await readFully(fh, tail, fileSize - tailLen)
  const tv = new DataView(tail.buffer)
  // Scan backwards; the comment length must land exactly on the end of file, which rules out
  // a stray signature inside the comment or the data.
  let eocd = -1
  for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tailLen) {
      eocd = i
      break
    }
  }
  if (eocd < 0) {
    // A zip that starts right but has no directory at its end was cut short (interrupted download).
    const first = new Uint8Array(Math.min(4, fileSize))
    await readFully(fh, first, 0)
    if (first.length === 4 && new DataView(first.buffer).getUint32(0, true) === SIG_LOCAL) throw truncated('end of central directory not found')
    throw new CheckpointError('not-a-checkpoint', 'not a PyTorch zip checkpoint: no zip end of central directory record')
  }
  let count = tv.getUint16(eocd + 10, true)
  let cdSize = tv.getUint32(eocd + 12, true)
  let cdOffset = tv.getUint32(eocd + 16, true)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    ;({ count, cdSize, cdOffset } = await readZip64End(fh, fileSize, fileSize - tailLen + eocd))
  }
  if (cdOffset + cdSize > fileSize) throw truncated('central directory lies past the end of the file')
  const cd = new Uint8Array(cdSize)
  await readFully(fh, cd, cdOffset)
  return { entries: parseCentralDirectory(cd, count, cdOffset), cdOffset }
}

async function readZip64End(fh: FileHandle, fileSize: number, eocdPos: number): Promise<{ count: number; cdSize: number; cdOffset: number }> {
  if (eocdPos < 20) throw new CheckpointError('corrupt', 'zip64 end of central directory locator missing')
  const loc = new Uint8Array(20)
  await readFully(fh, loc, eocdPos - 20)
  const lv = new DataView(loc.buffer)
  if (lv.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw new CheckpointError('corrupt', 'zip64 end of central directory locator missing')
  const recPos = u64(lv, 8)
  if (recPos + 56 > fileSize) throw truncated('zip64 end of central directory lies past the end of the file')
  const rec = new Uint8Array(56)
  await readFully(fh, rec, recPos)
  const rv = new DataView(rec.buffer)
  if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new CheckpointError('corrupt', 'zip64 end of central directory record missing')
  return { count: u64(rv, 32), cdSize: u64(rv, 40), cdOffset: u64(rv, 48) }
}

function parseCentralDirectory(cd: Uint8Array, count: number, cdOffset: number): Map<string, ZipEntry> {
  const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength)
  const utf8 = new TextDecoder()
  const entries = new Map<string, ZipEntry>()
  let p = 0
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || view.getUint32(p, true) !== SIG_CENTRAL) throw new CheckpointError('corrupt', `zip central directory entry ${n} is damaged`)
    const flags = view.getUint16(p + 8, true)
    const nameLen = view.getUint16(p + 28, true)
    const extraLen = view.getUint16(p + 30, true)
    const commentLen = view.getUint16(p + 32, true)
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new CheckpointError('corrupt', `zip central directory entry ${n} is damaged`)
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen))
    // Nothing is ever extracted, but a name that climbs out of the archive marks a crafted file.
    if (unsafeName(name)) throw new CheckpointError('corrupt', `zip entry ${JSON.stringify(name.slice(0, 200))} has an unsafe name (absolute, "..", backslash or control characters)`)
    if (entries.has(name)) throw new CheckpointError('corrupt', `zip holds the entry ${name} twice; refusing an ambiguous file`)
    if (flags & 1) throw new CheckpointError('unsupported-format', `zip entry ${name} is encrypted`)
    const entry: ZipEntry = {
      name,
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true)
    }
    applyZip64Extra(entry, view, p + 46 + nameLen, extraLen)
    if (entry.localHeaderOffset >= cdOffset) throw new CheckpointError('corrupt', `zip entry ${name} points past its data`)
    entries.set(name, entry)
    p += 46 + nameLen + extraLen + commentLen
  }
  return entries
}

function unsafeName(name: string): boolean {
  return name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\') || /[\x00-\x1f]/.test(name) || name.split('/').includes('..')
}

// Zip64 extra (id 1) holds, in order, only the fields whose 32-bit slot is 0xFFFFFFFF.
function applyZip64Extra(entry: ZipEntry, view: DataView, start: number, length: number): void {
  const MAX = 0xffffffff
  if (entry.size !== MAX && entry.compressedSize !== MAX && entry.localHeaderOffset !== MAX) return
  for (let q = start; q + 4 <= start + length; ) {
    const id = view.getUint16(q, true)
    const len = view.getUint16(q + 2, true)
    if (id === 1) {
      let f = q + 4
      const take = (): number => {
        if (f + 8 > q + 4 + len) throw new CheckpointError('corrupt', `zip entry ${entry.name}: zip64 extra field too short`)
        const v = u64(view, f)
        f += 8
        return v
      }
      if (entry.size === MAX) entry.size = take()
      if (entry.compressedSize === MAX) entry.compressedSize = take()
      if (entry.localHeaderOffset === MAX) entry.localHeaderOffset = take()
      return
    }
    q += 4 + len
  }
  throw new CheckpointError('corrupt', `zip entry ${entry.name}: sizes need a zip64 extra field that is missing`)
}

// Builds zip files byte by byte for tests: stored or deflated entries, optional zip64
// records, so the reader is tested on layouts torch itself only writes for >4 GB files.

import { crc32, deflateRawSync } from 'node:zlib'

export interface BuildEntry {
  name: string
  data: Uint8Array
  deflate?: boolean
  /** Raw deflate bytes written as they are, with the size and CRC they inflate to (`data` unused). */
  precompressed?: { body: Uint8Array; size: number; crc: number }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(n)
  return b
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}

/** With `zip64`, every size and offset goes through zip64 extras and the zip64 end records. */
export function buildZip(entries: BuildEntry[], opts: { zip64?: boolean; comment?: string } = {}): Buffer {
  const FF = 0xffffffff
  const parts: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8')
    const pre = e.precompressed
    const body = pre ? Buffer.from(pre.body) : e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data)
    const crc = pre ? pre.crc : crc32(e.data) >>> 0
    const size = pre ? pre.size : e.data.length
    const method = e.deflate || pre ? 8 : 0
    const z64 = opts.zip64 ? Buffer.concat([u16(1), u16(24), u64(size), u64(body.length), u64(offset)]) : Buffer.alloc(0)
    const localExtra = opts.zip64 ? Buffer.concat([u16(1), u16(16), u64(size), u64(body.length)]) : Buffer.alloc(0)
    const sizes = opts.zip64 ? [FF, FF] : [body.length, size]
    const local = Buffer.concat([u32(0x04034b50), u16(45), u16(0), u16(method), u16(0), u16(0), u32(crc), u32(sizes[0]!), u32(sizes[1]!), u16(name.length), u16(localExtra.length), name, localExtra])
    central.push(
      Buffer.concat([
        u32(0x02014b50), u16(45), u16(45), u16(0), u16(method), u16(0), u16(0), u32(crc), u32(sizes[0]!), u32(sizes[1]!),
        u16(name.length), u16(z64.length), u16(0), u16(0), u16(0), u32(0), u32(opts.zip64 ? FF : offset), name, z64
      ])
    )
    parts.push(local, body)
    offset += local.length + body.length
  }
  const cd = Buffer.concat(central)
  const cdOffset = offset
  parts.push(cd)
  const comment = Buffer.from(opts.comment ?? '', 'utf8')
  if (opts.zip64) {
    const recOffset = cdOffset + cd.length
    parts.push(Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(entries.length), u64(entries.length), u64(cd.length), u64(cdOffset)]))
    parts.push(Buffer.concat([u32(0x07064b50), u32(0), u64(recOffset), u32(1)]))
    parts.push(Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(0xffff), u16(0xffff), u32(FF), u32(FF), u16(comment.length), comment]))
  } else {
    parts.push(Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(entries.length), u16(entries.length), u32(cd.length), u32(cdOffset), u16(comment.length), comment]))
  }
  return Buffer.concat(parts)
}

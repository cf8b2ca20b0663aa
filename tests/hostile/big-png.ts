// Writes a huge all-black greyscale PNG in well under a second, without ever holding its pixels:
// identical rows deflated with a full flush compress to identical bytes, so one compressed block
// is repeated; the zlib checksum of all-zero data has a closed form (A = 1, B = n mod 65521).
import { writeFileSync } from 'node:fs'
import { constants, crc32, deflateRawSync } from 'node:zlib'

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0)
  return Buffer.concat([head, data, crc])
}

/** A `side`×`side` 8-bit grey PNG of zeros (side must be a multiple of 100). */
export function writeBlackPng(path: string, side: number): number {
  const rowsPerBlock = 100
  if (side % rowsPerBlock) throw new Error('side must be a multiple of 100')
  const rowBytes = side + 1 // filter byte 0, then the pixels
  const block = deflateRawSync(Buffer.alloc(rowBytes * rowsPerBlock), { finishFlush: constants.Z_FULL_FLUSH, level: 9 })
  const blocks = side / rowsPerBlock
  const n = rowBytes * side
  const adler = Buffer.alloc(4)
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0)
  const stream = Buffer.concat([Buffer.from([0x78, 0xda]), Buffer.concat(new Array<Buffer>(blocks).fill(block)), Buffer.from([0x03, 0x00]), adler])
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(side, 0)
  ihdr.writeUInt32BE(side, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 0 // greyscale
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', stream), chunk('IEND', Buffer.alloc(0))])
  writeFileSync(path, png)
  return png.length
}

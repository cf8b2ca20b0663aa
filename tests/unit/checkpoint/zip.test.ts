// ZIP reader: torch's own layout, zip64 records, deflate, CRC checks and cut-short files.

import { describe, expect, it } from 'vitest'
import { CheckpointError } from '@engine/checkpoint/errors'
import { ZipReader } from '@engine/checkpoint/zip'
import { fixture } from './fixtures'
import { scratchDir } from './tmp'
import { buildZip } from './zip-builder'

const scratch = scratchDir('zip')
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const payload = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 251)

async function withZip<T>(path: string, f: (z: ZipReader) => Promise<T>): Promise<T> {
  const z = await ZipReader.open(path)
  try {
    return await f(z)
  } finally {
    await z.close()
  }
}

describe('ZipReader', () => {
  it('lists a torch.save archive under its file-stem root folder', async () => {
    await withZip(fixture('tiny_prithvi.pt'), async (z) => {
      expect(z.entries.has('tiny_prithvi/data.pkl')).toBe(true)
      expect(z.entries.has('tiny_prithvi/version')).toBe(true)
      const version = await z.read(z.entries.get('tiny_prithvi/version')!)
      expect(new TextDecoder().decode(version).trim()).toBe('3')
      // torch aligns storage data to 64 bytes through the local header's extra field.
      const first = z.entries.get('tiny_prithvi/data/0')!
      expect((await z.dataOffset(first)) % 64).toBe(0)
    })
  })

  it('reads stored and deflated entries, with and without zip64 records', async () => {
    for (const zip64 of [false, true]) {
      const path = scratch.write(`mixed-${zip64}.zip`, buildZip([
        { name: 'a/stored.bin', data: payload },
        { name: 'a/deflated.bin', data: payload, deflate: true },
        { name: 'a/empty', data: new Uint8Array(0) }
      ], { zip64, comment: 'a trailing comment with PK\u0005\u0006 inside' }))
      await withZip(path, async (z) => {
        expect([...z.entries.keys()]).toEqual(['a/stored.bin', 'a/deflated.bin', 'a/empty'])
        expect(await z.read(z.entries.get('a/stored.bin')!)).toEqual(payload)
        expect(z.entries.get('a/deflated.bin')!.method).toBe(8)
        expect(await z.read(z.entries.get('a/deflated.bin')!)).toEqual(payload)
        expect((await z.read(z.entries.get('a/empty')!)).length).toBe(0)
      })
    }
  })

  it('detects damaged entry data by CRC', async () => {
    const bytes = buildZip([{ name: 'a/x', data: payload }])
    bytes[30 + 3 + 100] ^= 0xff // inside the stored data
    const path = scratch.write('crc.zip', bytes)
    await withZip(path, async (z) => {
      await expect(z.read(z.entries.get('a/x')!)).rejects.toMatchObject({ code: 'corrupt', message: expect.stringContaining('CRC') })
      expect((await z.read(z.entries.get('a/x')!, { verifyCrc: false })).length).toBe(payload.length)
    })
  })

  it('calls a cut-short zip truncated, with a clear message', async () => {
    const err = await ZipReader.open(fixture('tiny_prithvi_f16_truncated.pt')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CheckpointError)
    expect(err).toMatchObject({ code: 'truncated' })
    expect((err as Error).message).toBe('not a PyTorch zip checkpoint: end of central directory not found (file truncated?)')
  })

  it('notices entries whose data lies past the directory', async () => {
    const bytes = buildZip([{ name: 'a/x', data: payload }])
    // Claim a larger size in the central directory than the data really has.
    const cd = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
    bytes.writeUInt32LE(payload.length + 10, cd + 20)
    bytes.writeUInt32LE(payload.length + 10, cd + 24)
    const path = scratch.write('long.zip', bytes)
    await withZip(path, async (z) => {
      await expect(z.read(z.entries.get('a/x')!)).rejects.toMatchObject({ code: 'truncated' })
    })
  })

  it('calls a non-zip file not-a-checkpoint', async () => {
    const path = scratch.write('notes.txt', text('HiRISE ESP_012345_1234 notes\n'.repeat(10)))
    await expect(ZipReader.open(path)).rejects.toMatchObject({ code: 'not-a-checkpoint' })
  })
})

describe('ZipReader against hostile archives', () => {
  it('refuses an entry that inflates beyond its declared size', async () => {
    const bomb = new Uint8Array(1 << 20) // 1 MiB of zeros deflates to ~1 KB
    const bytes = buildZip([{ name: 'a/data.pkl', data: bomb, deflate: true }])
    const cd = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
    bytes.writeUInt32LE(100, cd + 24) // claim only 100 bytes uncompressed
    const path = scratch.write('bomb.zip', bytes)
    await withZip(path, async (z) => {
      await expect(z.read(z.entries.get('a/data.pkl')!)).rejects.toMatchObject({ code: 'corrupt' })
    })
  })
})

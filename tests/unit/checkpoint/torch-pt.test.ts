// torch.save zip checkpoints: real fixture files, dtypes, views, shared storages, hostile
// pickles (nothing may run), truncation and byte order.

import { existsSync, rmSync } from 'node:fs'
import { beforeEach, describe, expect, it } from 'vitest'
import { readRawStateDict, sniffFormat } from '@engine/checkpoint/index'
import { findStateDict } from '@engine/checkpoint/state-dict'
import { isTensorRef, openTorchCheckpoint, readCheckpointStorages } from '@engine/checkpoint/torch-pt'
import { ZipReader } from '@engine/checkpoint/zip'
import type { WeightMap } from '@engine/model/weights'
import { EVIL_MARKER, expectAll, expected, fixture } from './fixtures'
import { scratchDir } from './tmp'
import { buildZip, type BuildEntry } from './zip-builder'

const scratch = scratchDir('torch')

/** Copies a fixture's entries into a new zip, optionally changed (deflate, zip64, extra files). */
async function repack(name: string, out: string, change: (entries: BuildEntry[]) => BuildEntry[], opts: { zip64?: boolean } = {}): Promise<string> {
  const z = await ZipReader.open(fixture(name))
  const entries: BuildEntry[] = []
  for (const e of z.entries.values()) entries.push({ name: e.name, data: await z.read(e) })
  await z.close()
  return scratch.write(out, buildZip(change(entries), opts))
}

describe('torch zip checkpoints', () => {
  it('reads the plain float32 fixture under its non-"archive" root', async () => {
    const ckpt = await openTorchCheckpoint(fixture('tiny_prithvi.pt'))
    expect(ckpt.root).toBe('tiny_prithvi')
    await ckpt.close()
    const weights = await readRawStateDict(fixture('tiny_prithvi.pt'))
    const want = expected('tiny_prithvi.expected.json')
    expect([...weights.keys()]).toEqual(want.keys)
    expectAll(weights, want)
  })

  it.each([
    ['tiny_prithvi_f16.pt', 'tiny_prithvi_f16.expected.json'],
    ['tiny_prithvi_bf16.pt', 'tiny_prithvi_bf16.expected.json']
  ])('converts %s to float32 exactly', async (file, json) => {
    const weights = await readRawStateDict(fixture(file))
    expect(weights.size).toBe(50)
    expectAll(weights, expected(json))
  })

  it('materialises transposed, permuted, offset, strided and broadcast views', async () => {
    expectAll(await readRawStateDict(fixture('tiny_views.pt')), expected('tiny_views.expected.json'))
  })

  it('reads each storage once, however many tensors share it', async () => {
    for (const [file, storages] of [['tiny_views.pt', expected('tiny_views.expected.json').storages!], ['tiny_prithvi_f16.pt', 1]] as const) {
      const ckpt = await openTorchCheckpoint(fixture(file))
      const { tensors } = findStateDict(ckpt.object, isTensorRef)
      const got: WeightMap = new Map()
      for await (const [name, t] of readCheckpointStorages(ckpt, tensors)) got.set(name, t)
      await ckpt.close()
      expect(got.size).toBe(tensors.size)
      expect(ckpt.storagesRead).toBe(storages)
    }
  })

  it('never aliases one array between tensors that share a storage', async () => {
    const w = await readRawStateDict(fixture('tiny_views.pt'))
    const [a, b] = [w.get('decoder_norm.bias')!.data, w.get('decoder_blocks.0.norm2.weight')!.data]
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(a.buffer).not.toBe(b.buffer)
    a[0] = 1e6 // a consumer normalising in place must not change the other weight
    expect(b[0]).not.toBe(1e6)
  })

  it('reads deflated and zip64 repacks of a checkpoint the same', async () => {
    const want = expected('tiny_prithvi_f16.expected.json')
    const deflated = await repack('tiny_prithvi_f16.pt', 'deflated.pt', (es) => es.map((e) => ({ ...e, deflate: true })))
    expectAll(await readRawStateDict(deflated), want)
    const zip64 = await repack('tiny_prithvi_f16.pt', 'zip64.pt', (es) => es, { zip64: true })
    expectAll(await readRawStateDict(zip64), want)
  })

  it('accepts byteorder "little" and refuses "big"', async () => {
    const withOrder = (order: string) => (es: BuildEntry[]) => [...es, { name: 'tiny_prithvi_f16/byteorder', data: new TextEncoder().encode(order) }]
    const little = await repack('tiny_prithvi_f16.pt', 'little.pt', withOrder('little'))
    expect((await readRawStateDict(little)).size).toBe(50)
    const big = await repack('tiny_prithvi_f16.pt', 'big.pt', withOrder('big'))
    await expect(readRawStateDict(big)).rejects.toMatchObject({ code: 'unsupported-byteorder', message: expect.stringContaining('big-endian') })
  })

  it('says which storage is missing from a damaged archive', async () => {
    const path = await repack('tiny_views.pt', 'missing.pt', (es) => es.filter((e) => e.name !== 'tiny_views/data/3'))
    await expect(openTorchCheckpoint(path)).rejects.toMatchObject({ code: 'corrupt', message: expect.stringContaining('tiny_views/data/3') })
  })

  it('reports a truncated download clearly', async () => {
    await expect(readRawStateDict(fixture('tiny_prithvi_f16_truncated.pt'))).rejects.toMatchObject({
      code: 'truncated',
      message: 'tiny_prithvi_f16_truncated.pt: not a PyTorch zip checkpoint: end of central directory not found (file truncated?)'
    })
  })

  it('tells legacy pickles and other files apart from checkpoints', async () => {
    const legacy = scratch.write('legacy.pt', Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8))
    await expect(sniffFormat(legacy)).rejects.toMatchObject({ code: 'unsupported-format' })
    const empty = scratch.write('empty.pt', new Uint8Array(0))
    await expect(sniffFormat(empty)).rejects.toMatchObject({ code: 'truncated' })
    const zipNoPkl = scratch.write('other.zip', buildZip([{ name: 'photos/ESP_1.jpg', data: new Uint8Array(10) }]))
    await expect(readRawStateDict(zipNoPkl)).rejects.toMatchObject({ code: 'not-a-checkpoint' })
  })
})

describe('hostile checkpoints', () => {
  beforeEach(() => rmSync(EVIL_MARKER, { force: true }))

  it.each([
    ['evil.pt', 'os.system'],
    ['evil_reduce.pt', 'posix.system']
  ])('refuses %s (references %s) and runs nothing', async (file, global) => {
    const err = await readRawStateDict(fixture(file)).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'unsafe-global',
      message: `${file}: refusing to load: the checkpoint references the Python global ${global}, which a weights file never needs`
    })
    // Give a (hypothetical) spawned shell time to run before checking it did not.
    await new Promise((r) => setTimeout(r, 200))
    expect(existsSync(EVIL_MARKER)).toBe(false)
  })
})

// A small file that is a huge image: an 878 KB PNG of 30000 × 30000 pixels imports fine, and the
// viewer's `images:region` over the whole image must come back scaled down without decoding the
// region at full resolution (before: 11 s, 2.7 GB resident, then "Input image exceeds pixel limit").
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { createAppContext, type AppContext } from '@main/app/context'
import type { Channel, ResponseOf, RequestOf } from '@shared/ipc/contract'
import type { ImportSummary } from '@shared/ipc/schemas/datasets'
import { ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { writeBlackPng } from './big-png'
import { expectLedgerUnchanged, ledgerSnapshot, printTally, record, tempLeftovers } from './harness'

let ctx: AppContext
let home: { dir: string; remove(): void }

async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const env = await ctx.router.dispatch(channel, request)
  if (!env.ok) throw new Error(`${env.error.name}: ${env.error.message}`)
  return env.value as ResponseOf<C>
}

const peakMb = (): number => process.resourceUsage().maxRSS / 1024

beforeAll(async () => {
  requireBuild()
  home = tempHome()
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, startEngine: false, engineEntry: ENGINE_ENTRY, echoLog: false })
})
afterAll(async () => {
  await ctx?.close()
  home?.remove()
  printTally('regions.test.ts')
})

describe('regions of a huge image from a small file', () => {
  it('scales the whole 30000 × 30000 image down in bounded memory and time', async () => {
    const src = tempHome('marsfm-huge-src-')
    const scratch = src.dir
    const png = join(scratch, 'ESP_000000_0000_huge.png')
    writeBlackPng(png, 30000)
    expect(statSync(png).size).toBeLessThan(1_000_000)
    const id = (await call('datasets:create', { name: 'huge' })).id
    const started = await call('datasets:import', { datasetId: id, paths: [png] })
    const view = await ctx.jobs.waitFor(started.jobId)
    expect(view.state).toBe('done')
    expect((view.result as ImportSummary).imported).toBe(1)
    const image = (await call('images:list', { datasetId: id, offset: 0, limit: 10 })).images[0]!
    expect([image.width, image.height]).toEqual([30000, 30000])

    const before = ledgerSnapshot(join(home.dir, 'ledger.sqlite'))
    const peakBefore = peakMb()
    const t0 = Date.now()
    const whole = await call('images:region', { imageId: image.id, x: 0, y: 0, width: 30000, height: 30000, maxSide: 1024 })
    const seconds = (Date.now() - t0) / 1000
    const grown = peakMb() - peakBefore
    console.log(`images:region 30000×30000 → ${whole.outWidth}×${whole.outHeight}: ${seconds.toFixed(2)} s, peak RSS grew ${grown.toFixed(0)} MB`)
    expect([whole.outWidth, whole.outHeight]).toEqual([1024, 1024])
    expect(whole.dataUrl.startsWith('data:image/jpeg;base64,')).toBe(true)
    // A full-resolution decode is 2.7 GB of RGB; streaming keeps the growth to libvips' buffers.
    expect(grown).toBeLessThan(600)
    expect(seconds).toBeLessThan(8)

    // An off-centre large region is scaled the same way.
    const part = await call('images:region', { imageId: image.id, x: 10000, y: 5000, width: 20000, height: 25000, maxSide: 512 })
    expect(Math.max(part.outWidth, part.outHeight)).toBe(512)
    // A small region is still read at full resolution.
    const small = await call('images:region', { imageId: image.id, x: 100, y: 100, width: 300, height: 200, maxSide: 1024 })
    expect([small.outWidth, small.outHeight]).toEqual([300, 200])
    expectLedgerUnchanged(before, ledgerSnapshot(join(home.dir, 'ledger.sqlite')))
    expect(tempLeftovers(home.dir)).toEqual([])
    src.remove()
    record('images', 'region of a 30000×30000 PNG (878 KB)', 'handled')
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createAppContext, type AppContext } from '@main/app/context'
import { ENGINE_ENTRY, ROOT, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const FIX = resolve(ROOT, 'tests/fixtures/checkpoints')
let ctx: AppContext
const home = tempHome()

beforeAll(async () => {
  requireBuild()
  ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, engineEntry: ENGINE_ENTRY, echoLog: false })
  await ctx.engine.whenReady()
})
afterAll(async () => {
  await ctx?.close()
  home.remove()
})

async function importModel(payload: Record<string, unknown>) {
  const reply = await ctx.router.dispatch('models:import', payload)
  if (!reply.ok) return { reply, job: null }
  const job = await ctx.jobs.waitFor((reply.value as { jobId: string }).jobId)
  return { reply, job }
}

describe('models service', () => {
  it('imports a torch.save checkpoint with its yaml and records it with the file SHA-256', async () => {
    const path = join(FIX, 'tiny_prithvi.pt')
    const { job } = await importModel({ path, configPath: join(FIX, 'Prithvi_tiny_config.yaml'), name: 'tiny' })
    expect(job?.state).toBe('done')
    const list = await ctx.router.dispatch('models:list', {})
    const models = (list as { value: { name: string; sha256: string; parameterCount: number; stats: unknown; config: { embed_dim: number } }[] }).value
    const m = models.find((x) => x.name === 'tiny')!
    expect(m.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'))
    expect(m.config.embed_dim).toBe(32)
    expect(m.parameterCount).toBeGreaterThan(40_000)
    expect(m.stats).not.toBeNull()
  })

  it('refuses a hostile pickle and a wrong-shape checkpoint with the reason, and records neither', async () => {
    const before = ((await ctx.router.dispatch('models:list', {})) as { value: unknown[] }).value.length
    const evil = await importModel({ path: join(FIX, 'evil.pt') })
    expect(evil.job?.state).toBe('failed')
    expect(evil.job?.error?.message).toMatch(/os\.system/)
    const wrong = await importModel({ path: join(FIX, 'tiny_wrong_shape.pt') })
    expect(wrong.job?.state).toBe('failed')
    expect(wrong.job?.error?.message).toMatch(/wrong shape/)
    const after = ((await ctx.router.dispatch('models:list', {})) as { value: unknown[] }).value.length
    expect(after).toBe(before)
  })

  it('rejects relative or missing paths before any work starts', async () => {
    const rel = await ctx.router.dispatch('models:import', { path: 'model.pt' })
    expect(rel.ok).toBe(false)
    if (!rel.ok) expect(rel.error.name).toBe('ValidationError')
    const missing = await ctx.router.dispatch('models:import', { path: join(home.dir, 'nope.pt') })
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.error.message).toMatch(/not found/)
  })

  it('exports an imported model to ONNX as a job', async () => {
    const models = ((await ctx.router.dispatch('models:list', {})) as { value: { id: number; name: string }[] }).value
    const id = models.find((m) => m.name === 'tiny')!.id
    const outPath = join(home.dir, 'tiny-encoder.onnx')
    const reply = await ctx.router.dispatch('models:export-onnx', { id, graph: 'encoder', outPath })
    expect(reply.ok).toBe(true)
    const job = await ctx.jobs.waitFor((reply as { value: { jobId: string } }).value.jobId)
    expect(job.state).toBe('done')
    expect(existsSync(outPath)).toBe(true)
  })
})

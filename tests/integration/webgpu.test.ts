// The WebGPU backend end to end through the CLI, on whatever adapter Dawn finds (lavapipe here and in
// CI, whose .ci/run installs Mesa 25 from bookworm-backports): `marsfm info` describes the adapter and
// why other backends were skipped; a short fine-tune of the shipped demo model runs on webgpu, says so,
// and records the backend in the ledger; `auto` never picks a software adapter.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { landmarkImageFolder, sharedDataAvailable } from '../support/training-data'
import { webgpuAvailable, webgpuSkipReason } from '../support/webgpu'

const home = tempHome('marsfm-webgpu-')
let data: string

function marsfm(args: string[], env: Record<string, string>, timeout = 240_000) {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir, ...env }, encoding: 'utf8', timeout })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

beforeAll(() => {
  requireBuild()
  if (!webgpuAvailable) console.warn(`webgpu integration skipped: ${webgpuSkipReason}`)
})
afterAll(() => home.remove())

describe.skipIf(!webgpuAvailable)('WebGPU backend through the CLI', () => {
  it('MARSFM_TF_BACKEND=webgpu marsfm info --json reports the webgpu backend and its adapter', () => {
    const r = marsfm(['info', '--json'], { MARSFM_TF_BACKEND: 'webgpu' })
    expect(r.code, r.err).toBe(0)
    const info = JSON.parse(r.out)
    expect(info.engine.state).toBe('ready')
    expect(info.engine.backend).toBe('webgpu')
    expect(info.engine.device).toMatch(/^GPU \(WebGPU, /)
    expect(info.engine.triedBackends).toEqual([{ backend: 'webgpu' }])
    const gpu = info.engine.gpu
    expect(gpu).not.toBeNull()
    expect(gpu.nativeApi).toBe(process.platform === 'linux' ? 'Vulkan' : process.platform === 'darwin' ? 'Metal' : 'D3D12')
    expect(typeof gpu.software).toBe('boolean')
    expect(gpu.limits.maxBufferSize).toBeGreaterThan(2 ** 20)
    expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThan(2 ** 20)
    expect(Object.keys(gpu.features).sort()).toEqual(['shaderF16', 'subgroups', 'timestampQuery'])
    expect(info.engine.versions['tfjs-backend-webgpu']).toBe('4.22.0')
  })

  it('auto never picks a software adapter, and says why and how to force it', () => {
    const r = marsfm(['info'], { MARSFM_TF_BACKEND: '' })
    expect(r.code, r.err).toBe(0)
    const probe = marsfm(['info', '--json'], { MARSFM_TF_BACKEND: '' })
    const info = JSON.parse(probe.out)
    if (info.engine.gpu.software) {
      expect(info.engine.backend).not.toBe('webgpu')
      expect(r.out).toMatch(/webgpu: only a software adapter was found/)
      expect(r.out).toMatch(/to use webgpu\s+.*MARSFM_TF_BACKEND=webgpu/)
    } else expect(info.engine.backend).toBe('webgpu')
    expect(r.out).toMatch(/WebGPU adapter\s+\S/)
  })

  it.skipIf(!sharedDataAvailable())('a short fine-tune of the demo model runs on webgpu, says so, and records it', () => {
    data = join(home.dir, 'landmarks')
    landmarkImageFolder(data, { trainPerClass: 8, validPerClass: 4 })
    const config = join(home.dir, 'run.json')
    writeFileSync(
      config,
      JSON.stringify({
        name: 'demo on webgpu',
        task: 'classification',
        model: { demo: true },
        data: { kind: 'folder', path: data, layout: 'imagefolder' },
        imgSize: 64,
        steps: 4,
        batchSize: 4,
        seed: 5,
        maskRatio: 0.375,
        dropout: 0.5,
        optimizer: { name: 'adamw', lr: 3e-4, weightDecay: 0.05 },
        eval: { everySteps: 4, maxImages: 8 }
      })
    )
    const r = marsfm(['train', '--config', config, '--log-every', '2'], { MARSFM_TF_BACKEND: 'webgpu' })
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/step\s+4\/4\s+loss \d/)
    expect(r.out).toMatch(/eval\s+step 4\/4 .*val\/accuracy/)
    expect(r.out).toMatch(/run #1 done/)
    expect(r.out).toMatch(/backend webgpu \(GPU \(WebGPU, /)
    const db = new Database(join(home.dir, 'ledger.sqlite'), { readonly: true })
    try {
      const run = db.prepare('SELECT status, backend, device FROM runs WHERE id = 1').get() as { status: string; backend: string; device: string }
      expect(run).toMatchObject({ status: 'done', backend: 'webgpu' })
      expect(run.device).toMatch(/WebGPU/)
      const losses = db.prepare("SELECT value FROM metrics WHERE run_id = 1 AND name = 'train/loss' ORDER BY step").all() as { value: number }[]
      expect(losses).toHaveLength(4)
      for (const l of losses) expect(Number.isFinite(l.value)).toBe(true)
    } finally {
      db.close()
    }
  })
})

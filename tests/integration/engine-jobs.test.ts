// The engine-job boundary with a real engine child: a start-job for a kind the engine does not
// know, or with params that fail the kind's schema, is refused with a typed error (name, code,
// the kind and the fields) before any handler runs; pause-job and resume-job are protocol messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { EngineSupervisor, type JobMessage } from '@main/engine/supervisor'
import { nodeLauncher } from '@main/engine/transport'
import { JobManager } from '@main/jobs/job-manager'
import type { EngineJobKind } from '@shared/engine/jobs'
import { ENGINE_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

let engine: EngineSupervisor
let home: ReturnType<typeof tempHome>

beforeAll(async () => {
  requireBuild()
  home = tempHome('marsfm-engine-jobs-')
  engine = new EngineSupervisor({ entry: ENGINE_ENTRY, launcher: nodeLauncher, env: { MARSFM_HOME: home.dir } })
  await engine.start()
})
afterAll(async () => {
  await engine?.stop()
  home?.remove()
})

/** Sends a start-job as it arrives on the wire (the types would refuse these) and returns the engine's answer. */
function startRaw(kind: string, params: unknown): Promise<JobMessage> {
  const jobId = randomUUID()
  return new Promise((resolve) => {
    const listener = (m: JobMessage) => {
      if (m.jobId !== jobId || m.type === 'job-progress' || m.type === 'job-event') return
      engine.off('job', listener)
      resolve(m)
    }
    engine.on('job', listener)
    engine.startJob(jobId, kind as EngineJobKind, params as never)
  })
}

describe('malformed start-job messages', () => {
  it('an unknown kind fails with UnknownEngineJobError, naming the kind', async () => {
    const m = await startRaw('mine-bitcoin', {})
    expect(m.type).toBe('job-failed')
    if (m.type !== 'job-failed') return
    expect(m.error).toMatchObject({ name: 'UnknownEngineJobError', code: 'ENGINE_JOB_KIND' })
    expect(m.error.message).toBe('the engine has no job kind "mine-bitcoin"')
  })

  it('params that fail the schema fail with EngineJobParamsError, naming the kind and each field', async () => {
    const m = await startRaw('demo', { steps: -3, stepMs: 'soon' })
    expect(m.type).toBe('job-failed')
    if (m.type !== 'job-failed') return
    expect(m.error).toMatchObject({ name: 'EngineJobParamsError', code: 'ENGINE_JOB_PARAMS' })
    expect(m.error.message).toMatch(/^invalid params for engine job "demo":\n/)
    expect(m.error.message).toMatch(/^steps: /m)
    expect(m.error.message).toMatch(/^stepMs: /m)
    expect(m.error.issues?.map((i) => i.path).sort()).toEqual(['stepMs', 'steps'])
  })

  it('a train job without its run config is refused before anything runs', async () => {
    const m = await startRaw('train', { runId: 1, runDir: home.dir, model: { config: {}, stats: {} } })
    expect(m.type).toBe('job-failed')
    if (m.type !== 'job-failed') return
    expect(m.error.name).toBe('EngineJobParamsError')
    expect(m.error.message).toMatch(/"train"/)
    // model.config is a union of the families' configs: a config of neither is refused as a whole.
    expect(m.error.issues?.map((i) => i.path)).toEqual(expect.arrayContaining(['config', 'model.config', 'model.stats.bands']))
  })

  it('the job manager shows the typed error on the job, and the engine keeps serving', async () => {
    const jobs = new JobManager(engine)
    const bad = await jobs.startEngineJob('demo', 'bad demo', { steps: 0, stepMs: 0 })
    const failed = await jobs.waitFor(bad)
    expect(failed.state).toBe('failed')
    expect(failed.error?.name).toBe('EngineJobParamsError')
    expect(failed.error?.message).toMatch(/"demo"[\s\S]*steps/)
    const events: number[] = []
    let result: { checksum: number } | undefined
    const good = await jobs.startEngineJob('demo', 'good demo', { steps: 3, stepMs: 0, matrixSize: 4 }, {
      onEvent: (e) => events.push(e.payload.step),
      onFinish: (_job, r) => (result = r)
    })
    expect((await jobs.waitFor(good)).state).toBe('done')
    expect(events).toEqual([1, 2, 3])
    expect(result?.checksum).toBeCloseTo(4, 4)
  })
})

describe('pause-job and resume-job', () => {
  it('are read by the job from its own context; a job that does not pause runs on', async () => {
    const jobs = new JobManager(engine)
    const id = await jobs.startEngineJob('demo', 'demo', { steps: 20, stepMs: 5, matrixSize: 4 })
    expect(jobs.pause(id)).toBe(true)
    expect(jobs.resume(id)).toBe(true)
    const done = await jobs.waitFor(id)
    expect(done.state).toBe('done')
    expect(done.done).toBe(20)
    // Nothing to pause once it has ended.
    expect(jobs.pause(id)).toBe(false)
  })
})

// The job follower against a transport that answers faster than the caller learns the job id:
// the `done` event is delivered before follow() is called, as a fast job (quality checks on a
// small dataset) does over IPC. Pure renderer logic, so a fake transport is the real thing here.
import { describe, expect, it } from 'vitest'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { createJobFollower, type JobTransport } from '@shared/ipc/job-follower'

function fakeTransport(): JobTransport & { emit(job: JobView): void } {
  const listeners = new Set<(job: JobView) => void>()
  return {
    onProgress(l) {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    emit(job) {
      for (const l of [...listeners]) l(job)
    }
  }
}

const job = (id: string, state: JobView['state'], done = 0): JobView => ({
  id, kind: 'quality', title: 'Quality checks', state, done, total: 2, message: state, createdAt: '2026-01-01T00:00:00Z', finishedAt: state === 'running' ? null : '2026-01-01T00:00:01Z', error: null
})

// A job service that runs the whole job synchronously inside `start`, before its id is returned.
function fastStart(t: ReturnType<typeof fakeTransport>, id: string, final: JobView['state'] = 'done'): string {
  t.emit(job(id, 'running', 1))
  t.emit(job(id, final, 2))
  return id
}

describe('job follower', () => {
  it('sees a job end that finished before its id came back (the Quality panel race)', () => {
    const t = fakeTransport()
    const follower = createJobFollower(t)
    const id = fastStart(t, 'q1')
    const updates: string[] = []
    let ended: JobView | null = null
    follower.follow(id, (j) => updates.push(j.state), (j) => (ended = j))
    expect(ended).not.toBeNull()
    expect(ended!.state).toBe('done')
    expect(updates).toEqual(['done'])
  })

  it('follows a slow job live, and stops after the end', () => {
    const t = fakeTransport()
    const follower = createJobFollower(t)
    const updates: string[] = []
    let ends = 0
    follower.follow('s1', (j) => updates.push(`${j.state}:${j.done}`), () => ends++)
    t.emit(job('other', 'running'))
    t.emit(job('s1', 'running', 1))
    t.emit(job('s1', 'failed', 1))
    t.emit(job('s1', 'failed', 2)) // a stray repeat after the end is ignored
    expect(updates).toEqual(['running:1', 'failed:1'])
    expect(ends).toBe(1)
  })

  it('replays only what is recent, and forgets an early event once it is delivered', () => {
    const t = fakeTransport()
    let clock = 0
    const follower = createJobFollower(t, { keepMs: 1000, now: () => clock })
    fastStart(t, 'old')
    clock = 5000
    let oldEnded = false
    follower.follow('old', () => {}, () => (oldEnded = true))
    expect(oldEnded).toBe(false) // too old to be trusted: it is not replayed
    fastStart(t, 'new', 'cancelled')
    let n = 0
    follower.follow('new', () => n++)
    follower.follow('new', () => n++) // a second follower gets nothing replayed
    expect(n).toBe(1)
  })

  it('keeps a bounded number of early events', () => {
    const t = fakeTransport()
    const follower = createJobFollower(t, { maxKept: 10 })
    for (let i = 0; i < 100; i++) fastStart(t, `j${i}`)
    let first = false
    let last = false
    follower.follow('j0', () => {}, () => (first = true))
    follower.follow('j99', () => {}, () => (last = true))
    expect(first).toBe(false)
    expect(last).toBe(true)
  })

  it('an unsubscribe before the end stops the updates', () => {
    const t = fakeTransport()
    const follower = createJobFollower(t)
    let n = 0
    const stop = follower.follow('x', () => n++)
    t.emit(job('x', 'running'))
    stop()
    t.emit(job('x', 'done'))
    expect(n).toBe(1)
  })
})

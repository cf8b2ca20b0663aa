// The state a store keeps for each call to main: what a view shows while it runs and when it fails.
import { describe, expect, it } from 'vitest'
import { ref } from 'vue'
import { trackedCalls } from '../../../src/renderer/src/composables/trackedCalls'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

describe('trackedCalls', () => {
  it('goes idle → loading → done, with the value', async () => {
    const { calls, track } = trackedCalls(['list', 'start'])
    expect(calls.list).toEqual({ state: 'idle', error: null })
    const d = deferred<number[]>()
    const p = track('list', () => d.promise)
    expect(calls.list.state).toBe('loading')
    expect(calls.start.state).toBe('idle')
    d.resolve([1, 2])
    expect(await p).toEqual([1, 2])
    expect(calls.list).toEqual({ state: 'done', error: null })
  })

  it('a failure is the call state error with its message, and the result null', async () => {
    const error = ref<string | null>('an older failure')
    const { calls, track } = trackedCalls(['start'], error)
    const p = track('start', () => Promise.reject(new Error('batch 1024 does not fit')))
    expect(error.value).toBeNull() // a new action hides the old message at once
    expect(await p).toBeNull()
    expect(calls.start).toEqual({ state: 'error', error: 'batch 1024 does not fit' })
    expect(error.value).toBe('batch 1024 does not fit')
    // Trying again clears the message while it runs.
    const again = track('start', async () => 7)
    expect(calls.start).toEqual({ state: 'loading', error: null })
    expect(await again).toBe(7)
    expect(calls.start.state).toBe('done')
  })

  it("'report' keeps the shared message until it fails; 'own' never touches it", async () => {
    const error = ref<string | null>('start failed')
    const { calls, track } = trackedCalls(['refresh', 'estimate'], error)
    await track('refresh', async () => 1, 'report')
    expect(error.value).toBe('start failed')
    await track('estimate', () => Promise.reject(new Error('engine busy')), 'own')
    expect(error.value).toBe('start failed')
    expect(calls.estimate).toEqual({ state: 'error', error: 'engine busy' })
    await track('refresh', () => Promise.reject(new Error('ledger locked')), 'report')
    expect(error.value).toBe('ledger locked')
  })

  it('the latest start of a call decides its state, whichever ends last', async () => {
    const { calls, track } = trackedCalls(['select'])
    const first = deferred<string>()
    const second = deferred<string>()
    const p1 = track('select', () => first.promise)
    const p2 = track('select', () => second.promise)
    second.resolve('run 2')
    await p2
    expect(calls.select.state).toBe('done')
    first.reject(new Error('run 1 was deleted'))
    expect(await p1).toBeNull()
    expect(calls.select).toEqual({ state: 'done', error: null })
  })
})

import { describe, expect, it } from 'vitest'
import { Router } from '@main/ipc/router'
import { channels } from '@shared/ipc/contract'
import { createApi } from '@shared/ipc/api'

describe('Router', () => {
  it('runs a handler with the parsed request and wraps the value', async () => {
    const router = new Router()
    router.handle('jobs:cancel', ({ jobId }) => ({ cancelled: jobId === 'abc' }))
    expect(await router.dispatch('jobs:cancel', { jobId: 'abc' })).toEqual({ ok: true, value: { cancelled: true } })
  })

  it('rejects a malformed payload with a validation error and never calls the handler', async () => {
    const router = new Router()
    let called = false
    router.handle('jobs:start-demo', () => {
      called = true
      return { jobId: 'x' }
    })
    const reply = await router.dispatch('jobs:start-demo', { steps: 'many', stepMs: -1 })
    expect(called).toBe(false)
    expect(reply.ok).toBe(false)
    if (!reply.ok) {
      expect(reply.error.name).toBe('ValidationError')
      expect(reply.error.issues?.map((i) => i.path).sort()).toEqual(['stepMs', 'steps'])
      expect(reply.error.stack).toBeUndefined()
    }
  })

  it('refuses unknown channels and extra keys on strict requests', async () => {
    const router = new Router()
    router.handle('jobs:cancel', () => ({ cancelled: false }))
    const unknown = await router.dispatch('fs:delete-everything', {})
    expect(unknown.ok).toBe(false)
    const extra = await router.dispatch('jobs:cancel', { jobId: 'a', path: '/etc/passwd' })
    expect(extra.ok).toBe(false)
    if (!extra.ok) expect(extra.error.name).toBe('ValidationError')
  })

  it('turns a throwing handler into an error envelope', async () => {
    const router = new Router()
    router.handle('jobs:list', () => {
      throw new TypeError('ledger closed')
    })
    const reply = await router.dispatch('jobs:list', {})
    expect(reply).toEqual({ ok: false, error: { name: 'TypeError', message: 'ledger closed' } })
  })

  it('lists contract channels that still lack a handler', () => {
    const router = new Router()
    router.handle('jobs:list', () => [])
    expect(router.missing()).toContain('system:info')
    expect(router.missing()).not.toContain('jobs:list')
    expect(router.missing().length).toBe(Object.keys(channels).length - 1)
  })
})

describe('createApi', () => {
  it('maps each use case onto its channel', async () => {
    const calls: [string, unknown][] = []
    const api = createApi(
      (async (channel: string, request: unknown) => {
        calls.push([channel, request])
        return {}
      }) as never,
      (() => () => {}) as never
    )
    await api.jobs.cancel('j1')
    await api.jobs.startDemo({ steps: 3, stepMs: 0 })
    await api.system.info()
    expect(calls).toEqual([
      ['jobs:cancel', { jobId: 'j1' }],
      ['jobs:start-demo', { steps: 3, stepMs: 0 }],
      ['system:info', {}]
    ])
  })
})

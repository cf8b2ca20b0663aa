// `window.api`'s method names say which channel they call: `api.runs.delete` calls `runs:delete`,
// never a synonym (a reader of the renderer should find the handler by the name alone).
import { describe, expect, it } from 'vitest'
import { createApi } from '@shared/ipc/api'

// Methods that call a channel of their own namespace under another name, each for a reason.
const ALIASES: Record<string, string> = {
  'datasets.importPaths': 'datasets:import', // beside importFormat: both import, from paths or a format
  'datasets.exportVersion': 'datasets:export', // a frozen version is what gets exported
  'datasets.settings': 'datasets:settings-get',
  'datasets.saveSettings': 'datasets:settings-set'
}

const camel = (verb: string) => verb.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

/** Every request method of the api with the channel it calls (subscriptions are left out). */
function channelsByMethod(): Map<string, string> {
  let last = ''
  const api = createApi(
    (async (channel: string) => {
      last = channel
      return {}
    }) as never,
    (() => () => {}) as never
  ) as unknown as Record<string, Record<string, (...args: unknown[]) => unknown>>
  const out = new Map<string, string>()
  for (const [ns, methods] of Object.entries(api)) {
    for (const [name, fn] of Object.entries(methods)) {
      if (typeof fn !== 'function' || /^on[A-Z]/.test(name)) continue
      last = ''
      void fn(1, 1)
      out.set(`${ns}.${name}`, last)
    }
  }
  return out
}

describe('api method names', () => {
  const channels = channelsByMethod()

  it('deleting a run or a dataset is `delete`, as its channel says', () => {
    expect(channels.get('runs.delete')).toBe('runs:delete')
    expect(channels.get('datasets.delete')).toBe('datasets:delete')
    expect(channels.has('runs.remove')).toBe(false)
  })

  it('every method on its own domain is named after the channel verb (or is a listed alias)', () => {
    const wrong: string[] = []
    for (const [method, channel] of channels) {
      const [ns, name] = method.split('.') as [string, string]
      const [domain, verb] = channel.split(':') as [string, string]
      if (domain !== ns) continue // datasets.tiles → tiles:list: another domain, named by what it returns
      if (ALIASES[method] ? ALIASES[method] !== channel : camel(verb) !== name) wrong.push(`${method} → ${channel}`)
    }
    expect(wrong).toEqual([])
    expect(channels.size).toBeGreaterThan(40)
  })
})

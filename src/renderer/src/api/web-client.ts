// Web mode's `window.api`: the same contract as the Electron preload, over a WebSocket to the
// local web server. The launch token arrives in the page URL and is sent with the upgrade.
import { createApi, type Invoke, type MarsApi, type Subscribe } from '@shared/ipc/api'
import { RemoteError } from '@shared/ipc/errors'
import type { EventName } from '@shared/ipc/contract'

type Reply = { type: 'reply'; id: number; ok: true; value: unknown } | { type: 'reply'; id: number; ok: false; error: { name: string; message: string } }

export type ConnectionState = 'connecting' | 'open' | 'closed'

export function connectWebApi(onState: (state: ConnectionState) => void): MarsApi {
  const token = new URLSearchParams(location.search).get('token') ?? ''
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>()
  const queue: string[] = []
  let nextId = 1
  let socket: WebSocket
  let retry = 0

  const open = () => {
    onState('connecting')
    socket = new WebSocket(`ws://${location.host}/ipc?token=${encodeURIComponent(token)}`)
    socket.onopen = () => {
      retry = 0
      onState('open')
      for (const m of queue.splice(0)) socket.send(m)
    }
    socket.onmessage = (ev) => {
      const message = JSON.parse(String(ev.data)) as Reply | { type: 'event'; event: EventName; payload: unknown }
      if (message.type === 'reply') {
        const p = pending.get(message.id)
        if (!p) return
        pending.delete(message.id)
        if (message.ok) p.resolve(message.value)
        else p.reject(new RemoteError(message.error))
      } else if (message.type === 'event') {
        for (const l of listeners.get(message.event) ?? []) l(message.payload)
      }
    }
    socket.onclose = () => {
      onState('closed')
      for (const p of pending.values()) p.reject(new Error('connection to the MarsFM server was lost'))
      pending.clear()
      // The server may be restarting: try again with back-off.
      setTimeout(open, Math.min(500 * 2 ** retry++, 10_000))
    }
  }
  open()

  const invoke: Invoke = (channel, request) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      const text = JSON.stringify({ type: 'call', id, channel, payload: request })
      if (socket.readyState === WebSocket.OPEN) socket.send(text)
      else queue.push(text)
    })

  const subscribe: Subscribe = (event, listener) => {
    const set = listeners.get(event) ?? new Set()
    set.add(listener as (p: unknown) => void)
    listeners.set(event, set)
    return () => set.delete(listener as (p: unknown) => void)
  }

  return createApi(invoke, subscribe)
}

// A raw WebSocket client for the hostile web-mode tests: sends any frame (text or binary, valid or
// not) to the real web mode and reads what comes back, with timeouts, so a dropped frame or a dead
// server is an outcome the test can see instead of a hang.
import WebSocket from 'ws'
import type { WebApp } from '../support/web-app'

export interface Reply {
  type: string
  id?: number
  ok?: boolean
  value?: unknown
  error?: { name: string; message: string; issues?: { path: string; message: string }[] }
  message?: string
}

export interface Conn {
  ws: WebSocket
  /** Sends one frame as it is (a string is a text frame, a Buffer a binary one). */
  send(frame: string | Buffer): void
  /** The next reply or error (events are skipped); null when none comes within `ms` or the socket closed. */
  next(ms?: number): Promise<Reply | null>
  /** A call with a payload written as JSON text (so it may hold 1e999 or own `__proto__` keys). */
  callRaw(channel: string, payloadText: string, ms?: number): Promise<Reply | null>
  call(channel: string, payload: unknown, ms?: number): Promise<Reply | null>
  closed(): boolean
  close(): void
}

export function wsUrl(app: WebApp): string {
  return `ws://127.0.0.1:${new URL(app.url).port}/ipc?token=${app.token}`
}

export function connectIpc(app: WebApp): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(app), { origin: app.origin })
    const queue: Reply[] = []
    let waiter: ((r: Reply | null) => void) | null = null
    let isClosed = false
    let nextId = 1
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Reply
      if (m.type === 'event') return
      if (waiter) {
        const w = waiter
        waiter = null
        w(m)
      } else queue.push(m)
    })
    ws.on('close', () => {
      isClosed = true
      if (waiter) {
        const w = waiter
        waiter = null
        w(null)
      }
    })
    ws.once('error', (err) => {
      if (!isClosed && ws.readyState !== WebSocket.OPEN) reject(err)
    })
    ws.once('open', () => {
      const conn: Conn = {
        ws,
        send: (frame) => ws.send(frame, { binary: Buffer.isBuffer(frame) }),
        next: (ms = 10_000) =>
          new Promise((res) => {
            if (queue.length) return res(queue.shift()!)
            if (isClosed) return res(null)
            const timer = setTimeout(() => {
              waiter = null
              res(null)
            }, ms)
            waiter = (r) => {
              clearTimeout(timer)
              res(r)
            }
          }),
        async callRaw(channel, payloadText, ms) {
          const id = nextId++
          conn.send(`{"type":"call","id":${id},"channel":${JSON.stringify(channel)},"payload":${payloadText}}`)
          // Replies come in order of completion: skip any stray one for an earlier id.
          for (let i = 0; i < 50; i++) {
            const r = await conn.next(ms)
            if (!r || r.id === id || r.id === undefined) return r
          }
          return null
        },
        call: (channel, payload, ms) => conn.callRaw(channel, encode(payload), ms),
        closed: () => isClosed,
        close: () => ws.close()
      }
      resolve(conn)
    })
  })
}

const INF = '@@+Infinity@@'
const NEG_INF = '@@-Infinity@@'

/** JSON text for a value; ±Infinity are written as ±1e999, which JSON.parse reads back as ±Infinity. */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v === Infinity ? INF : v === -Infinity ? NEG_INF : v))
    .replaceAll(`"${INF}"`, '1e999')
    .replaceAll(`"${NEG_INF}"`, '-1e999')
}

/** Polls `jobs:list` until the job ends (bounded); returns its view. */
export async function waitForJob(conn: Conn, jobId: string, ms = 60_000): Promise<{ state: string; error: { message: string } | null; result?: unknown }> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const r = await conn.call('jobs:list', {})
    const job = (r?.value as { id: string; state: string; error: { message: string } | null; result?: unknown }[] | undefined)?.find((j) => j.id === jobId)
    if (job && ['done', 'failed', 'cancelled'].includes(job.state)) return job
    await new Promise((res) => setTimeout(res, 100))
  }
  throw new Error(`job ${jobId} did not end within ${ms} ms`)
}

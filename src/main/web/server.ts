// Web mode: serves the built renderer on 127.0.0.1 and bridges the very same contract and
// handlers over a WebSocket. A per-launch token (in the printed URL, then an HttpOnly cookie)
// guards every request; wrong Host or Origin headers are refused (DNS-rebinding and CSRF).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AppContext } from '../app/types'

const COOKIE = 'marsfm_token'
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon'
}

export interface WebServer {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

export interface WebServerOptions {
  rendererDir: string
  port?: number
  token?: string
}

export async function startWebServer(ctx: AppContext, opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? randomBytes(24).toString('hex')
  const rendererDir = resolve(opts.rendererDir)
  let port = opts.port ?? 0

  const server: Server = createServer((req, res) => {
    // The token travels in URLs: no page served here may pass it on in a Referer header.
    res.setHeader('referrer-policy', 'no-referrer')
    void serveStatic(req, res).catch((err: Error) => {
      ctx.log.write('error', 'web', redactToken(`${req.url ?? ''}: ${err.message}`))
      if (!res.headersSent) res.writeHead(500).end('internal error')
    })
  })

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const hostOk = (req: IncomingMessage) => allowedHosts().has(req.headers.host ?? '')
  const tokenOk = (req: IncomingMessage, url: URL) => sameSecret(url.searchParams.get('token'), token) || sameSecret(cookieValue(req, COOKIE), token)

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) return void res.writeHead(403).end('forbidden host')
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end()
    const url = requestUrl(req)
    if (!url) return void res.writeHead(400).end('bad request')
    if (!tokenOk(req, url)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' })
      return void res.end('MarsFM web mode needs the token from the URL printed at launch (…/?token=…).')
    }
    let rel: string
    try {
      rel = decodeURIComponent(url.pathname)
    } catch {
      // A malformed %-escape is the client's mistake: 400, not a 500 with the URL in the log.
      return void res.writeHead(400).end('bad request: malformed %-escape in the path')
    }
    if (rel === '/' || !extname(rel)) rel = '/index.html' // client-side routes fall back to the app
    const file = normalize(join(rendererDir, rel))
    if (!file.startsWith(rendererDir + sep)) return void res.writeHead(403).end('forbidden path')
    const info = await stat(file).catch(() => null)
    if (!info?.isFile()) return void res.writeHead(404).end('not found')
    const headers: Record<string, string> = {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      // The token moves from the URL into a cookie the page's scripts cannot read.
      'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`
    }
    res.writeHead(200, headers)
    if (req.method === 'HEAD') return void res.end()
    res.end(await readFile(file))
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy()) // a reset during the handshake is not the server's problem
    const origin = req.headers.origin
    const originOk = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`
    const url = requestUrl(req)
    if (!url || !hostOk(req) || !originOk || url.pathname !== '/ipc' || !tokenOk(req, url)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n')
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ctx, ws))
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolveListen())
  })
  port = (server.address() as { port: number }).port
  const url = `http://127.0.0.1:${port}/?token=${token}`
  ctx.log.write('info', 'web', `web mode listening on http://127.0.0.1:${port}`)
  return {
    url,
    port,
    token,
    close: () =>
      new Promise<void>((done) => {
        for (const client of wss.clients) client.terminate()
        wss.close()
        server.close(() => done())
        server.closeAllConnections()
      })
  }
}

/** A call frame, or why a frame is not one (with the call's id when it had a usable one). */
export type Frame = { ok: true; id: number; channel: string; payload: unknown } | { ok: false; id: number | null; message: string }

/**
 * Checks one WebSocket frame from a page without trusting anything in it: any bytes may arrive
 * (binary, not JSON, `null`, arrays, numbers, wrong shapes). Never throws; never echoes the frame.
 */
export function parseFrame(data: unknown, isBinary: boolean): Frame {
  if (isBinary) return { ok: false, id: null, message: 'malformed message: binary frames are not accepted (send JSON text)' }
  let message: unknown
  try {
    message = JSON.parse(String(data))
  } catch {
    return { ok: false, id: null, message: 'malformed message: not JSON' }
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { ok: false, id: null, message: 'malformed message: expected a JSON object {type:"call", id, channel, payload}' }
  }
  const m = message as Record<string, unknown>
  // Only a non-negative safe integer can be matched by the client's pending calls.
  const id = typeof m.id === 'number' && Number.isSafeInteger(m.id) && m.id >= 0 ? m.id : null
  if (m.type !== 'call') return { ok: false, id, message: 'malformed message: "type" must be "call"' }
  if (id === null) return { ok: false, id, message: 'malformed message: "id" must be a non-negative integer' }
  if (typeof m.channel !== 'string') return { ok: false, id, message: 'malformed message: "channel" must be a string' }
  return { ok: true, id, channel: m.channel, payload: m.payload }
}

/** One WebSocket client: calls go through the router, events are pushed as they happen. */
function bridge(ctx: AppContext, ws: WebSocket): void {
  // Sends only while the socket is open; a reply that cannot be serialised becomes an error reply.
  const send = (value: Record<string, unknown>) => {
    if (ws.readyState !== ws.OPEN) return
    let text: string
    try {
      text = JSON.stringify(value)
    } catch (err) {
      ctx.log.write('error', 'web', `could not serialise a reply: ${(err as Error).message}`)
      text = JSON.stringify({ type: value.type === 'reply' ? 'reply' : 'error', id: value.id, ok: false, error: { name: 'Error', message: 'the reply could not be serialised' } })
    }
    ws.send(text, (err) => {
      if (err) ctx.log.write('debug', 'web', `send failed: ${err.message}`)
    })
  }
  const unsubscribe = ctx.bus.subscribe((event, payload) => send({ type: 'event', event, payload }))
  ws.on('message', (data, isBinary) => {
    // Whatever a frame holds, it gets a typed answer; nothing in here may throw into ws's emitter.
    try {
      const frame = parseFrame(data, isBinary)
      if (!frame.ok) {
        send({ type: 'error', ...(frame.id !== null ? { id: frame.id } : {}), message: frame.message })
        return
      }
      ctx.router
        .dispatch(frame.channel, frame.payload)
        .then((envelope) => send({ type: 'reply', id: frame.id, ...envelope }))
        .catch((err: Error) => {
          ctx.log.write('error', 'web', `call ${frame.id} failed outside its handler: ${err.message}`)
          send({ type: 'reply', id: frame.id, ok: false, error: { name: 'Error', message: 'internal error' } })
        })
    } catch (err) {
      ctx.log.write('error', 'web', `a frame could not be handled: ${(err as Error).message}`)
      send({ type: 'error', message: 'internal error' })
    }
  })
  ws.on('close', unsubscribe)
  ws.on('error', unsubscribe)
}

/** The request's URL, or null when it cannot be parsed (answered 400 / refused). */
function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1')
  } catch {
    return null
  }
}

/** A URL for the log: the token's value never reaches stderr or the log ring buffer. */
export function redactToken(url: string): string {
  return url.replace(/(token=)[^&#\s]*/gi, '$1[redacted]')
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return null
}

function sameSecret(given: string | null, expected: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

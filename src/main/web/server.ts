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
    void serveStatic(req, res).catch((err: Error) => {
      ctx.log.write('error', 'web', `${req.url}: ${err.message}`)
      if (!res.headersSent) res.writeHead(500).end('internal error')
    })
  })

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const hostOk = (req: IncomingMessage) => allowedHosts().has(req.headers.host ?? '')
  const tokenOk = (req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    return sameSecret(url.searchParams.get('token'), token) || sameSecret(cookieValue(req, COOKIE), token)
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) return void res.writeHead(403).end('forbidden host')
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end()
    if (!tokenOk(req)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' })
      return void res.end('MarsFM web mode needs the token from the URL printed at launch (…/?token=…).')
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    let rel = decodeURIComponent(url.pathname)
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
    const origin = req.headers.origin
    const originOk = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`
    const pathOk = new URL(req.url ?? '/', 'http://127.0.0.1').pathname === '/ipc'
    if (!hostOk(req) || !originOk || !pathOk || !tokenOk(req)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n')
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

/** One WebSocket client: calls go through the router, events are pushed as they happen. */
function bridge(ctx: AppContext, ws: WebSocket): void {
  const unsubscribe = ctx.bus.subscribe((event, payload) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'event', event, payload }))
  })
  ws.on('message', (data) => {
    let message: { type?: unknown; id?: unknown; channel?: unknown; payload?: unknown }
    try {
      message = JSON.parse(String(data))
    } catch {
      ws.send(JSON.stringify({ type: 'error', message: 'malformed message: not JSON' }))
      return
    }
    if (message.type !== 'call' || typeof message.id !== 'number') {
      ws.send(JSON.stringify({ type: 'error', message: 'malformed message: expected {type:"call", id, channel, payload}' }))
      return
    }
    const id = message.id
    void ctx.router.dispatch(message.channel, message.payload).then((envelope) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'reply', id, ...envelope }))
    })
  })
  ws.on('close', unsubscribe)
  ws.on('error', unsubscribe)
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

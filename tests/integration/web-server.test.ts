import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { request } from 'node:http'
import { startWebApp, type WebApp } from '../support/web-app'

let app: WebApp
beforeAll(async () => {
  app = await startWebApp()
})
afterAll(async () => {
  await app?.stop()
})

function connect(url: string, origin: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
}

function call(ws: WebSocket, id: number, channel: string, payload: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data))
      if (m.type === 'reply' && m.id === id) {
        ws.off('message', onMessage)
        resolve(m)
      }
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ type: 'call', id, channel, payload }))
  })
}

describe('web mode server', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(new URL(app.url).hostname).toBe('127.0.0.1')
  })

  it('serves the app only with the launch token', async () => {
    expect((await fetch(`${app.origin}/`)).status).toBe(401)
    expect((await fetch(`${app.origin}/?token=wrong`)).status).toBe(401)
    const ok = await fetch(app.url)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('<div id="app">')
    // The token becomes an HttpOnly cookie, so the page's own asset requests are allowed.
    const cookie = ok.headers.get('set-cookie')!
    expect(cookie).toMatch(/HttpOnly/)
    expect((await fetch(`${app.origin}/index.html`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200)
  })

  it('refuses a foreign Host header (DNS rebinding) and path traversal', async () => {
    // fetch cannot forge Host, so use a raw request as a rebinding attacker's page would arrive.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(app.url)
      const req = request({ host: '127.0.0.1', port: u.port, path: `/?token=${app.token}`, headers: { host: 'evil.example' } }, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(403)
    const trav = await fetch(`${app.origin}/..%2f..%2fpackage.json?token=${app.token}`)
    expect([403, 404]).toContain(trav.status)
  })

  it('refuses WebSocket connections without the token or from another origin', async () => {
    const wsUrl = `ws://127.0.0.1:${new URL(app.url).port}/ipc`
    await expect(connect(wsUrl, app.origin)).rejects.toThrow(/403/)
    await expect(connect(`${wsUrl}?token=${app.token}`, 'http://evil.example')).rejects.toThrow(/403/)
    const ws = await connect(`${wsUrl}?token=${app.token}`, app.origin)
    ws.close()
  })

  it('bridges the contract: valid calls answer, malformed payloads get a validation error, the server stays up', async () => {
    const ws = await connect(`ws://127.0.0.1:${new URL(app.url).port}/ipc?token=${app.token}`, app.origin)
    const info = await call(ws, 1, 'system:info', {})
    expect(info.ok).toBe(true)
    expect((info.value as { mode: string }).mode).toBe('web')

    const bad = await call(ws, 2, 'jobs:start-demo', { steps: -3 })
    expect(bad.ok).toBe(false)
    expect((bad.error as { name: string }).name).toBe('ValidationError')

    const unknown = await call(ws, 3, 'shell:exec', { cmd: 'rm -rf /' })
    expect(unknown.ok).toBe(false)

    ws.send('this is not json')
    const list = await call(ws, 4, 'jobs:list', {})
    expect(list.ok).toBe(true)
    ws.close()
  })
})

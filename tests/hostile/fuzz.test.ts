// A seeded fuzz of web mode: 10,000 random WebSocket frames (random JSON, random bytes, binary
// frames, call-shaped frames with bad ids and channels, truncated calls, and calls to every channel
// with random payloads) against one real web-mode process. Every frame must be answered exactly
// once (a reply or a typed error); afterwards the server still serves a valid call, the ledger
// passes integrity_check, and nothing unhandled was logged. MARSFM_FUZZ_SEED replays a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { channels, type Channel } from '@shared/ipc/contract'
import { startWebApp, type WebApp } from '../support/web-app'
import { tempHome } from '../support/temp-home'
import { ledgerSnapshot, printTally, record } from './harness'
import { connectIpc, encode, type Conn } from './web-client'
import { badValues, fieldsOf } from './payloads'

const SEED = Number(process.env.MARSFM_FUZZ_SEED ?? 20261202)
const FRAMES = 10_000
const WINDOW = 64 // frames in flight at once

/** mulberry32: small, seeded, good enough to pick cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Channels whose valid calls start heavy or disruptive work (training, studies, engine restarts,
// demo jobs of 100,000 steps): the fuzz only sends them payloads that are certainly invalid.
const HEAVY = new Set<Channel>([
  'engine:restart',
  'engine:set-backend',
  'jobs:start-demo',
  'runs:start',
  'runs:resume',
  'sweeps:create',
  'reconstruction:start',
  'inference:start',
  'inference:heatmap',
  'models:import',
  'models:export-onnx',
  'datasets:quality',
  'datasets:export',
  'tiles:grid'
])

let app: WebApp
let conn: Conn
const scratch = tempHome('marsfm-fuzz-files-')

beforeAll(async () => {
  app = await startWebApp()
  conn = await connectIpc(app)
})

afterAll(async () => {
  conn?.close()
  await app?.stop()
  scratch.remove()
  printTally('fuzz.test.ts')
})

function generator(random: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const int = (n: number) => Math.floor(random() * n)
  const strings = ['', 'x', 'crater', '__proto__', 'constructor', 'prototype', '\u0000', '\u001b[2J', 'a\nb', '\ud800', '💥', '../../etc/passwd', join(scratch.dir, 'nope'), 'x'.repeat(5000), 'null', '1e999']
  const numbers = ['0', '-1', '1', '2', '1.5', '1e999', '-1e999', '1e300', '-0', '9007199254740993', '65536', '4294967296']
  const keys = ['type', 'id', 'channel', 'payload', '__proto__', 'constructor', 'datasetId', 'name', 'paths', 'path', 'size', 'tileIds', 'x', '']

  /** Random JSON text, depth-limited. */
  const json = (depth: number): string => {
    const r = random()
    if (depth <= 0 || r < 0.45) return pick([pick(numbers), JSON.stringify(pick(strings)), 'true', 'false', 'null'])
    if (r < 0.7) return `[${Array.from({ length: int(5) }, () => json(depth - 1)).join(',')}]`
    return `{${Array.from({ length: int(5) }, () => `${JSON.stringify(pick(keys))}:${json(depth - 1)}`).join(',')}}`
  }

  const allChannels = Object.keys(channels) as Channel[]
  // Built once per field: some are large (100,001-element arrays, 200 kB strings).
  const badCache = new Map<string, { text: string }[]>()
  const bad = (field: string, kind: string) => {
    const key = `${field}:${kind}`
    if (!badCache.has(key)) badCache.set(key, badValues(field, kind))
    return badCache.get(key)!
  }

  /** A payload for a channel: random values in its own fields (certainly invalid for heavy channels). */
  const payload = (channel: Channel): string => {
    const fields = fieldsOf(channel)
    const parts: string[] = []
    for (const [field, kind] of fields) {
      if (random() < 0.3) continue
      parts.push(`${JSON.stringify(field)}:${random() < 0.5 ? pick(bad(field, kind)).text : json(2)}`)
    }
    if (HEAVY.has(channel)) {
      // One field of the wrong kind makes sure the router refuses it before any work starts.
      const [field, kind] = fields.length ? pick(fields) : ['zzUnknown', 'object']
      const wrong = kind === 'string' || kind === 'enum' ? '12345' : kind === 'number' ? '"1"' : kind === 'array' || kind === 'boolean' ? '"a"' : '42'
      return `{${[...parts.filter((p) => !p.startsWith(`${JSON.stringify(field)}:`)), `${JSON.stringify(field)}:${wrong}`].join(',')}}`
    }
    if (random() < 0.1) parts.push(`"__proto__":${json(2)}`)
    return `{${parts.join(',')}}`
  }

  let id = 1
  return (): { kind: string; frame: string | Buffer } => {
    const r = random()
    if (r < 0.45) {
      const channel = pick(allChannels)
      return { kind: 'call with a random payload', frame: `{"type":"call","id":${id++},"channel":${JSON.stringify(channel)},"payload":${payload(channel)}}` }
    }
    if (r < 0.6) return { kind: 'random JSON', frame: json(4) }
    if (r < 0.7) return { kind: 'random bytes as text', frame: Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256))).toString('latin1') }
    if (r < 0.75) return { kind: 'binary frame', frame: Buffer.from(Array.from({ length: int(64) }, () => int(256))) }
    if (r < 0.9) {
      const fields = [`"type":${pick(['"call"', '"call"', '"reply"', 'null', '1'])}`, `"id":${pick([String(id++), ...numbers, '"7"', 'null', '{}'])}`, `"channel":${pick([JSON.stringify(pick(allChannels)), JSON.stringify(pick(strings)), '42', 'null', '[]'])}`, `"payload":${json(3)}`]
      return { kind: 'call-shaped frame', frame: `{${fields.filter(() => random() < 0.85).join(',')}}` }
    }
    const channel = pick(allChannels)
    const whole = `{"type":"call","id":${id++},"channel":${JSON.stringify(channel)},"payload":${payload(channel)}}`
    return { kind: 'truncated call', frame: whole.slice(0, int(whole.length)) }
  }
}

describe(`fuzz: ${FRAMES} random WebSocket frames (seed ${SEED})`, () => {
  it('answers every frame once, keeps serving, keeps the ledger intact, logs nothing unhandled', async () => {
    const started = Date.now()
    const next = generator(rng(SEED))
    const kinds = new Map<string, number>()
    let answered = 0
    let wake: (() => void) | null = null
    conn.ws.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'event') return
      answered++
      wake?.()
    })
    // Resolves at the next answer, or after `ms` (so a silent server is noticed, not waited on).
    const nextAnswer = (ms: number) =>
      new Promise<void>((res) => {
        const timer = setTimeout(() => {
          wake = null
          res()
        }, ms)
        wake = () => {
          clearTimeout(timer)
          wake = null
          res()
        }
      })
    let sent = 0
    for (let i = 0; i < FRAMES; i++) {
      const { kind, frame } = next()
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
      conn.send(frame)
      sent++
      // Bounded wait for the window to drain: a server that stops answering fails here, not hangs.
      for (let spins = 0; sent - answered > WINDOW; spins++) {
        // 60 s: a busy 2-core machine (the engine starting beside the suite) may stall it a while.
        if (spins > 60 || conn.closed()) throw new Error(`after ${sent} frames the server stopped answering (answered ${answered})`)
        await nextAnswer(1000)
      }
    }
    const until = Date.now() + 30_000
    while (answered < sent && Date.now() < until && !conn.closed()) await nextAnswer(1000)
    const seconds = (Date.now() - started) / 1000
    console.log(`fuzz seed ${SEED}: ${sent} frames, ${answered} answers in ${seconds.toFixed(1)} s; ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`)
    for (const [kind, n] of kinds) for (let k = 0; k < n; k++) record('fuzz', kind, answered === sent ? 'handled' : 'crash')

    expect(conn.closed()).toBe(false)
    expect(answered).toBe(sent)
    expect(seconds).toBeLessThan(60)
    // Still serving valid calls (on a new connection: this one's queue holds the fuzz answers).
    const fresh = await connectIpc(app)
    expect((await fresh.call('datasets:list', {}))?.ok).toBe(true)
    expect((await fresh.call('system:info', {}, 30_000))?.ok).toBe(true)
    fresh.close()
    expect(app.proc.exitCode).toBeNull()
    expect(ledgerSnapshot(join(app.home, 'ledger.sqlite')).integrity).toBe('ok')
    // Nothing unhandled: no uncaught exception, no error logged by the web bridge.
    expect(app.stderr()).not.toMatch(/uncaught|unhandled/i)
    expect(app.stderr()).not.toMatch(/\berror\s+web:/)
  })
})

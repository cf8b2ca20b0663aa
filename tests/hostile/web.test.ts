// Hostile inputs against the real web mode (`node out/main/web.js`, its own MARSFM_HOME, a real
// SQLite ledger): WebSocket frames of every bad kind, generated bad payloads for every channel of
// the contract, imports pointed at files that are not annotations (their content must never come
// back), and bad HTTP requests. After each group the server still answers, the ledger is intact
// and unchanged, and nothing was left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { connect as tcpConnect } from 'node:net'
import sharp from 'sharp'
import { startWebApp, type WebApp } from '../support/web-app'
import { tempHome } from '../support/temp-home'
import { expectClearError, expectLedgerUnchanged, ledgerSnapshot, listFiles, printTally, record, tempLeftovers } from './harness'
import { connectIpc, waitForJob, type Conn, type Reply } from './web-client'
import { payloadCases } from './payloads'

let app: WebApp
let conn: Conn
let ledger: string
let datasetId: number
const files = tempHome('marsfm-hostile-files-')
// Word characters only, so it also reads as an XML name or entity reference.
const SECRET = `SECRET_${randomBytes(8).toString('hex')}`

beforeAll(async () => {
  app = await startWebApp()
  ledger = join(app.home, 'ledger.sqlite')
  conn = await connectIpc(app)
  const created = await conn.call('datasets:create', { name: 'hostile' })
  expect(created?.ok).toBe(true)
  datasetId = (created!.value as { id: number }).id
})

afterAll(async () => {
  conn?.close()
  await app?.stop()
  files.remove()
  printTally('web.test.ts')
})

/** The server still answers a valid call on a fresh connection. */
async function expectAlive(): Promise<void> {
  expect(app.proc.exitCode).toBeNull()
  const fresh = await connectIpc(app)
  const r = await fresh.call('datasets:list', {})
  fresh.close()
  expect(r?.ok).toBe(true)
}

function errorText(r: Reply): string {
  return r.type === 'error' ? r.message ?? '' : r.error?.message ?? ''
}

describe('WebSocket frames', () => {
  // Each frame must get a typed error reply (never a crash, never silence).
  const frames: [string, string | Buffer, RegExp][] = [
    ['null', 'null', /expected a JSON object/],
    ['number', '42', /expected a JSON object/],
    ['negative number', '-1e999', /expected a JSON object/],
    ['string', '"call"', /expected a JSON object/],
    ['boolean', 'true', /expected a JSON object/],
    ['empty array', '[]', /expected a JSON object/],
    ['array of calls', '[{"type":"call","id":1,"channel":"datasets:list","payload":{}}]', /expected a JSON object/],
    ['empty object', '{}', /"type" must be "call"/],
    ['not JSON', '{"type":"call",', /not JSON/],
    ['empty text', '', /not JSON/],
    ['garbage', '\u0000\u0001\u0002garbage', /not JSON/],
    ['deep nesting', '['.repeat(100_000), /not JSON|expected a JSON object/],
    ['deep valid nesting', `${'['.repeat(5_000)}${']'.repeat(5_000)}`, /expected a JSON object/],
    ['binary frame', Buffer.from([0xde, 0xad, 0xbe, 0xef]), /binary frames/],
    ['binary JSON', Buffer.from('{"type":"call","id":1,"channel":"datasets:list","payload":{}}'), /binary frames/],
    ['wrong type', '{"type":"event","id":1,"channel":"datasets:list"}', /"type" must be "call"/],
    ['type null', '{"type":null,"id":1}', /"type" must be "call"/],
    ['no id', '{"type":"call","channel":"datasets:list","payload":{}}', /"id" must be a non-negative integer/],
    ['string id', '{"type":"call","id":"1","channel":"datasets:list","payload":{}}', /"id"/],
    ['negative id', '{"type":"call","id":-1,"channel":"datasets:list","payload":{}}', /"id"/],
    ['fractional id', '{"type":"call","id":1.5,"channel":"datasets:list","payload":{}}', /"id"/],
    ['Infinity id', '{"type":"call","id":1e999,"channel":"datasets:list","payload":{}}', /"id"/],
    ['unsafe id', '{"type":"call","id":1e300,"channel":"datasets:list","payload":{}}', /"id"/],
    ['object id', '{"type":"call","id":{"valueOf":1},"channel":"datasets:list","payload":{}}', /"id"/],
    ['no channel', '{"type":"call","id":7,"payload":{}}', /"channel" must be a string/],
    ['numeric channel', '{"type":"call","id":7,"channel":42,"payload":{}}', /"channel" must be a string/],
    ['array channel', '{"type":"call","id":7,"channel":["datasets:list"],"payload":{}}', /"channel" must be a string/],
    ['__proto__ at the top', '{"__proto__":{"type":"call","id":1,"channel":"datasets:list"}}', /"type" must be "call"/],
    ['duplicate keys', '{"type":"call","type":"nope","id":3,"channel":"datasets:list"}', /"type" must be "call"/]
  ]
  for (const [name, frame, expected] of frames) {
    it(`answers a ${name} frame with a typed error`, async () => {
      const before = ledgerSnapshot(ledger)
      conn.send(frame)
      const r = await conn.next()
      const outcome = r === null ? (app.proc.exitCode !== null ? 'crash' : 'hang') : r.type === 'error' ? 'clear-error' : 'silent-acceptance'
      record('ws-frame', name, outcome)
      expect(r, `no answer to the ${name} frame`).not.toBeNull()
      expect(r!.type).toBe('error')
      expectClearError(errorText(r!), { names: expected })
      expectLedgerUnchanged(before, ledgerSnapshot(ledger))
    })
  }

  // Frames that are calls to channels that do not exist: a reply with the id and a ValidationError.
  const unknownChannels = ['nope:nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'system:info ', 'SYSTEM:INFO', '', 'x'.repeat(1_000_000)]
  for (const channel of unknownChannels) {
    const label = channel.length > 40 ? `${channel.length}-character` : JSON.stringify(channel)
    it(`refuses the unknown channel ${label}`, async () => {
      const r = await conn.call(channel, {})
      record('ws-frame', `unknown channel ${label}`, r?.type === 'reply' && r.ok === false ? 'clear-error' : r ? 'silent-acceptance' : 'crash')
      expect(r?.type).toBe('reply')
      expect(r!.ok).toBe(false)
      expect(r!.error!.name).toBe('ValidationError')
      expectClearError(r!.error!.message, { names: 'unknown channel' })
    })
  }

  it('drops a frame over the size limit by closing that socket only, and keeps serving', async () => {
    const big = await connectIpc(app)
    big.send(`{"type":"call","id":1,"channel":"datasets:list","payload":"${'x'.repeat(70 * 2 ** 20)}"}`)
    const r = await big.next(20_000)
    record('ws-frame', 'frame over the size limit', r === null && big.closed() ? 'handled' : 'silent-acceptance')
    expect(r).toBeNull()
    expect(big.closed()).toBe(true)
    await expectAlive()
  })

  it('drops a text frame that is not UTF-8 by closing that socket only', async () => {
    const bad = await connectIpc(app)
    bad.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    const r = await bad.next(10_000)
    record('ws-frame', 'text frame that is not UTF-8', r === null && bad.closed() ? 'handled' : 'silent-acceptance')
    expect(r).toBeNull()
    expect(bad.closed()).toBe(true)
    await expectAlive()
  })

  it('survives a client that disconnects before its reply is sent', async () => {
    const quitter = await connectIpc(app)
    for (let i = 0; i < 20; i++) quitter.send(`{"type":"call","id":${i},"channel":"datasets:list","payload":{}}`)
    quitter.ws.terminate()
    record('ws-frame', 'disconnect before the reply', 'handled')
    await expectAlive()
  })

  it('keeps serving after all of them: a valid call still answers', async () => {
    await expectAlive()
    expect(app.stderr()).not.toMatch(/Uncaught|TypeError|unhandled/i)
  })
})

describe('IPC payloads for every channel', () => {
  const cases = payloadCases()
  const byChannel = new Map<string, typeof cases>()
  for (const c of cases) byChannel.set(c.channel, [...(byChannel.get(c.channel) ?? []), c])

  it(`generates bad payloads for every channel of the contract (${cases.length} cases)`, () => {
    expect(byChannel.size).toBeGreaterThanOrEqual(60)
  })

  for (const [channel, list] of byChannel) {
    it(`${channel}: ${list.length} bad payloads get a ValidationError naming the field`, async () => {
      const before = ledgerSnapshot(ledger)
      const beforeFiles = listFiles(app.home)
      const failures: string[] = []
      for (const c of list) {
        const r = await conn.callRaw(c.channel, c.text)
        let outcome: 'clear-error' | 'crash' | 'hang' | 'silent-acceptance' = 'clear-error'
        if (!r) outcome = app.proc.exitCode !== null ? 'crash' : 'hang'
        else if (r.ok !== false) outcome = 'silent-acceptance'
        else {
          try {
            expect(r.error!.name).toBe('ValidationError')
            expectClearError(r.error!.message, { names: c.names })
          } catch (err) {
            failures.push(`${c.name}: ${(err as Error).message.split('\n')[0]} — got ${r.error!.name}: ${r.error!.message.slice(0, 300)}`)
          }
        }
        if (outcome !== 'clear-error') failures.push(`${c.name}: ${outcome}`)
        record('ipc-payload', `${channel} ${c.name}`, outcome)
      }
      expect(failures).toEqual([])
      expectLedgerUnchanged(before, ledgerSnapshot(ledger))
      expect(listFiles(app.home)).toEqual(beforeFiles)
      expect(tempLeftovers(app.home)).toEqual([])
    })
  }

  it('leaves the server serving and no prototype polluted', async () => {
    await expectAlive()
    // A polluted Object.prototype would show up as an extra key on every object the server builds.
    const r = await conn.call('datasets:list', {})
    expect(JSON.stringify(r)).not.toContain('polluted')
  })
})

describe('imports pointed at files that are not annotations', () => {
  // A file a web page might want to read: the import must fail (or skip it) without its content.
  const secretText = `${SECRET} root:x:0:0:root:/root:/bin/bash\n${SECRET}_line2 more\n`

  /** What a user reads about an import: the call's or job's error, or the files it failed. */
  function readable(started: Reply | null, job?: { error: { message: string } | null; result?: unknown }): string {
    if (!started?.ok) return started?.error?.message ?? 'no answer'
    if (job?.error) return job.error.message
    const result = job?.result as { failed?: { path: string; reason: string }[] } | undefined
    return (result?.failed ?? []).map((f) => `${f.path}: ${f.reason}`).join('\n')
  }

  /** Runs an import to its end; returns everything sent back (for the echo check) and what a user reads. */
  async function runImport(channel: 'datasets:import-format' | 'datasets:import', payload: Record<string, unknown>): Promise<{ all: string; text: string }> {
    const before = ledgerSnapshot(ledger)
    const started = await conn.call(channel, { datasetId, ...payload })
    const job = started?.ok ? await waitForJob(conn, (started.value as { jobId: string }).jobId) : undefined
    // Nothing was imported from a file that is not annotations or images.
    expectLedgerUnchanged(before, ledgerSnapshot(ledger), ['settings'])
    return { all: JSON.stringify([started, job]), text: readable(started, job) }
  }

  const importFailure = (format: string, path: string) => runImport('datasets:import-format', { format, path })

  function check(name: string, got: { all: string; text: string }, names: string | RegExp) {
    const echoed = got.all.includes(SECRET)
    record('content-echo', name, echoed ? 'content-echo' : 'clear-error')
    expect(echoed, `${name} echoed the file's content: ${got.all.slice(0, 400)}`).toBe(false)
    expectClearError(got.text, { names, secret: SECRET })
  }

  it('landmarks: a text file gives the line number, not the line', async () => {
    const f = join(files.dir, 'shadow.txt')
    writeFileSync(f, secretText)
    check('landmarks on a text file', await importFailure('landmarks', f), /line 1: expected "<file> <class>"/)
  })

  it('landmarks: a folder is named as a folder', async () => {
    check('landmarks on a folder', await importFailure('landmarks', files.dir), /is a folder/)
  })

  it('COCO: a file that is not JSON gives no snippet of it', async () => {
    // V8's parse error quotes about ten characters: a short secret at the start would be in them.
    const short = `ZQ${Array.from(randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join('')}`
    const f = join(files.dir, 'config.json')
    writeFileSync(f, `${short}:${secretText}`)
    const got = await importFailure('coco', f)
    expect(got.all).not.toContain(short)
    check('coco on a text file', got, /config\.json: not valid JSON/)
  })

  it('COCO: a truncated JSON file gives the line and column', async () => {
    const f = join(files.dir, 'truncated.json')
    writeFileSync(f, `{"images": [{"id": 1, "file_name": "${SECRET}"`)
    check('coco on truncated JSON', await importFailure('coco', f), /not valid JSON at line 1, column \d+/)
  })

  it('COCO: string fields in the wrong place are not echoed', async () => {
    const f = join(files.dir, 'fields.json')
    writeFileSync(f, JSON.stringify({ images: [{ id: 1, file_name: SECRET, width: 'w' }], annotations: [{ id: SECRET, image_id: 1, category_id: SECRET, bbox: [0, 0, 1, 1] }], categories: [] }))
    check('coco with secret strings in fields', await importFailure('coco', f), /images\[0\] \(id 1\) has no numeric "width"\/"height"/)
    writeFileSync(f, JSON.stringify({ images: [{ id: 1, file_name: 'a.png', width: 1, height: 1 }], annotations: [{ id: SECRET, image_id: 1, category_id: SECRET, bbox: [0, 0, 1, 1] }], categories: [] }))
    check('coco with a secret category id', await importFailure('coco', f), /annotations\[0\] refers to category_id/)
  })

  it('YOLO: label values are not echoed', async () => {
    const root = join(files.dir, 'yolo')
    mkdirSync(join(root, 'images'), { recursive: true })
    mkdirSync(join(root, 'labels'), { recursive: true })
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toFile(join(root, 'images', 'a.png'))
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 7, g: 7, b: 7 } } }).png().toFile(join(root, 'images', 'b.png'))
    writeFileSync(join(root, 'labels', 'a.txt'), `${SECRET} 0.5 0.5 0.1 0.1\n`)
    writeFileSync(join(root, 'labels', 'b.txt'), `0 0.5 ${SECRET} 0.1 0.1\n`)
    const got = await runImport('datasets:import-format', { format: 'yolo', path: root })
    check('yolo with secret values', got, /a\.txt: line 1: the class is not a non-negative integer/)
    expect(got.text).toMatch(/b\.txt: line 1: cy is not a number in \[0, 1\]/)
  })

  it('VOC: element names and values are not echoed', async () => {
    const cases: [string, string, RegExp][] = [
      ['root element', `<${SECRET}><filename>a.png</filename></${SECRET}>`, /root element is not <annotation>/],
      ['object name', `<annotation><filename>a.png</filename><object><name>${SECRET}</name></object></annotation>`, /object 1 has no <bndbox>/],
      ['coordinate', `<annotation><filename>a.png</filename><object><name>c</name><bndbox><xmin>1</xmin><ymin>${SECRET}</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>`, /<ymin> is not a number/],
      ['mismatched tag', `<annotation><filename>a.png</filename><${SECRET}></annotation>`, /closing tag does not match .* at line 1, column \d+/],
      ['unknown entity', `<annotation><filename>&${SECRET};</filename></annotation>`, /unknown entity at line 1/]
    ]
    for (const [name, xml, names] of cases) {
      const f = join(files.dir, `${name.replace(/\W/g, '-')}.xml`)
      writeFileSync(f, xml)
      check(`voc ${name}`, await importFailure('voc', f), names)
    }
  })

  it('an image import of a text file says it cannot decode it, without its content', async () => {
    const f = join(files.dir, 'fake.png')
    writeFileSync(f, secretText)
    check('image import of a text file', await runImport('datasets:import', { paths: [f] }), /fake\.png: not a readable image/)
  })

  it('a missing path says it does not exist (useful to the local user), and nothing more', async () => {
    const missing = join(files.dir, 'no-such-file.txt')
    const got = await importFailure('landmarks', missing)
    record('content-echo', 'missing path', 'clear-error')
    expectClearError(got.text, { names: /not found: \S*no-such-file\.txt/ })
  })

  it('an export to a folder under /proc fails with the path instead of never returning', async () => {
    // Node 20's recursive mkdir spins forever on /proc paths: enough of these would stall main's thread pool.
    const png = join(files.dir, 'tile.png')
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 50, g: 40, b: 30 } } }).png().toFile(png)
    const imported = await conn.call('datasets:import', { datasetId, paths: [png] })
    expect((await waitForJob(conn, (imported!.value as { jobId: string }).jobId)).state).toBe('done')
    const frozen = await conn.call('datasets:freeze', { datasetId, note: 'hostile' })
    expect(frozen?.ok, JSON.stringify(frozen)).toBe(true)
    const versionId = (frozen!.value as { id: number }).id
    const before = ledgerSnapshot(ledger)
    const started = await conn.call('datasets:export', { versionId, format: 'coco', outDir: '/proc/marsfm-hostile/out' })
    expect(started?.ok).toBe(true)
    const job = await waitForJob(conn, (started!.value as { jobId: string }).jobId, 15_000).catch(() => null)
    record('paths', 'export under /proc', job === null ? 'hang' : job.state === 'failed' ? 'clear-error' : 'silent-acceptance')
    expect(job?.state).toBe('failed')
    expectClearError(job!.error!.message, { names: '/proc/marsfm-hostile' })
    expectLedgerUnchanged(before, ledgerSnapshot(ledger))
  })

  it('the server logged none of the content', () => {
    expect(app.stderr()).not.toContain(SECRET)
  })
})

describe('HTTP requests', () => {
  function raw(requestText: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(Number(new URL(app.url).port), '127.0.0.1')
      let data = ''
      socket.on('data', (d) => (data += String(d)))
      socket.on('end', () => resolve(data))
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
      socket.setTimeout(5000, () => socket.destroy())
      socket.write(requestText)
    })
  }

  function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: new URL(app.url).port, path, headers: { host: new URL(app.url).host, ...headers } }, (res) => {
        res.resume()
        resolve({ status: res.statusCode!, headers: res.headers })
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('answers a malformed %-escape with 400 and never logs the token', async () => {
    const r = await get(`/%E0%A4%A?token=${app.token}`)
    record('http', 'malformed %-escape', r.status === 400 ? 'clear-error' : 'silent-acceptance')
    expect(r.status).toBe(400)
    const r2 = await get(`/%?token=${app.token}`)
    record('http', 'lone %', r2.status === 400 ? 'clear-error' : 'silent-acceptance')
    expect(r2.status).toBe(400)
    expect(app.stderr()).not.toContain(app.token)
  })

  it('answers an absolute-form URL it cannot parse with 400, and an upgrade with one with 403', async () => {
    const text = await raw(`GET http://[::1 HTTP/1.1\r\nHost: ${new URL(app.url).host}\r\nConnection: close\r\n\r\n`)
    record('http', 'unparseable absolute URL', /^HTTP\/1\.1 400/.test(text) ? 'clear-error' : 'silent-acceptance')
    expect(text).toMatch(/^HTTP\/1\.1 400/)
    const up = await raw(
      `GET http://[::1 HTTP/1.1\r\nHost: ${new URL(app.url).host}\r\nOrigin: ${app.origin}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`
    )
    record('http', 'upgrade with an unparseable URL', /^HTTP\/1\.1 (400|403)/.test(up) ? 'clear-error' : 'silent-acceptance')
    expect(up).toMatch(/^HTTP\/1\.1 (400|403)/)
    await expectAlive()
  })

  it('sends Referrer-Policy: no-referrer on every response', async () => {
    const responses = {
      ok: await get(`/?token=${app.token}`),
      unauthorised: await get('/'),
      'not found': await get(`/missing.js?token=${app.token}`),
      'bad escape': await get(`/%zz?token=${app.token}`),
      'wrong host': await get(`/?token=${app.token}`, { host: 'evil.example' }),
      'wrong method': await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const req = request({ method: 'POST', host: '127.0.0.1', port: new URL(app.url).port, path: `/?token=${app.token}`, headers: { host: new URL(app.url).host } }, (res) => {
          res.resume()
          resolve({ status: res.statusCode!, headers: res.headers })
        })
        req.on('error', reject)
        req.end('x')
      })
    }
    for (const [name, r] of Object.entries(responses)) {
      record('http', `referrer policy on ${name}`, r.headers['referrer-policy'] === 'no-referrer' ? 'handled' : 'silent-acceptance')
      expect(r.headers['referrer-policy'], name).toBe('no-referrer')
    }
    expect(responses.ok.status).toBe(200)
    expect(responses.unauthorised.status).toBe(401)
    expect(responses['wrong method'].status).toBe(405)
  })

  it('redacts the token wherever the server logs a URL', () => {
    expect(app.stderr()).not.toContain(app.token)
  })
})

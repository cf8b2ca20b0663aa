import { afterEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { CLI_ENTRY, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const homes: { remove(): void }[] = []
afterEach(() => homes.splice(0).forEach((h) => h.remove()))

function marsfm(args: string[]) {
  requireBuild()
  const home = tempHome()
  homes.push(home)
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr, home: home.dir }
}

describe('marsfm CLI', () => {
  it('info --json reports the engine backend, ONNX Runtime and the ledger', () => {
    const r = marsfm(['info', '--json'])
    expect(r.code).toBe(0)
    const info = JSON.parse(r.out)
    expect(info.mode).toBe('cli')
    expect(info.engine.state).toBe('ready')
    expect(['wasm', 'cpu', 'tensorflow']).toContain(info.engine.backend)
    expect(info.onnxruntime.version).toMatch(/^\d+\.\d+/)
    expect(info.onnxruntime.executionProviders).toContain('cpu')
    expect(info.dataDir).toBe(r.home)
    expect(info.ledger.schemaVersion).toBeGreaterThanOrEqual(1)
  })

  it('info prints a readable table', () => {
    const r = marsfm(['info'])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/TensorFlow\.js backend\s+\w+/)
    expect(r.out).toMatch(/Ledger\s+.*ledger\.sqlite/)
  })

  it('exits 2 with usage on unknown commands and options', () => {
    const unknown = marsfm(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/)
    const badOption = marsfm(['info', '--colour'])
    expect(badOption.code).toBe(2)
    expect(badOption.err).toMatch(/usage: marsfm info/)
  })

  it('prints help and version', () => {
    expect(marsfm(['help']).out).toMatch(/usage: marsfm <command>/)
    expect(marsfm(['--version']).out.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})

// A scratch directory per test file for checkpoints built on the fly (removed afterwards).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

export function scratchDir(tag: string): { path: (name: string) => string; write: (name: string, data: Uint8Array) => string } {
  const dir = mkdtempSync(join(tmpdir(), `marsfm-${tag}-`))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const path = (name: string): string => join(dir, name)
  return {
    path,
    write: (name, data) => {
      writeFileSync(path(name), data)
      return path(name)
    }
  }
}

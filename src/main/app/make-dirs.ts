// `mkdir -p` for folders a user names (export targets). Node 20's recursive mkdir never returns
// for a path under /proc (it spins in a thread-pool thread, or on the main thread when sync), so
// a hostile or mistyped path could stall web mode: here each missing level is made on its own,
// and the first one the system refuses is reported with its path.
import { mkdirSync, statSync } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

const MAX_DEPTH = 4096 // more levels than any path can have: the walk up is bounded

function missingLevels(dir: string, exists: (p: string) => boolean | 'not-a-folder'): string[] {
  const missing: string[] = []
  let d = resolve(dir)
  for (let i = 0; i < MAX_DEPTH; i++) {
    const found = exists(d)
    if (found === 'not-a-folder') throw new Error(`${d} is a file, not a folder`)
    if (found) break
    missing.push(d)
    const parent = dirname(d)
    if (parent === d) break
    d = parent
  }
  return missing.reverse()
}

export async function makeDirs(dir: string): Promise<void> {
  const known = new Map<string, boolean | 'not-a-folder'>()
  // Stat every level first (async), then walk the answers.
  let d = resolve(dir)
  for (let i = 0; i < MAX_DEPTH; i++) {
    const st = await stat(d).catch(() => null)
    known.set(d, st ? (st.isDirectory() ? true : 'not-a-folder') : false)
    if (st) break
    const parent = dirname(d)
    if (parent === d) break
    d = parent
  }
  for (const level of missingLevels(dir, (p) => known.get(p) ?? true)) {
    await mkdir(level).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    })
  }
}

export function makeDirsSync(dir: string): void {
  const exists = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false })
    return st ? (st.isDirectory() ? true : ('not-a-folder' as const)) : false
  }
  for (const level of missingLevels(dir, exists)) {
    try {
      mkdirSync(level)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}

// No import circles in src/ (type-only ones included): each layer depends on the ones below it, so
// services depend on the AppContext type, not on the composition root that registers them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importCircles, importGraph } from '../../support/import-graph'

const ROOT = resolve(__dirname, '..', '..', '..')
const ALIASES = { '@shared/': 'src/shared/', '@engine/': 'src/engine/', '@main/': 'src/main/', '@renderer/': 'src/renderer/src/' }

describe('import circles', () => {
  it('src/ has none', () => {
    const graph = importGraph(ROOT, 'src', ALIASES)
    expect(graph.size).toBeGreaterThan(150)
    expect(graph.get('src/main/app/context.ts')).toContain('src/main/services/index.ts')
    expect(importCircles(graph)).toEqual([])
  })

  it('the check finds a type-only circle through an alias, and a self-import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'marsfm-circles-'))
    try {
      mkdirSync(join(dir, 'src', 'shared'), { recursive: true })
      writeFileSync(join(dir, 'src', 'a.ts'), "import { b } from './b'\nexport const a = b\n")
      writeFileSync(join(dir, 'src', 'b.ts'), "import type { C } from '@shared/c'\nexport const b = 1 as unknown as C\n")
      writeFileSync(join(dir, 'src', 'shared', 'c.ts'), "export type C = typeof import('../a')\n")
      writeFileSync(join(dir, 'src', 'self.ts'), "export * from './self'\n")
      writeFileSync(join(dir, 'src', 'leaf.ts'), "import { a } from './a'\nimport 'node:fs'\nexport const leaf = a\n")
      const circles = importCircles(importGraph(dir, 'src', { '@shared/': 'src/shared/' }))
      expect(circles).toEqual([['src/a.ts', 'src/b.ts', 'src/shared/c.ts'], ['src/self.ts']])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// Only stores and composables talk to main: views and components render what they hold and call
// their actions. So no renderer file outside stores/, composables/ and api/ (which builds the
// object) names `window.api` (or any other preload global) or imports the api module; and the
// preload exposes one global, `api`.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importGraph } from '../../support/import-graph'

const ROOT = resolve(__dirname, '..', '..', '..')
const RENDERER = 'src/renderer/src'
const CALLERS = ['stores/', 'composables/', 'api/']

/** The source without comments, so a comment may still name `window.api` (`://` in URLs is kept). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : /\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts') ? [p] : []
  })
}

/** `file: what it does` for every renderer file that reaches main without being a store or composable. */
function strayCallers(root: string): string[] {
  const base = join(root, RENDERER)
  const allowed = (rel: string) => CALLERS.some((c) => rel.startsWith(c))
  const out: string[] = []
  for (const file of files(base)) {
    const rel = relative(base, file)
    if (allowed(rel)) continue
    for (const m of code(readFileSync(file, 'utf8')).matchAll(/\bwindow\s*\.\s*(api|desktop)\b|\bwindow\s*\[\s*['"](api|desktop)['"]\s*\]/g)) out.push(`${rel}: window.${m[1] ?? m[2]}`)
  }
  const graph = importGraph(root, RENDERER, { '@renderer/': `${RENDERER}/` })
  for (const [file, deps] of graph) {
    const rel = relative(RENDERER, file)
    if (allowed(rel)) continue
    for (const dep of deps) if (relative(RENDERER, dep).startsWith('api/')) out.push(`${rel}: imports ${relative(RENDERER, dep)}`)
  }
  return out.sort()
}

const TRACKED_ARROW_BEFORE = /\btrack(<[^>]*>)?\(\s*['"\w]+,\s*(async\s*)?\(\)\s*=>[^\n]*\n?[^\n]*$/

/** `store: call` for every request a store makes to main outside `track(…)` (subscriptions are events, not calls). */
function untrackedStoreCalls(root: string): string[] {
  const out: string[] = []
  for (const file of files(join(root, RENDERER, 'stores'))) {
    const text = code(readFileSync(file, 'utf8'))
    for (const m of text.matchAll(/\bapi\.(\w+)(\.\w+|\[\w+\])\(/g)) {
      if (/^\.on[A-Z]/.test(m[2]!)) continue
      // The call must be the body of a tracked arrow, `track('name', () => api.x.y(…))`, perhaps on the next line.
      const before = text.slice(Math.max(0, m.index! - 120), m.index)
      if (!TRACKED_ARROW_BEFORE.test(before)) out.push(`${relative(join(root, RENDERER), file)}: api.${m[1]}${m[2]}`)
    }
  }
  return out.sort()
}

describe('renderer: who calls window.api', () => {
  it('only stores, composables and the api module itself', () => {
    expect(files(join(ROOT, RENDERER)).length).toBeGreaterThan(40)
    expect(strayCallers(ROOT)).toEqual([])
  })

  it('every call a store makes has its own state (it goes through track)', () => {
    expect(untrackedStoreCalls(ROOT)).toEqual([])
  })

  it('the preload exposes one global, api', () => {
    const preload = code(readFileSync(join(ROOT, 'src/preload/index.ts'), 'utf8'))
    expect([...preload.matchAll(/exposeInMainWorld\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1])).toEqual(['api'])
  })

  it('the check finds a view that reads window.api or imports the api module, and lets a store do both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'marsfm-api-callers-'))
    try {
      const at = (p: string, text: string) => {
        mkdirSync(join(dir, RENDERER, p, '..'), { recursive: true })
        writeFileSync(join(dir, RENDERER, p), text)
      }
      at('api/index.ts', 'export const api = window.api\n')
      at('stores/runs.ts', "import { api } from '../api'\nexport const list = () => window.api!.runs.list()\n")
      at('views/RunsView.vue', "<script setup lang=\"ts\">\n// window.api is only named in this comment\nimport { api } from '@renderer/api'\nvoid api\n</script>\n")
      at('components/Drop.vue', '<script setup lang="ts">\nconst p = window.desktop?.pathForFile\nconst q = window["api"]\n</script>\n')
      expect(strayCallers(dir)).toEqual(['components/Drop.vue: window.api', 'components/Drop.vue: window.desktop', 'views/RunsView.vue: imports api/index.ts'])
      at(
        'stores/models.ts',
        "const a = await track('list', () => api.models.list())\nconst b = await track('get', async () =>\n  (x = await api.models.get(1)))\nconst c = await api.models.remove(1)\napi.models.onChange(f)\n"
      )
      expect(untrackedStoreCalls(dir)).toEqual(['stores/models.ts: api.models.remove'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

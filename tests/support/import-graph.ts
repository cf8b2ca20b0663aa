// The import graph of a source tree, read from the TypeScript / Vue files' import and export-from
// statements (static and `import('…')`, type-only ones too: a type-only circle still couples the
// files), with the project's path aliases; and its circles (strongly connected components).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SPECIFIERS = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

function resolveImport(root: string, aliases: Record<string, string>, from: string, spec: string): string | undefined {
  let base: string | undefined
  for (const [prefix, target] of Object.entries(aliases)) if (spec.startsWith(prefix)) base = join(root, target, spec.slice(prefix.length))
  if (!base && spec.startsWith('.')) base = resolve(dirname(from), spec)
  if (!base) return undefined // a package
  return [base, `${base}.ts`, `${base}.vue`, join(base, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile())
}

/** file -> files it imports (paths relative to `root`). */
export function importGraph(root: string, srcDir: string, aliases: Record<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(join(root, srcDir))) {
    const deps = new Set<string>()
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIERS)) {
      const target = resolveImport(root, aliases, file, (m[1] ?? m[2])!)
      if (target) deps.add(relative(root, target))
    }
    graph.set(relative(root, file), [...deps])
  }
  return graph
}

/** Every import circle: the files of each strongly connected component of more than one file (or a self-import). */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const circles: string[][] = []
  // Iterative Tarjan: src/ is deep enough that recursion depth is not a concern, but keep it explicit.
  const visit = (start: string): void => {
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }]
    index.set(start, counter)
    low.set(start, counter++)
    stack.push(start)
    onStack.add(start)
    while (work.length) {
      const top = work[work.length - 1]!
      const deps = graph.get(top.node) ?? []
      if (top.next < deps.length) {
        const dep = deps[top.next++]!
        if (!index.has(dep)) {
          index.set(dep, counter)
          low.set(dep, counter++)
          stack.push(dep)
          onStack.add(dep)
          work.push({ node: dep, next: 0 })
        } else if (onStack.has(dep)) low.set(top.node, Math.min(low.get(top.node)!, index.get(dep)!))
        continue
      }
      work.pop()
      if (work.length) {
        const parent = work[work.length - 1]!.node
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!))
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = []
        let node: string
        do {
          node = stack.pop()!
          onStack.delete(node)
          component.push(node)
        } while (node !== top.node)
        if (component.length > 1 || (graph.get(top.node) ?? []).includes(top.node)) circles.push(component.sort())
      }
    }
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return circles
}

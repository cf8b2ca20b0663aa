// Class mapping at import: a multi-class source (the landmark lists' 7 classes, COCO categories,
// YOLO class ids, VOC object names, ImageFolder folders) keeps all its classes, is merged into
// crater vs rest, or is remapped by a table; any class can be dropped. The mapping that an import
// applied is recorded with the dataset (and so in every version frozen after it), so nobody has to
// guess later which classes "no-crater" stood for.
import { isCraterName } from '../training/positive-class'

export type ClassMappingMode = 'keep' | 'crater-vs-rest' | 'custom'

export interface ClassMappingSpec {
  mode: ClassMappingMode
  /** custom: source class → target class, or null to drop it; classes not listed keep their name. */
  map?: Record<string, string | null>
  /** Source classes left out (their tiles, labels and shapes are not imported). */
  drop?: string[]
}

/** A class as the source names it, with how many labels or shapes carry it. */
export interface SourceClass {
  name: string
  count: number
}

/** What one import did with its classes: recorded with the dataset and in its versions. */
export interface AppliedClassMapping {
  format: string
  source: string
  mode: ClassMappingMode
  drop: string[]
  /** Every source class found → its class in the dataset, or null when dropped. */
  map: Record<string, string | null>
  /** Labels or shapes per source class, as found in the source. */
  counts: Record<string, number>
  at: string
}

export const CRATER = 'crater'
export const REST = 'no-crater'

/** The class a source class becomes, or null when it is dropped. */
export function mapClass(spec: ClassMappingSpec, name: string): string | null {
  if (spec.drop?.includes(name)) return null
  switch (spec.mode) {
    case 'keep':
      return name
    case 'crater-vs-rest':
      return isCraterName(name) ? CRATER : REST
    case 'custom': {
      const map = spec.map ?? {}
      return Object.prototype.hasOwnProperty.call(map, name) ? map[name]! : name
    }
  }
}

/** The record of a mapping applied to the classes found. */
export function appliedMapping(spec: ClassMappingSpec, found: readonly SourceClass[], format: string, source: string, at = new Date().toISOString()): AppliedClassMapping {
  const map: Record<string, string | null> = {}
  const counts: Record<string, number> = {}
  for (const c of found) {
    map[c.name] = mapClass(spec, c.name)
    counts[c.name] = c.count
  }
  return { format, source, mode: spec.mode, drop: [...(spec.drop ?? [])].sort(), map, counts, at }
}

/** The classes a mapping produces from the classes found, in first-seen order, with counts. */
export function mappedClasses(spec: ClassMappingSpec, found: readonly SourceClass[]): SourceClass[] {
  const out = new Map<string, number>()
  for (const c of found) {
    const to = mapClass(spec, c.name)
    if (to !== null) out.set(to, (out.get(to) ?? 0) + c.count)
  }
  return [...out].map(([name, count]) => ({ name, count }))
}

/** One line for summaries and the CLI: "crater-vs-rest: crater → crater, other → no-crater, …; dropped edge". */
export function describeMapping(m: Pick<AppliedClassMapping, 'mode' | 'map'>): string {
  const moved = Object.entries(m.map).filter(([, to]) => to !== null)
  const dropped = Object.entries(m.map).filter(([, to]) => to === null).map(([from]) => from)
  const parts = moved.map(([from, to]) => (from === to ? from : `${from} → ${to}`))
  return `${m.mode}: ${parts.join(', ') || 'no class kept'}${dropped.length ? `; dropped ${dropped.join(', ')}` : ''}`
}

/**
 * A map file's content (`--classes map.json`): an object of source class → target class or null.
 * Returns why it is unusable, or the map.
 */
export function parseMapJson(text: string, isClassName: (s: string) => boolean): { map: Record<string, string | null> } | { problem: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { problem: 'is not JSON (expected {"source class": "target class" or null, …})' }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { problem: 'must be a JSON object of source class → target class (or null to drop)' }
  const map: Record<string, string | null> = {}
  // Entries are named by position, never by their text: a wrong file's content is not echoed.
  for (const [i, [k, v]] of Object.entries(value as Record<string, unknown>).entries()) {
    if (v !== null && typeof v !== 'string') return { problem: `entry ${i + 1}: the target must be a class name or null` }
    if (typeof v === 'string' && !isClassName(v)) return { problem: `entry ${i + 1}: the target is not a usable class name (lower-case letters, digits and dashes)` }
    map[k] = v
  }
  return { map }
}

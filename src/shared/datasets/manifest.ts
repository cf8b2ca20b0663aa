// A frozen dataset version's manifest: every tile with its source image (by content hash),
// rectangle, observation, split, labels and crater shapes. Its canonical JSON is what the
// version's content hash covers, so equal content gives an equal hash whatever the row ids.
import type { AppliedClassMapping } from './class-mapping'
import type { Geometry } from './geometry'
import type { LabelOrigin, LabelPolicy, LabelStatus } from './agreement'
import type { SplitName } from './split'

export interface ManifestTile {
  tileId: number
  image: { sha256: string; ext: string; fileName: string; width: number; height: number; channels: number }
  x: number
  y: number
  width: number
  height: number
  observationId: string | null
  split: SplitName | null
  /** The decided label (see resolveLabel), null when unlabelled or in conflict. */
  label: string | null
  /** How the label was decided (absent in manifests frozen before label origins were kept). */
  labelStatus?: LabelStatus
  labels: { annotator: string; className: string; origin?: LabelOrigin }[]
  annotations: { className: string; annotator: string; geometry: Geometry }[]
}

export interface DatasetManifest {
  format: 'marsfm-dataset-manifest/1'
  dataset: {
    name: string
    task: string
    classes: string[]
    /** What the imports did with their sources' classes (absent before mappings were kept). */
    classMappings?: AppliedClassMapping[]
    labelPolicy?: LabelPolicy
  }
  tiles: ManifestTile[]
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** What the content hash covers: content only (no row ids, no names), in a stable order. */
export function hashableContent(m: DatasetManifest): string {
  const tiles = m.tiles
    .map((t) => ({
      image: t.image.sha256,
      rect: [t.x, t.y, t.width, t.height],
      split: t.split,
      labels: [...t.labels].map((l) => ({ annotator: l.annotator, className: l.className })).sort((a, b) => a.annotator.localeCompare(b.annotator)),
      // The decided label too: a correction or an adjudication changes what is trained on.
      label: t.label,
      masks: t.annotations.map((a) => canonicalJson(a)).sort()
    }))
    .sort((a, b) => canonicalJson([a.image, a.rect]).localeCompare(canonicalJson([b.image, b.rect])))
  return canonicalJson({ classes: m.dataset.classes, task: m.dataset.task, tiles })
}

/** Stable export names: `<stem>_x<x>_y<y>`, with a counter only where two tiles would collide. */
export function exportNames(tiles: readonly ManifestTile[]): Map<number, string> {
  const names = new Map<number, string>()
  const used = new Set<string>()
  for (const t of tiles) {
    const stem = t.image.fileName.replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_')
    let name = `${stem}_x${t.x}_y${t.y}`
    if (t.width !== t.height || ![224, 512].includes(t.width)) name += `_${t.width}x${t.height}`
    for (let n = 2; used.has(name); n++) name = `${stem}_x${t.x}_y${t.y}_${n}`
    used.add(name)
    names.set(t.tileId, name)
  }
  return names
}

// The landmark sets' label list (`labels-map-proj.txt`: `<file> <class>` a line). Its class ids
// are named here (`other`, `crater`, …, `edge`); what becomes of them is the import's class
// mapping (src/shared/datasets/class-mapping.ts): by default crater vs rest with class 6 ("edge",
// mostly image border) dropped, as the data's README advises.
import { FormatError } from './format-error'

export const LANDMARK_CRATER = 1
export const LANDMARK_EDGE = 6

export interface LandmarkLabel {
  fileName: string
  classIndex: number
}

export function parseLandmarkLabels(source: string, file: string): LandmarkLabel[] {
  const out: LandmarkLabel[] = []
  source.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line) return
    const m = /^(\S+)\s+(\d+)$/.exec(line)
    if (!m) throw new FormatError('landmarks', file, `line ${i + 1}: expected "<file> <class>"`)
    out.push({ fileName: m[1]!, classIndex: Number(m[2]) })
  })
  return out
}

/** Set v1's class ids (labels-map-proj.txt), as class names. */
export const LANDMARK_CLASS_NAMES: readonly string[] = ['other', 'crater', 'dark-dune', 'slope-streak', 'bright-dune', 'impact-ejecta', 'edge']

/** A class id's name; an id the list does not know is `class-<id>`. */
export function landmarkClassName(classIndex: number): string {
  return LANDMARK_CLASS_NAMES[classIndex] ?? `class-${classIndex}`
}

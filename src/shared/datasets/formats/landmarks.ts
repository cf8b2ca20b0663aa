// The landmark sets' label list (`labels-map-proj.txt`: `<file> <class>` a line). For crater /
// no-crater: class 1 is crater, every other class is no-crater, and class 6 ("edge", mostly
// image border) is dropped.
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

/** crater / no-crater, or null for a dropped class. */
export function landmarkToCraterClass(classIndex: number): 'crater' | 'no-crater' | null {
  if (classIndex === LANDMARK_EDGE) return null
  return classIndex === LANDMARK_CRATER ? 'crater' : 'no-crater'
}

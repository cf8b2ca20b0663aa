// Several annotators per tile: the consensus label, whether they agree, and pairwise agreement
// (percent and Cohen's kappa) so disagreements can be reviewed or filtered out.

export interface AnnotatorLabel {
  annotator: string
  className: string
}

/** Where a label came from: an import (a label list, folders), a person, or an adjudication. */
export type LabelOrigin = 'import' | 'manual' | 'adjudication'
export type LabelPolicy = 'correction-wins' | 'adjudicate'
export type LabelStatus = 'unlabelled' | 'agreed' | 'majority' | 'corrected' | 'adjudicated' | 'conflict'

export interface OriginLabel extends AnnotatorLabel {
  origin: LabelOrigin
}

/**
 * A tile's label, decided. An adjudication decides; labels that agree decide; otherwise, under
 * `correction-wins`, people's labels overrule imported ones (a correction of an imported label
 * wins) and their majority decides; under `adjudicate` the majority of all labels decides. A tie
 * is never dropped silently: it is a `conflict`, listed for adjudication, and the tile counts as
 * unlabelled in the split and the exports until it is resolved.
 */
export function resolveLabel(labels: readonly OriginLabel[], policy: LabelPolicy): { label: string | null; status: LabelStatus } {
  if (!labels.length) return { label: null, status: 'unlabelled' }
  const adjudicated = labels.filter((l) => l.origin === 'adjudication')
  if (adjudicated.length) {
    const decided = consensusLabel(adjudicated)
    return decided ? { label: decided, status: 'adjudicated' } : { label: null, status: 'conflict' }
  }
  if (annotatorsAgree(labels)) return { label: labels[0]!.className, status: 'agreed' }
  const manual = labels.filter((l) => l.origin === 'manual')
  if (policy === 'correction-wins' && manual.length && manual.length < labels.length) {
    const decided = consensusLabel(manual)
    return decided ? { label: decided, status: 'corrected' } : { label: null, status: 'conflict' }
  }
  const decided = consensusLabel(labels)
  return decided ? { label: decided, status: 'majority' } : { label: null, status: 'conflict' }
}

/** The majority label; null when there is none or it is tied. */
export function consensusLabel(labels: readonly AnnotatorLabel[]): string | null {
  if (!labels.length) return null
  const counts = new Map<string, number>()
  for (const l of labels) counts.set(l.className, (counts.get(l.className) ?? 0) + 1)
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  if (ranked.length > 1 && ranked[0]![1] === ranked[1]![1]) return null
  return ranked[0]![0]
}

export function annotatorsAgree(labels: readonly AnnotatorLabel[]): boolean {
  return labels.every((l) => l.className === labels[0]?.className)
}

export interface PairAgreement {
  a: string
  b: string
  /** Tiles both annotators labelled. */
  shared: number
  percent: number
  kappa: number | null
}

export interface AgreementReport {
  annotators: string[]
  /** Tiles with two or more annotators. */
  multiLabelled: number
  agreed: number
  disagreed: number
  pairs: PairAgreement[]
}

export function agreementReport(tiles: readonly (readonly AnnotatorLabel[])[]): AgreementReport {
  const annotators = [...new Set(tiles.flatMap((t) => t.map((l) => l.annotator)))].sort()
  let multi = 0
  let agreed = 0
  for (const t of tiles) {
    if (t.length < 2) continue
    multi++
    if (annotatorsAgree(t)) agreed++
  }
  const pairs: PairAgreement[] = []
  for (let i = 0; i < annotators.length; i++) {
    for (let j = i + 1; j < annotators.length; j++) {
      const a = annotators[i]!
      const b = annotators[j]!
      const both: [string, string][] = []
      for (const t of tiles) {
        const la = t.find((l) => l.annotator === a)
        const lb = t.find((l) => l.annotator === b)
        if (la && lb) both.push([la.className, lb.className])
      }
      if (!both.length) continue
      pairs.push({ a, b, shared: both.length, percent: both.filter(([x, y]) => x === y).length / both.length, kappa: cohenKappa(both) })
    }
  }
  return { annotators, multiLabelled: multi, agreed, disagreed: multi - agreed, pairs }
}

/** Cohen's kappa of paired labels; null where chance agreement is total (one class only). */
export function cohenKappa(pairs: readonly [string, string][]): number | null {
  const n = pairs.length
  if (!n) return null
  const observed = pairs.filter(([x, y]) => x === y).length / n
  const classes = new Set(pairs.flat())
  let expected = 0
  for (const c of classes) {
    expected += (pairs.filter(([x]) => x === c).length / n) * (pairs.filter(([, y]) => y === c).length / n)
  }
  return expected === 1 ? null : (observed - expected) / (1 - expected)
}

// The positive class of a binary task, named and never implied by folder order: users' folders are
// often "Crater" / "NoCrater", where the second in name order is the negative class, so "class 1"
// made precision / recall / F1 describe NoCrater. Also: class imbalance, which decides whether
// plain accuracy can pick a checkpoint.

/** Below this share of the training images the minority class is "skewed" (a warning, balanced metrics). */
export const MINORITY_WARN_SHARE = 0.3

// Words that negate "crater" when they come right before it ("NoCrater", "no_crater", "non-crater",
// "not crater", "without craters") or are glued to it ("nocrater", "noncraters").
const NEGATIONS = new Set(['no', 'non', 'not', 'without', 'zero', 'none', 'neg', 'negative'])

/** Lower-case words of a class name: split at non-letters and camelCase boundaries ("NoCrater" → no, crater). */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean)
}

/**
 * Whether a class name means "crater" (positive): a word contains "crater", is not glued to a
 * negation ("nocrater") or suffixed "less"/"free" ("craterless", "crater_free"), and the word
 * before it is not a negation ("no_crater", "non-crater", "NoCrater"). "1_crater", "Craters",
 * "volcano_crater" and "crater_rim" are positive.
 */
export function isCraterName(name: string): boolean {
  const words = nameWords(name)
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    const at = w.indexOf('crater')
    if (at < 0) continue
    const prefix = w.slice(0, at)
    const suffix = w.slice(at + 'crater'.length)
    if (NEGATIONS.has(prefix)) return false
    if (/^s?(less|free)$/.test(suffix) || words[i + 1] === 'free' || words[i + 1] === 'less') return false
    if (i > 0 && NEGATIONS.has(words[i - 1]!)) return false
    return true
  }
  return false
}

export interface PositiveChoice {
  positiveClass: string
  /** How it was chosen: asked for, by its name, or as the minority class. */
  reason: 'requested' | 'crater-name' | 'minority'
}

/**
 * The positive class of a two-class task: the requested one (which must be a class), else the one
 * class whose name means "crater", else the minority class of the training counts (a tie: the
 * second in name order, the old default). Throws for a requested name that is not a class.
 */
export function resolvePositiveClass(classes: readonly string[], counts: readonly number[], requested?: string): PositiveChoice {
  if (classes.length !== 2) throw new Error(`a positive class applies to two-class tasks; this dataset has ${classes.length} classes (${classes.join(', ')})`)
  if (requested !== undefined && requested !== '') {
    const exact = classes.find((c) => c === requested)
    // Case-insensitive as a convenience for `--positive crater`; exact names win.
    const loose = exact ?? (classes.filter((c) => c.toLowerCase() === requested.toLowerCase()).length === 1 ? classes.find((c) => c.toLowerCase() === requested.toLowerCase()) : undefined)
    if (!loose) throw new Error(`positive class "${requested}" is not one of ${classes.join(', ')}`)
    return { positiveClass: loose, reason: 'requested' }
  }
  const craters = classes.filter(isCraterName)
  if (craters.length === 1) return { positiveClass: craters[0]!, reason: 'crater-name' }
  const sorted = [...classes].sort()
  const [a, b] = sorted.map((c) => counts[classes.indexOf(c)] ?? 0) as [number, number]
  return { positiveClass: a < b ? sorted[0]! : sorted[1]!, reason: 'minority' }
}

export interface Imbalance {
  /** The least frequent class and its share of all images. */
  minorityClass: string
  minorityShare: number
  skewed: boolean
}

export function classImbalance(classes: readonly string[], counts: readonly number[]): Imbalance | null {
  const total = counts.reduce((a, b) => a + b, 0)
  if (classes.length < 2 || !total) return null
  let m = 0
  for (let i = 1; i < counts.length; i++) if (counts[i]! < counts[m]!) m = i
  const share = counts[m]! / total
  return { minorityClass: classes[m]!, minorityShare: share, skewed: share < MINORITY_WARN_SHARE }
}

/** The warning line shown at split time and at run start, or null when the classes are balanced enough. */
export function imbalanceWarning(classes: readonly string[], counts: readonly number[], where: string): string | null {
  const im = classImbalance(classes, counts)
  if (!im?.skewed) return null
  const pct = (im.minorityShare * 100).toFixed(1)
  return `${where}: class "${im.minorityClass}" is only ${pct} % of ${counts.reduce((a, b) => a + b, 0)} images (under ${MINORITY_WARN_SHARE * 100} %); plain accuracy rewards predicting the majority class — judge by balanced accuracy, AUC or the positive class's F1, and use balanced class weights`
}

/** "recall (crater)": a metric's display label naming the positive class when there is one. */
export function metricLabel(name: string, positiveClass?: string | null): string {
  const short = name.replace(/^val\//, '').replace(/^train\//, 'train ')
  const positiveMetric = /^(val\/)?(precision|recall|f1|auc)$/.test(name)
  const base = short === 'balanced_accuracy' ? 'balanced accuracy' : short.replace(/_/g, ' ')
  return positiveMetric && positiveClass ? `${base} (${positiveClass})` : base
}

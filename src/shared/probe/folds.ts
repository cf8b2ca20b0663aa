// Cross-validation folds grouped by HiRISE observation: all tiles of one observation fall in the
// same fold, so a probe is never scored on tiles whose neighbours (same image, same lighting) it
// was fitted on. The observation clustering found in the study makes ungrouped folds optimistic.
import { seededRandom } from '../random'

export interface GroupedFolds {
  /** Fold of each sample, 0..k-1. */
  foldOf: Int32Array
  k: number
  /** Number of distinct groups (observations). */
  groups: number
}

/**
 * Assigns whole groups to k folds with about equal sample counts: groups are shuffled by `seed`,
 * then placed largest first, each into the fold with the fewest samples so far (ties: lower fold).
 * With fewer groups than k, k becomes the number of groups; fewer than two groups is an error.
 */
export function groupedFolds(groups: readonly string[], k: number, seed: number): GroupedFolds {
  if (!Number.isInteger(k) || k < 2) throw new Error(`folds must be an integer ≥ 2, got ${k}`)
  const sizes = new Map<string, number>()
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1)
  if (sizes.size < 2) {
    throw new Error(`cross-validation grouped by observation needs at least 2 observations; the tiles come from ${sizes.size}`)
  }
  const kk = Math.min(k, sizes.size)
  const rng = seededRandom(seed)
  const names = [...sizes.keys()].sort()
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[names[i], names[j]] = [names[j]!, names[i]!]
  }
  // Stable sort: equal-sized groups keep their shuffled order.
  const order = names.map((name, i) => ({ name, i })).sort((a, b) => sizes.get(b.name)! - sizes.get(a.name)! || a.i - b.i)
  const load = new Array<number>(kk).fill(0)
  const foldOfGroup = new Map<string, number>()
  for (const { name } of order) {
    let best = 0
    for (let f = 1; f < kk; f++) if (load[f]! < load[best]!) best = f
    foldOfGroup.set(name, best)
    load[best]! += sizes.get(name)!
  }
  return { foldOf: Int32Array.from(groups, (g) => foldOfGroup.get(g)!), k: kk, groups: sizes.size }
}

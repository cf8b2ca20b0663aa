// Leak-free splits: every group (observation) goes whole into one split, groups are assigned
// so that each split's class mix follows the targets (stratified), and the order in which
// groups are considered comes from a seeded shuffle, so a seed reproduces the split exactly.
import { seededRandom } from '../random'

export type SplitName = 'train' | 'valid' | 'test'
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'valid', 'test']

export interface SplitItem {
  key: number
  /** Items with the same group always land in the same split. */
  group: string
  /** The stratum (label); '' for unlabelled. */
  stratum: string
}

export interface SplitRatios {
  train: number
  valid: number
  test: number
}

/** The study's split: 80 % train, 20 % valid, no test. */
export const STUDY_RATIOS: SplitRatios = { train: 0.8, valid: 0.2, test: 0 }

export function checkRatios(r: SplitRatios): void {
  for (const s of SPLIT_NAMES) if (!(r[s] >= 0 && r[s] <= 1)) throw new Error(`split ratio ${s} must lie in [0, 1], got ${r[s]}`)
  const sum = r.train + r.valid + r.test
  if (Math.abs(sum - 1) > 1e-6) throw new Error(`split ratios must add up to 1, got ${sum}`)
}

/** Assigns every item to a split, groups kept whole. Same items + same seed → same result. */
export function groupedStratifiedSplit(items: readonly SplitItem[], ratios: SplitRatios, seed: number): Map<number, SplitName> {
  checkRatios(ratios)
  const active = SPLIT_NAMES.filter((s) => ratios[s] > 0)
  const groups = new Map<string, SplitItem[]>()
  for (const item of [...items].sort((a, b) => a.key - b.key)) {
    const list = groups.get(item.group)
    if (list) list.push(item)
    else groups.set(item.group, [item])
  }
  // Seeded shuffle of the group names (sorted first so insertion order does not matter),
  // then a stable sort by size: big groups are placed while there is room for them.
  const rng = seededRandom(seed)
  const names = [...groups.keys()].sort()
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[names[i], names[j]] = [names[j]!, names[i]!]
  }
  names.sort((a, b) => groups.get(b)!.length - groups.get(a)!.length)

  const strata = [...new Set(items.map((i) => i.stratum))].sort()
  const totalByStratum = new Map(strata.map((s) => [s, items.filter((i) => i.stratum === s).length]))
  const counts = new Map(active.map((s) => [s, new Map(strata.map((c) => [c, 0]))]))
  const sizes = new Map(active.map((s) => [s, 0]))
  const n = items.length

  // Cost of a state: squared distance of every split's class counts (and size) from its target,
  // each stratum scaled by its size so rare classes count as much as common ones.
  const costOf = (split: SplitName, group: SplitItem[]): number => {
    const add = new Map<string, number>()
    for (const it of group) add.set(it.stratum, (add.get(it.stratum) ?? 0) + 1)
    let delta = 0
    for (const [stratum, k] of add) {
      const total = totalByStratum.get(stratum)!
      const target = ratios[split] * total
      const now = counts.get(split)!.get(stratum)!
      delta += ((now + k - target) ** 2 - (now - target) ** 2) / total
    }
    const target = ratios[split] * n
    const now = sizes.get(split)!
    delta += ((now + group.length - target) ** 2 - (now - target) ** 2) / Math.max(1, n)
    return delta
  }

  const result = new Map<number, SplitName>()
  for (const name of names) {
    const group = groups.get(name)!
    let best = active[0]!
    let bestCost = Infinity
    for (const split of active) {
      const c = costOf(split, group)
      if (c < bestCost - 1e-12) {
        bestCost = c
        best = split
      }
    }
    for (const it of group) {
      result.set(it.key, best)
      const m = counts.get(best)!
      m.set(it.stratum, m.get(it.stratum)! + 1)
    }
    sizes.set(best, sizes.get(best)! + group.length)
  }
  return result
}

export interface Leak {
  group: string
  splits: SplitName[]
  tiles: number
}

/** Groups whose tiles sit in more than one split: a leak between training and evaluation. */
export function findLeaks(items: readonly { group: string; split: SplitName | null }[]): Leak[] {
  const byGroup = new Map<string, { splits: Set<SplitName>; tiles: number }>()
  for (const it of items) {
    if (!it.split) continue
    const g = byGroup.get(it.group) ?? { splits: new Set(), tiles: 0 }
    g.splits.add(it.split)
    g.tiles++
    byGroup.set(it.group, g)
  }
  return [...byGroup]
    .filter(([, g]) => g.splits.size > 1)
    .map(([group, g]) => ({ group, splits: SPLIT_NAMES.filter((s) => g.splits.has(s)), tiles: g.tiles }))
    .sort((a, b) => a.group.localeCompare(b.group))
}

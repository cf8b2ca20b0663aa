// Finds the state dict inside a checkpoint (top level, or under state_dict / model / module)
// and maps its keys onto a model family's names (the official Prithvi MAE's by default) by
// stripping the wrapper prefixes the family spec lists.

import type { ModelFamily, PrefixRename } from '@shared/models/family'
import { prithviMae } from '@shared/models/prithvi-mae'
import { CheckpointError } from './errors'

export type RenameRule = PrefixRename

/** Wrapper prefixes seen around Prithvi weights (the family spec's list). */
export const PREFIX_RENAMES: readonly RenameRule[] = prithviMae.prefixRenames

type Names = Pick<ModelFamily, 'isWeightName' | 'prefixRenames'>

/** A key's Prithvi MAE name, as `toFamilyName` finds it. */
export const toPrithviName = (key: string): ReturnType<typeof toFamilyName> => toFamilyName(key, prithviMae)

// Where wrappers keep the state dict, in the order we look.
const CONTAINER_KEYS = ['state_dict', 'model', 'module', 'model_state_dict']
const MAX_NESTING = 4

/** The family's name a checkpoint key stands for, and how many prefixes were stripped to get it. */
export function toFamilyName(key: string, family: Names = prithviMae): { name: string; stripped: number } | undefined {
  let frontier = [key]
  for (let stripped = 0; stripped <= family.prefixRenames.length && frontier.length; stripped++) {
    for (const k of frontier) if (family.isWeightName(k)) return { name: k, stripped }
    const next: string[] = []
    for (const k of frontier) {
      for (const rule of family.prefixRenames) {
        if (!k.startsWith(rule.prefix)) continue
        const rest = k.slice(rule.prefix.length)
        if (!rule.onlyIf || rule.onlyIf(rest)) next.push(rest)
      }
    }
    frontier = next
  }
  return undefined
}

export interface NameMapping {
  /** Our (Prithvi) name → the key in the checkpoint. */
  byOurName: Map<string, string>
  /** Checkpoint keys that are not Prithvi MAE weights (heads, necks, counters), in file order. */
  unmapped: string[]
}

/** Maps checkpoint keys to the family's names; on a clash the key needing fewer strips wins. */
export function mapStateDictNames(keys: Iterable<string>, family: Names = prithviMae): NameMapping {
  const all = [...keys]
  const candidates = all
    .map((key, order) => ({ key, order, hit: toFamilyName(key, family) }))
    .filter((c) => c.hit)
    .sort((a, b) => a.hit!.stripped - b.hit!.stripped || a.order - b.order)
  const byOurName = new Map<string, string>()
  const used = new Set<string>()
  for (const c of candidates) {
    if (byOurName.has(c.hit!.name)) continue
    byOurName.set(c.hit!.name, c.key)
    used.add(c.key)
  }
  return { byOurName, unmapped: all.filter((k) => !used.has(k)) }
}

function describeKeys(m: Map<unknown, unknown>): string {
  const keys = [...m.keys()].slice(0, 12).map((k) => JSON.stringify(k))
  return keys.length ? keys.join(', ') + (m.size > 12 ? ', …' : '') : '(none)'
}

/**
 * Locates the dict of tensors: the top level when it holds tensors, else the first container
 * key (state_dict, model, module…) that does, searched a few levels deep.
 */
export function findStateDict<T>(root: unknown, isTensor: (v: unknown) => v is T): { path: string[]; tensors: Map<string, T> } {
  const search = (node: unknown, path: string[]): { path: string[]; tensors: Map<string, T> } | undefined => {
    if (!(node instanceof Map)) return undefined
    const tensors = new Map<string, T>()
    for (const [k, v] of node) if (typeof k === 'string' && isTensor(v)) tensors.set(k, v)
    if (tensors.size) return { path, tensors }
    if (path.length >= MAX_NESTING) return undefined
    for (const key of CONTAINER_KEYS) {
      const found = search(node.get(key), [...path, key])
      if (found) return found
    }
    return undefined
  }
  const found = search(root, [])
  if (found) return found
  const where = root instanceof Map ? `its top-level keys are ${describeKeys(root)}` : 'its top level is not a dict'
  throw new CheckpointError('no-state-dict', `no state dict found in the checkpoint: ${where}`)
}

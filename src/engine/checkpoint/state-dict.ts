// Finds the state dict inside a checkpoint (top level, or under state_dict / model / module)
// and maps its keys onto the official Prithvi MAE names by stripping known wrapper prefixes.

import { CheckpointError } from './errors'
import { isDecoderName, isPrithviName } from './prithvi-names'

export interface RenameRule {
  prefix: string
  why: string
  /** Strip only when the remainder passes (guards generic prefixes like `decoder.`). */
  onlyIf?: (rest: string) => boolean
}

/** Wrapper prefixes seen around Prithvi weights. Applied only when the result is a Prithvi name. */
export const PREFIX_RENAMES: readonly RenameRule[] = [
  { prefix: 'model.encoder_model.', why: "the study's Lightning fine-tuning checkpoints" },
  { prefix: 'backbone.', why: 'MMSegmentation (hls-foundation-os) segmentors' },
  { prefix: 'encoder.', why: 'encoder-wrapping modules (TerraTorch and others)' },
  // A segmentation decoder may have its own `blocks.*`: only MAE decoder names pass.
  { prefix: 'decoder.', why: 'TerraTorch PrithviMAE decoder module', onlyIf: isDecoderName },
  { prefix: 'module.', why: 'DataParallel / DistributedDataParallel' },
  { prefix: 'model.', why: 'Lightning modules holding the MAE as `model`' }
]

// Where wrappers keep the state dict, in the order we look.
const CONTAINER_KEYS = ['state_dict', 'model', 'module', 'model_state_dict']
const MAX_NESTING = 4

/** The Prithvi name a checkpoint key stands for, and how many prefixes were stripped to get it. */
export function toPrithviName(key: string): { name: string; stripped: number } | undefined {
  let frontier = [key]
  for (let stripped = 0; stripped <= PREFIX_RENAMES.length && frontier.length; stripped++) {
    for (const k of frontier) if (isPrithviName(k)) return { name: k, stripped }
    const next: string[] = []
    for (const k of frontier) {
      for (const rule of PREFIX_RENAMES) {
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

/** Maps checkpoint keys to Prithvi names; on a clash the key needing fewer strips wins. */
export function mapStateDictNames(keys: Iterable<string>): NameMapping {
  const all = [...keys]
  const candidates = all
    .map((key, order) => ({ key, order, hit: toPrithviName(key) }))
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

// What the app knows about one family of model checkpoints, in one place: the config schema and
// its validation, every weight name with its shape as a function of the config, and the wrapper
// prefixes foreign checkpoints put around those names. The tfjs model, the checkpoint reader, the
// ONNX exporter and the key report all read it; a new family is one module in `registry.ts`.
import type { z } from 'zod'

/**
 * How a checkpoint tensor is laid out outside PyTorch (tfjs variables, ONNX initializers):
 * plain: unchanged; linear: nn.Linear [out, in] -> [in, out];
 * patch: Conv3d [D, C, tub, p, q] -> [tub*p*q*C, D], rows in patchify order (tub p q c).
 */
export type WeightLayout = 'plain' | 'linear' | 'patch'
/** timm-like initialisation of a fresh model; `sincos` marks a fixed table computed from the grid. */
export type WeightInit = 'xavier' | 'zeros' | 'ones' | 'token' | 'convBias' | 'sincos'

export interface WeightSpec {
  /** The checkpoint name (`blocks.3.attn.qkv.weight`). */
  name: string
  /** Shape in a PyTorch state dict. */
  torchShape: number[]
  /** Shape in `layout` (tfjs variable, ONNX initializer). */
  tfShape: number[]
  layout: WeightLayout
  init: WeightInit
  part: 'encoder' | 'decoder'
  /**
   * Never trained, never loaded: a buffer recomputed from the config (position tables), or a tensor
   * the model keeps no use for (EO-2.0's TL scales, without time / location inputs).
   */
  fixed?: true
}

/** A wrapper prefix around a family's names in foreign checkpoints (Lightning, MMSeg, DDP…). */
export interface PrefixRename {
  prefix: string
  why: string
  /** Strip only when the remainder passes (guards generic prefixes like `decoder.`). */
  onlyIf?: (rest: string) => boolean
}

export interface ModelFamily<C = unknown> {
  /** Stable id, e.g. `prithvi-mae`. */
  readonly id: string
  readonly title: string
  /** The architecture's fields (structure only; `configProblem` checks that they fit together). */
  readonly configSchema: z.ZodType<C>
  /** Named architectures, as small factories. */
  readonly presets: Readonly<Record<string, (overrides?: Partial<C>) => C>>
  /** Why a config's sizes do not fit together (absurd sizes, patches that do not tile…), or undefined. */
  configProblem(cfg: C): string | undefined
  /** `configProblem`, plus what building and running the model needs on top (e.g. sin-cos widths). */
  modelProblem(cfg: C): string | undefined
  /** Every tensor a checkpoint of this config holds, fixed buffers included, in module declaration order. */
  checkpointTensors(cfg: C, opts: { decoder: boolean }): WeightSpec[]
  /** The trainable weights in PyTorch state_dict order (the order models and optimisers keep them in). */
  weightSpecs(cfg: C, opts?: { decoder?: boolean }): WeightSpec[]
  /** Names of the fixed buffers (recomputed, never loaded). */
  readonly fixedBuffers: ReadonlySet<string>
  /** Whether a name has the form of one of this family's tensors (any block index). */
  isWeightName(name: string): boolean
  isDecoderName(name: string): boolean
  /** Wrapper prefixes to strip, tried in this order; only a result that `isWeightName` counts. */
  readonly prefixRenames: readonly PrefixRename[]
}

/** PyTorch's state_dict order: a module's own parameters first, then its submodules', each in declaration order. */
export function stateDictOrder<T extends { name: string }>(declared: readonly T[]): T[] {
  return [...declared.filter((t) => !t.name.includes('.')), ...declared.filter((t) => t.name.includes('.'))]
}

/** Name -> PyTorch shape, in the given order. */
export function shapesByName(specs: readonly WeightSpec[]): Map<string, number[]> {
  return new Map(specs.map((s) => [s.name, s.torchShape.slice()]))
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`

/** Throws `<name> has shape [..], expected [..]` (or missing) for the first weight that does not fit its spec. */
export function checkWeights(specs: readonly WeightSpec[], weights: ReadonlyMap<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
  for (const spec of specs) {
    const w = weights.get(spec.name)
    if (!w) throw new Error(`missing weight ${spec.name} (expected shape ${fmt(spec.torchShape)})`)
    const same = w.shape.length === spec.torchShape.length && w.shape.every((d, i) => d === spec.torchShape[i])
    if (!same) throw new Error(`${spec.name} has shape ${fmt(w.shape)}, expected ${fmt(spec.torchShape)}`)
    const values = w.shape.reduce((a, b) => a * b, 1)
    if (w.data.length !== values) throw new Error(`${spec.name} has ${w.data.length} values for shape ${fmt(w.shape)}`)
  }
}

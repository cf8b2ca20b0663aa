// Partial fine-tuning's frozen part: the first K encoder blocks run in ONNX Runtime (the session and
// device selection inference uses), so TensorFlow.js builds neither their forward graph nor their
// gradients; only blocks K..depth-1, the final norm and the head train. The graph is exported once
// from the run's starting weights, which never change for these blocks (see export-prefix.ts for
// why masking happens before them).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PrithviConfig } from '../model/config'
import type { MaskPlan } from '../model/masking'
import type { WeightMap } from '../model/weights'
import { checkFreezeBlocks, exportFrozenPrefixOnnx } from '../onnx/export-prefix'
import { createSession, run, sessionNotes, type Device, type OnnxSession } from '../onnx/runtime'
import { pixelsShape } from '../onnx/input-layout'

/** The backbone parameters a run with `blocks` frozen blocks leaves untouched. */
export function isFrozenParameter(name: string, blocks: number, depth: number): boolean {
  if (blocks <= 0) return false
  if (name === 'cls_token' || name === 'pos_embed' || name.startsWith('patch_embed.')) return true
  const m = /^blocks\.(\d+)\./.exec(name)
  if (m) return Number(m[1]) < blocks
  // Head only: the final norm belongs to the frozen encoder (its output is the ORT graph's).
  return blocks === depth && name.startsWith('norm.')
}

/** ids_keep [N, Lkeep] (int64) of a masking plan: the kept patches in the order the tfjs encoder keeps them. */
export function keptIndices(plan: MaskPlan): BigInt64Array {
  const { n, numPatches: L, lenKeep } = plan
  const ids = new BigInt64Array(n * lenKeep)
  for (let s = 0; s < n; s++) for (let r = 0; r < lenKeep; r++) ids[s * lenKeep + r] = BigInt(plan.idsShuffle[s * L + r]!)
  return ids
}

/** Writes the graph as `frozen-prefix-k<K>-<sha256 of its bytes>.onnx` unless it is there already; returns its path. */
function cacheGraph(dir: string, bytes: Uint8Array, blocks: number): string {
  const path = join(dir, `frozen-prefix-k${blocks}-${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.onnx`)
  if (existsSync(path) && statSync(path).size === bytes.length) return path
  mkdirSync(dir, { recursive: true })
  const partial = `${path}.${process.pid}.partial`
  writeFileSync(partial, bytes)
  renameSync(partial, path) // a reader never sees half a graph
  return path
}

export interface FrozenPrefixOptions {
  /** ORT device, as inference takes it; default 'auto' (CUDA, else a hardware WebGPU adapter, else CPU). */
  device?: Device
  intraOpThreads?: number
  /**
   * Write the graph here, named by its content hash, and open it with the session cache
   * (`keepWarm`): a GPU session of the same frozen weights is reused by the next run or a resume.
   * Unset: the session is opened from memory.
   */
  cacheDir?: string
}

export class FrozenPrefix {
  readonly blocks: number
  /** True when the graph ends with the encoder's final norm (K = depth: the head trains alone). */
  readonly includesNorm: boolean
  private readonly cfg: PrithviConfig
  private bytes: Uint8Array | null
  private readonly path: string | undefined
  private session: Promise<OnnxSession> | null = null
  private released = false

  /** Exports the graph now (synchronously, from the starting weights); the session opens on first use. */
  constructor(cfg: PrithviConfig, weights: WeightMap, blocks: number, private readonly opts: FrozenPrefixOptions = {}) {
    checkFreezeBlocks(cfg, blocks)
    this.cfg = cfg
    this.blocks = blocks
    this.includesNorm = blocks === cfg.depth
    this.bytes = exportFrozenPrefixOnnx(cfg, weights, blocks)
    if (opts.cacheDir) this.path = cacheGraph(opts.cacheDir, this.bytes, blocks)
  }

  /** Opens the ORT session (once) and says where it runs. */
  async open(): Promise<string[]> {
    if (this.released) throw new Error('the frozen prefix has been released')
    if (!this.session) {
      const source = this.path ?? this.bytes!
      this.session = createSession(source, { device: this.opts.device ?? 'auto', ...(this.path ? { keepWarm: true } : {}), ...(this.opts.intraOpThreads ? { intraOpThreads: this.opts.intraOpThreads } : {}) })
      this.session.then(() => (this.bytes = null), () => {}) // ORT holds its own copy of the weights
    }
    const s = await this.session
    return [`frozen blocks 0..${this.blocks - 1}${this.includesNorm ? ' and the final norm' : ''}: ${sessionNotes(s).join('; ')}`]
  }

  /**
   * Hidden states of the frozen part for images x [n, C, 1, S, S] (host pixels) under a masking
   * plan: [n, 1 + lenKeep, D] row-major, CLS first, kept tokens in plan order.
   */
  async forward(x: Float32Array, plan: MaskPlan): Promise<Float32Array> {
    await this.open()
    const s = await this.session!
    const { in_chans: C, img_size: S } = this.cfg
    if (x.length !== plan.n * C * S * S) throw new Error(`frozen prefix: ${x.length} pixel values for ${plan.n} images of ${C}x${S}x${S}`)
    const out = await run(s, { pixels: { data: x, shape: pixelsShape(s, plan.n, C, S) }, ids_keep: { data: keptIndices(plan), shape: [plan.n, plan.lenKeep] } }, ['hidden'])
    return out.hidden!.data
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    this.bytes = null
    if (this.session) await (await this.session.catch(() => null))?.release()
  }
}

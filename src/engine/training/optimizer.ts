// Adam and AdamW over named tf.Variables, written out (not tf.train.adam) so that the moments and
// the step count are plain tensors we save in a checkpoint and restore bit for bit. The update is
// torch.optim.Adam / AdamW's: bias-corrected step size lr/(1-b1^t), denominator sqrt(v)/sqrt(1-b2^t)+eps.
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import type { OptimizerConfig } from '@shared/ipc/schemas/runs'
import type { WeightMap } from '../model/weights'
import { fusedWebGpu, webgpuAdamStep } from '../tf/webgpu-kernels'

export interface NamedVariable {
  name: string
  variable: Variable
}

export class AdamOptimizer {
  /** Optimiser steps taken so far (t of the bias correction). */
  step = 0
  private readonly m = new Map<string, Variable>()
  private readonly v = new Map<string, Variable>()
  /** WebGPU (fused): m and v of each parameter packed as one flat [2n] state, updated in one program. */
  private readonly mv = new Map<string, Variable>()
  /** Decided once: the state layout depends on it. */
  readonly fused: boolean

  constructor(
    private readonly tf: Tf,
    private readonly cfg: OptimizerConfig,
    readonly params: readonly NamedVariable[]
  ) {
    const zeroVariable = (like: Variable): Variable => {
      const zeros = tf.zerosLike(like)
      const v = tf.variable(zeros, false)
      zeros.dispose() // the variable keeps its own reference to the data
      return v
    }
    this.fused = fusedWebGpu(tf)
    for (const p of params) {
      if (this.fused) {
        const zeros = tf.zeros([2 * p.variable.size])
        this.mv.set(p.name, tf.variable(zeros, false))
        zeros.dispose()
        continue
      }
      this.m.set(p.name, zeroVariable(p.variable))
      this.v.set(p.name, zeroVariable(p.variable))
    }
  }

  /** Applies one update with learning rate `lr`; `grads` maps parameter names to gradients. */
  apply(grads: Map<string, Tensor>, lr: number): void {
    const tf = this.tf
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, name } = this.cfg
    this.step += 1
    const bc1 = 1 - b1 ** this.step
    const bc2 = 1 - b2 ** this.step
    const stepSize = lr / bc1
    const bc2Sqrt = Math.sqrt(bc2)
    if (this.fused) {
      // Two programs per parameter (moments, then parameter) instead of ~10-14 ops.
      const scalars = { b1, b2, eps, l2: name === 'adam' ? wd : 0, decay: name === 'adamw' && wd > 0 ? 1 - lr * wd : 1, stepSize, bc2Sqrt }
      for (const p of this.params) {
        const g = grads.get(p.name)
        if (!g) continue
        tf.tidy(() => {
          const state = this.mv.get(p.name)!
          const next = webgpuAdamStep(tf, p.variable, g, state, scalars)
          state.assign(next.state)
          p.variable.assign(next.param)
        })
      }
      return
    }
    // One tidy per parameter: with Prithvi-100M, keeping every temporary to the end would need
    // several copies of the whole model at once (more than wasm's 4 GB heap).
    for (const p of this.params) {
      tf.tidy(() => {
        let g = grads.get(p.name)
        if (!g) return
        const param = p.variable
        if (name === 'adam' && wd > 0) g = tf.add(g, tf.mul(param, wd))
        const m = this.m.get(p.name)!
        const v = this.v.get(p.name)!
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)))
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)))
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps)
        let next: Tensor = param
        if (name === 'adamw' && wd > 0) next = tf.mul(next, 1 - lr * wd)
        param.assign(tf.sub(next, tf.mul(tf.div(m, denom), stepSize)))
      })
    }
  }

  /** Moments in tfjs layout as `optim.m.<name>` / `optim.v.<name>` (read asynchronously: WebGPU has no sync read in Node). */
  async stateWeights(): Promise<WeightMap> {
    const out: WeightMap = new Map()
    for (const p of this.params) {
      if (this.fused) {
        const data = (await this.mv.get(p.name)!.data()) as Float32Array
        const n = p.variable.size
        out.set(`optim.m.${p.name}`, { shape: p.variable.shape.slice(), data: data.slice(0, n) })
        out.set(`optim.v.${p.name}`, { shape: p.variable.shape.slice(), data: data.slice(n) })
        continue
      }
      const m = this.m.get(p.name)!
      const v = this.v.get(p.name)!
      const [md, vd] = await Promise.all([m.data(), v.data()])
      out.set(`optim.m.${p.name}`, { shape: m.shape.slice(), data: md as Float32Array })
      out.set(`optim.v.${p.name}`, { shape: v.shape.slice(), data: vd as Float32Array })
    }
    return out
  }

  loadState(weights: WeightMap, step: number): void {
    const tf = this.tf
    for (const p of this.params) {
      if (this.fused) {
        const [m, v] = (['m', 'v'] as const).map((kind) => {
          const w = weights.get(`optim.${kind}.${p.name}`)
          if (!w) throw new Error(`checkpoint has no optimiser state optim.${kind}.${p.name}`)
          return w.data
        })
        const packed = new Float32Array(2 * p.variable.size)
        packed.set(m!)
        packed.set(v!, p.variable.size)
        const t = tf.tensor1d(packed, 'float32')
        this.mv.get(p.name)!.assign(t)
        t.dispose()
        continue
      }
      for (const [kind, store] of [['m', this.m], ['v', this.v]] as const) {
        const w = weights.get(`optim.${kind}.${p.name}`)
        if (!w) throw new Error(`checkpoint has no optimiser state optim.${kind}.${p.name}`)
        const t = tf.tensor(w.data, w.shape, 'float32')
        store.get(p.name)!.assign(t)
        t.dispose()
      }
    }
    this.step = step
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values(), ...this.mv.values()]) t.dispose()
    this.m.clear()
    this.v.clear()
    this.mv.clear()
  }
}

/**
 * torch.nn.utils.clip_grad_norm_: scales every gradient by max/(norm + 1e-6) when the global L2
 * norm exceeds `max`. Returns the norm before clipping and the (possibly new) gradients.
 */
/** Sum of squares of every gradient, as a scalar left on the device (read it with the step's other numbers). */
export function squaredGlobalNorm(tf: Tf, grads: Map<string, Tensor>): Scalar {
  return tf.tidy(() => sumAll(tf, [...grads.values()].map((g) => tf.sum(tf.square(g)))) as Scalar)
}

/**
 * tf.addN of any number of same-shape tensors. WebGPU's AddN binds every input as a storage buffer,
 * and a shader stage may have as few as 8, so there it adds in groups; elsewhere one addN, as before.
 */
export function sumAll(tf: Tf, xs: Tensor[]): Tensor {
  if (tf.getBackend() !== 'webgpu') return tf.addN(xs)
  const limit = ((tf.backend() as unknown as { device?: GPUDevice }).device?.limits.maxStorageBuffersPerShaderStage ?? 8) - 1
  let level = xs
  while (level.length > 1) {
    const next: Tensor[] = []
    for (let i = 0; i < level.length; i += limit) next.push(level.length - i === 1 ? level[i]! : tf.addN(level.slice(i, i + limit)))
    level = next
  }
  return level[0]!
}

/** The global gradient norm (one read from the device; prefer squaredGlobalNorm inside a step). */
export async function globalNorm(tf: Tf, grads: Map<string, Tensor>): Promise<number> {
  const sq = squaredGlobalNorm(tf, grads)
  try {
    return Math.sqrt((await sq.data())[0]!)
  } finally {
    sq.dispose()
  }
}

/** torch.nn.utils.clip_grad_norm_ given the global norm already read: scales only when norm > max. */
export function clipGlobalNorm(tf: Tf, grads: Map<string, Tensor>, max: number | null, norm: number): { norm: number; grads: Map<string, Tensor> } {
  if (max === null || !(norm > max)) return { norm, grads }
  const coef = max / (norm + 1e-6)
  const out = new Map<string, Tensor>()
  for (const [k, g] of grads) {
    out.set(k, tf.mul(g, coef))
    g.dispose()
  }
  return { norm, grads: out }
}

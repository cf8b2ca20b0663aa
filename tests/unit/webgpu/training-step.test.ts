// The fused Adam / AdamW (one dispatch per parameter, and its two-program fallback) against the
// optimiser's unfused path (same adapter) and the cpu backend over 3 steps (1e-6 relative), a resume through loadState, and one tiny-ViT MAE training step (masked
// encoder, decoder, loss, backward, AdamW) on WebGPU with every fused kernel vs on cpu: loss, sampled
// gradients and updated parameters within 1e-4.
import type { Tensor, Variable } from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Tf } from '@engine/tf/backend'
import { prithviTiny } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { PrithviMAE } from '@engine/model/prithvi'
import { AdamOptimizer } from '@engine/training/optimizer'
import { OptimizerConfig } from '@shared/ipc/schemas/runs'
import { setDirectDispatch } from '@engine/tf/webgpu-kernels'
import { noAdapter, onBackend, randomArray, read, scaledDiff, webgpuTf, withFused } from './helpers'

const SHAPES: Record<string, number[]> = { 'a.weight': [7, 5], 'a.bias': [5], 'b.weight': [3, 4, 6], scalar: [1] }
const LRS = [1e-2, 5e-3, 2e-3]

/** 3 optimiser steps from fixed parameters and gradients; returns the parameters after each step. */
async function runAdam(tf: Tf, cfg: OptimizerConfig, opts: { fused: boolean; single?: boolean; resumeFrom?: { weights: Awaited<ReturnType<AdamOptimizer['stateWeights']>>; step: number; params: Map<string, Float32Array> } }): Promise<Map<string, Float32Array>[]> {
  const names = Object.keys(SHAPES)
  const vars = names.map((name, i) => ({ name, variable: variableOf(tf, opts.resumeFrom?.params.get(name) ?? randomArray(size(name), 100 + i), SHAPES[name]!) }))
  const opt = withFused(opts.fused, () => new AdamOptimizer(tf, cfg, vars))
  expect(opt.fused).toBe(opts.fused && tf.getBackend() === 'webgpu')
  const start = opts.resumeFrom?.step ?? 0
  if (opts.resumeFrom) opt.loadState(opts.resumeFrom.weights, start)
  const history: Map<string, Float32Array>[] = []
  for (let step = start; step < LRS.length; step++) {
    const grads = new Map<string, Tensor>(names.map((name, i) => [name, tf.tensor(randomArray(size(name), 1000 * step + i, -2, 2), SHAPES[name]!)]))
    setDirectDispatch(opts.single ?? true)
    try {
      opt.apply(grads, LRS[step]!)
    } finally {
      setDirectDispatch(true)
    }
    tf.dispose([...grads.values()])
    const now = await read(vars.map((v) => v.variable.clone()))
    history.push(new Map(names.map((n, i) => [n, now[i]!])))
  }
  opt.dispose()
  for (const v of vars) v.variable.dispose()
  return history
}

function variableOf(tf: Tf, data: Float32Array, shape: number[]): Variable {
  const t = tf.tensor(data, shape)
  const v = tf.variable(t)
  t.dispose()
  return v
}

function size(name: string): number {
  return SHAPES[name]!.reduce((a, b) => a * b, 1)
}

/** Largest elementwise |a - b| / |b| (|b| floored at 1e-3: parameters here are O(0.1 - 1)). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-3))
  return m
}

describe.skipIf(noAdapter)('fused WebGPU training step', () => {
  let tf: Tf
  beforeAll(async () => {
    tf = await webgpuTf()
  })

  it.each([
    ['adamw', 0.05],
    ['adam', 0.05],
    ['adam', 0]
  ] as const)('fused %s (weight decay %s) equals the unfused optimiser and cpu over 3 steps within 1e-6 relative', async (name, weightDecay) => {
    const cfg = OptimizerConfig.parse({ name, lr: 1e-2, weightDecay })
    const before = tf.memory().numTensors
    const fused = await runAdam(tf, cfg, { fused: true })
    expect(tf.memory().numTensors).toBe(before)
    const plain = await runAdam(tf, cfg, { fused: false })
    const twoPrograms = await runAdam(tf, cfg, { fused: true, single: false }) // the fallback without the backend's internals
    const cpu = await onBackend(tf, 'cpu', () => runAdam(tf, cfg, { fused: true }))
    let moved = 0
    for (let s = 0; s < LRS.length; s++)
      for (const n of Object.keys(SHAPES)) {
        expect(relDiff(fused[s]!.get(n)!, plain[s]!.get(n)!), `step ${s + 1} ${n} vs unfused`).toBeLessThan(1e-6)
        expect(relDiff(fused[s]!.get(n)!, cpu[s]!.get(n)!), `step ${s + 1} ${n} vs cpu`).toBeLessThan(1e-6)
        expect(relDiff(twoPrograms[s]!.get(n)!, plain[s]!.get(n)!), `step ${s + 1} ${n} two programs vs unfused`).toBeLessThan(1e-6)
        moved = Math.max(moved, scaledDiff(fused[s]!.get(n)!, randomArray(size(n), 100 + Object.keys(SHAPES).indexOf(n))))
      }
    expect(moved).toBeGreaterThan(1e-3) // the parameters did change
  })

  it('fused AdamW resumed from checkpointed moments (loadState) continues exactly as an uninterrupted run', async () => {
    const cfg = OptimizerConfig.parse({ name: 'adamw', lr: 1e-2, weightDecay: 0.05 })
    const whole = await runAdam(tf, cfg, { fused: true })
    // Moments after 2 steps from the unfused optimiser on cpu, loaded into the fused one.
    const saved = await onBackend(tf, 'cpu', async () => {
      const names = Object.keys(SHAPES)
      const vars = names.map((name, i) => ({ name, variable: variableOf(tf, randomArray(size(name), 100 + i), SHAPES[name]!) }))
      const opt = new AdamOptimizer(tf, cfg, vars)
      for (let step = 0; step < 2; step++) {
        const grads = new Map<string, Tensor>(names.map((name, i) => [name, tf.tensor(randomArray(size(name), 1000 * step + i, -2, 2), SHAPES[name]!)]))
        opt.apply(grads, LRS[step]!)
        tf.dispose([...grads.values()])
      }
      const out = { weights: await opt.stateWeights(), step: opt.step, params: new Map(vars.map((v) => [v.name, v.variable.dataSync() as Float32Array])) }
      opt.dispose()
      for (const v of vars) v.variable.dispose()
      return out
    })
    const resumed = await runAdam(tf, cfg, { fused: true, resumeFrom: saved })
    for (const n of Object.keys(SHAPES)) expect(relDiff(resumed[0]!.get(n)!, whole[2]!.get(n)!), n).toBeLessThan(1e-6)
  })

  it('tiny ViT MAE step (fused kernels on WebGPU) matches cpu: loss, sampled gradients, AdamW update within 1e-4', async () => {
    const cfg = prithviTiny()
    const weights = randomWeights(cfg, 5)
    const n = 2
    const x = randomArray(n * cfg.in_chans * cfg.num_frames * cfg.img_size * cfg.img_size, 21)
    const noise = randomArray(n * (cfg.img_size / cfg.patch_size) ** 2, 22, 0, 1)
    const optCfg = OptimizerConfig.parse({ name: 'adamw', lr: 1e-3, weightDecay: 0.05 })

    const step = async () => {
      const model = PrithviMAE.fromWeights(tf, cfg, weights, { decoder: true, seed: 1 })
      const vars = model.parameterSpecs().map((s) => ({ name: s.name, variable: model.variable(s.name) }))
      const opt = new AdamOptimizer(tf, optCfg, vars)
      const input = tf.tensor(x, [n, cfg.in_chans, cfg.num_frames, cfg.img_size, cfg.img_size])
      const { value, grads } = tf.variableGrads(() => model.forwardMae(input, 0.75, noise).loss, vars.map((v) => v.variable as Variable))
      const named = new Map<string, Tensor>(vars.map((v) => [v.name, grads[v.variable.name]!]))
      const gradValues = await read(vars.map((v) => named.get(v.name)!.clone()))
      opt.apply(named, 1e-3)
      const [loss] = await read([value])
      const after = await read(vars.map((v) => v.variable.clone()))
      tf.dispose([input, ...named.values()])
      opt.dispose()
      model.dispose()
      return { fused: opt.fused, loss: loss![0]!, names: vars.map((v) => v.name), grads: gradValues, after }
    }

    const before = tf.memory().numTensors
    const gpu = await withFused(true, step)
    expect(tf.memory().numTensors).toBe(before)
    expect(gpu.fused).toBe(true)
    const cpu = await onBackend(tf, 'cpu', step)
    expect(cpu.fused).toBe(false)
    console.log(`tiny MAE step: loss webgpu ${gpu.loss} cpu ${cpu.loss}`)
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-4)
    let nonzero = 0
    for (let i = 0; i < gpu.names.length; i++) {
      // sample every 7th value (all of small tensors)
      const sample = (a: Float32Array) => a.filter((_, j) => j % 7 === 0)
      expect(scaledDiff(sample(gpu.grads[i]!), sample(cpu.grads[i]!)), `grad ${gpu.names[i]}`).toBeLessThan(1e-4)
      expect(scaledDiff(gpu.after[i]!, cpu.after[i]!), `param ${gpu.names[i]}`).toBeLessThan(1e-4)
      if (cpu.grads[i]!.some((v) => Math.abs(v) > 1e-6)) nonzero++
    }
    expect(nonzero).toBeGreaterThan(gpu.names.length * 0.9) // gradients reach (almost) every parameter
  })
})

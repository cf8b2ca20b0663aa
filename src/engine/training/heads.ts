// Task heads on top of the Prithvi encoder, with parameters named as in the study's PyTorch code
// (Lightning classifier `head.*`; hls-foundation-os / MMSegmentation `neck.fpn1.*`, `decode_head.*`,
// `auxiliary_head.*`) so a torch state dict maps onto them by name, with a layout per tensor:
//   classification: CLS token -> dropout -> linear(classes) (one logit for a binary task);
//   segmentation:   tokens [N, h, w, D] -> neck: 2 x (ConvT 2x2 -> LayerNorm(1e-6) -> GELU -> ConvT 2x2)
//                   (x16) -> FCN head: conv3x3 (no bias) -> BatchNorm -> ReLU -> Dropout2d -> conv1x1.
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'
import { gelu, layerNorm } from '../model/ops'
import type { WeightMap } from '../model/weights'
import { normalFrom, type Rng } from '@shared/random'
import { batchNorm, conv1x1, conv3x3, convTranspose2x2, type BatchStats } from './convs'

/** plain: same layout; linear: [out, in] -> [in, out]; convT: [Cin, Cout, 2, 2] -> [Cin, (a, b, Cout)]; conv: [O, C, k, k] -> [(ky, kx, C), O]. */
type Layout = 'plain' | 'linear' | 'convT' | 'conv'
type Init = { kind: 'uniform'; fanIn: number } | { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' }

export interface HeadParamSpec {
  name: string
  torchShape: number[]
  tfShape: number[]
  layout: Layout
  init: Init
  /** Running statistics: saved and restored, never trained. */
  buffer?: boolean
}

function toTf(spec: HeadParamSpec, data: Float32Array): Float32Array {
  const s = spec.torchShape
  const out = new Float32Array(data.length)
  switch (spec.layout) {
    case 'plain':
      return data.slice()
    case 'linear': {
      const [o, i] = s as [number, number]
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = data[r * i + c]!
      return out
    }
    case 'convT': {
      const [ci, co, kh, kw] = s as [number, number, number, number]
      for (let a = 0; a < ci; a++) for (let b = 0; b < co; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[a * co * kh * kw + (y * kw + x) * co + b] = data[((a * co + b) * kh + y) * kw + x]!
      return out
    }
    case 'conv': {
      const [o, c, kh, kw] = s as [number, number, number, number]
      for (let a = 0; a < o; a++) for (let b = 0; b < c; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * c + b) * o + a] = data[((a * c + b) * kh + y) * kw + x]!
      return out
    }
  }
}

/** tfjs layout -> PyTorch layout of one head tensor. */
export function toTorch(spec: HeadParamSpec, data: Float32Array): Float32Array {
  // Inverse by index mapping: apply toTf to the identity permutation once per call.
  if (spec.layout === 'plain') return data.slice()
  const idx = new Float32Array(data.length)
  for (let i = 0; i < idx.length; i++) idx[i] = i
  const map = toTf(spec, idx)
  const out = new Float32Array(data.length)
  for (let i = 0; i < map.length; i++) out[map[i]!] = data[i]!
  return out
}

/** A set of named head parameters held as tf.Variables. */
export class HeadParams {
  private readonly vars = new Map<string, Variable>()

  constructor(
    private readonly tf: Tf,
    readonly specs: HeadParamSpec[],
    rng: Rng
  ) {
    for (const spec of specs) {
      const n = spec.tfShape.reduce((a, b) => a * b, 1)
      const data = new Float32Array(n)
      if (spec.init.kind === 'ones') data.fill(1)
      else if (spec.init.kind === 'uniform') {
        const bound = 1 / Math.sqrt(spec.init.fanIn)
        for (let i = 0; i < n; i++) data[i] = (rng() * 2 - 1) * bound
      } else if (spec.init.kind === 'normal') {
        const normal = normalFrom(rng)
        for (let i = 0; i < n; i++) data[i] = spec.init.std * normal()
      }
      const t = tf.tensor(data, spec.tfShape, 'float32')
      this.vars.set(spec.name, tf.variable(t, !spec.buffer))
      t.dispose()
    }
  }

  get<T extends Tensor>(name: string): T {
    const v = this.vars.get(name)
    if (!v) throw new Error(`head parameter ${name} does not exist`)
    return v as unknown as T
  }

  /** Trainable parameters (buffers excluded), in spec order. */
  trainable(): { name: string; variable: Variable }[] {
    return this.specs.filter((s) => !s.buffer).map((s) => ({ name: s.name, variable: this.vars.get(s.name)! }))
  }

  /** Every parameter and buffer in PyTorch layouts. */
  async toWeightMap(): Promise<WeightMap> {
    const out: WeightMap = new Map()
    for (const spec of this.specs) out.set(spec.name, { shape: spec.torchShape.slice(), data: toTorch(spec, (await this.vars.get(spec.name)!.data()) as Float32Array) })
    return out
  }

  /** Loads PyTorch-layout tensors by name (all must be present, with the expected shapes). */
  load(weights: WeightMap): void {
    for (const spec of this.specs) {
      const w = weights.get(spec.name)
      if (!w) throw new Error(`missing head weight ${spec.name}`)
      if (w.shape.join(',') !== spec.torchShape.join(',')) throw new Error(`${spec.name} has shape [${w.shape.join(', ')}], expected [${spec.torchShape.join(', ')}]`)
      const t = this.tf.tensor(toTf(spec, w.data), spec.tfShape, 'float32')
      this.vars.get(spec.name)!.assign(t)
      t.dispose()
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose()
    this.vars.clear()
  }
}

const lin = (name: string, out: number, inp: number): HeadParamSpec[] => [
  { name: `${name}.weight`, torchShape: [out, inp], tfShape: [inp, out], layout: 'linear', init: { kind: 'uniform', fanIn: inp } },
  { name: `${name}.bias`, torchShape: [out], tfShape: [out], layout: 'plain', init: { kind: 'uniform', fanIn: inp } }
]
const convT = (name: string, cin: number, cout: number): HeadParamSpec[] => [
  { name: `${name}.weight`, torchShape: [cin, cout, 2, 2], tfShape: [cin, 4 * cout], layout: 'convT', init: { kind: 'uniform', fanIn: cout * 4 } },
  { name: `${name}.bias`, torchShape: [cout], tfShape: [cout], layout: 'plain', init: { kind: 'uniform', fanIn: cout * 4 } }
]
const norm = (name: string, dim: number): HeadParamSpec[] => [
  { name: `${name}.weight`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: { kind: 'ones' } },
  { name: `${name}.bias`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: { kind: 'zeros' } }
]
const bn = (name: string, dim: number): HeadParamSpec[] => [
  ...norm(name, dim),
  { name: `${name}.running_mean`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: { kind: 'zeros' }, buffer: true },
  { name: `${name}.running_var`, torchShape: [dim], tfShape: [dim], layout: 'plain', init: { kind: 'ones' }, buffer: true }
]

// ------------------------------------------------------------------ classification

/** Outputs of the classifier: 1 for a binary task (BCE with logits), else one per class. */
export function classifierOutputs(numClasses: number): number {
  return numClasses === 2 ? 1 : numClasses
}

/**
 * `init` 'near-zero' is MAE's fine-tuning head: weight N(0, 2e-5^2), bias 0; 'linear-probe' starts at
 * zero until the probe's fit replaces it (RunConfig.headInit; tasks/classification.ts fitHeadByProbe).
 */
export function classifierSpecs(embedDim: number, numClasses: number, init: 'uniform' | 'near-zero' | 'linear-probe' = 'uniform'): HeadParamSpec[] {
  const specs = lin('head', classifierOutputs(numClasses), embedDim)
  if (init === 'uniform') return specs
  if (init === 'linear-probe') return specs.map((s): HeadParamSpec => ({ ...s, init: { kind: 'zeros' } }))
  return specs.map((s): HeadParamSpec => ({ ...s, init: s.name.endsWith('.weight') ? { kind: 'normal', std: 2e-5 } : { kind: 'zeros' } }))
}

/** latent [N, 1+L, D] -> the classifier's input [N, D]: the CLS token or the mean of the patch tokens. */
export function pooledFeatures(tf: Tf, latent: Tensor3D, pool: 'cls' | 'mean' = 'cls'): Tensor2D {
  const [n, s, d] = latent.shape
  return (pool === 'cls' ? tf.reshape(tf.slice(latent, [0, 0, 0], [n, 1, d]), [n, d]) : tf.mean(tf.slice(latent, [0, 1, 0], [n, s - 1, d]), 1)) as Tensor2D
}

/** latent [N, 1+L, D] -> logits [N, outputs]; `dropMask` [N, D] (already scaled) or none at evaluation. */
export function classifierForward(tf: Tf, head: HeadParams, latent: Tensor3D, dropMask?: Tensor2D, pool: 'cls' | 'mean' = 'cls'): Tensor2D {
  let cls = pooledFeatures(tf, latent, pool) // [N, D]
  if (dropMask) cls = tf.mul(cls, dropMask)
  return tf.add(tf.matMul(cls, head.get<Tensor2D>('head.weight')), head.get<Tensor1D>('head.bias')) as Tensor2D
}

/**
 * Head weights (PyTorch layout: weight [outputs, D], bias [outputs]) equal to a logistic probe
 * fitted on standardised features: z = (x − mean) / scale, logits z·W + b (W [D, classes] row-major
 * with the biases as its last row, as @shared/probe stores it). A binary head has one logit, the
 * difference of the probe's two.
 */
export function headFromProbe(probe: { classes: number; dim: number; mean: ArrayLike<number>; scale: ArrayLike<number>; weights: ArrayLike<number> }): WeightMap {
  const { classes: k, dim } = probe
  const outputs = classifierOutputs(k)
  const w = (j: number, c: number): number => probe.weights[j * k + c]! // j = dim: the bias row
  const logitWeight = (j: number, o: number): number => (outputs === 1 ? w(j, 1) - w(j, 0) : w(j, o))
  const weight = new Float32Array(outputs * dim)
  const bias = new Float32Array(outputs)
  for (let o = 0; o < outputs; o++) {
    let b = logitWeight(dim, o)
    for (let j = 0; j < dim; j++) {
      const a = logitWeight(j, o) / probe.scale[j]!
      weight[o * dim + j] = a
      b -= a * probe.mean[j]!
    }
    bias[o] = b
  }
  return new Map([
    ['head.weight', { shape: [outputs, dim], data: weight }],
    ['head.bias', { shape: [outputs], data: bias }]
  ])
}

// ------------------------------------------------------------------ segmentation

export interface SegHeadOptions {
  embedDim: number
  neckDim: number
  headChannels: number
  numClasses: number
  auxHead: boolean
}

function fcnSpecs(prefix: string, inCh: number, channels: number, numConvs: number, numClasses: number): HeadParamSpec[] {
  const specs: HeadParamSpec[] = []
  for (let i = 0; i < numConvs; i++) {
    const c = i === 0 ? inCh : channels
    specs.push({ name: `${prefix}.convs.${i}.conv.weight`, torchShape: [channels, c, 3, 3], tfShape: [9 * c, channels], layout: 'conv', init: { kind: 'uniform', fanIn: 9 * c } })
    specs.push(...bn(`${prefix}.convs.${i}.bn`, channels))
  }
  specs.push(
    { name: `${prefix}.conv_seg.weight`, torchShape: [numClasses, channels, 1, 1], tfShape: [channels, numClasses], layout: 'conv', init: { kind: 'uniform', fanIn: channels } },
    { name: `${prefix}.conv_seg.bias`, torchShape: [numClasses], tfShape: [numClasses], layout: 'plain', init: { kind: 'uniform', fanIn: channels } }
  )
  return specs
}

export function segmentationSpecs(o: SegHeadOptions): HeadParamSpec[] {
  const e = o.neckDim
  return [
    ...convT('neck.fpn1.0', o.embedDim, e),
    ...norm('neck.fpn1.1', e),
    ...convT('neck.fpn1.3', e, e),
    ...convT('neck.fpn2.0', e, e),
    ...norm('neck.fpn2.1', e),
    ...convT('neck.fpn2.3', e, e),
    ...fcnSpecs('decode_head', e, o.headChannels, 1, o.numClasses),
    ...(o.auxHead ? fcnSpecs('auxiliary_head', e, o.headChannels, 2, o.numClasses) : [])
  ]
}

export interface SegForward {
  /** [N, H, W, K] at input resolution. */
  logits: Tensor4D
  aux?: Tensor4D
  /** BatchNorm batch statistics (training only), by parameter prefix. */
  bnStats: Map<string, BatchStats>
}

/** Randomness a training forward needs: Dropout2d masks [N, channels] per head, already scaled. */
export interface SegDropout {
  decode?: Tensor2D
  aux?: Tensor2D
}

function neckStage(tf: Tf, head: HeadParams, prefix: string, x: Tensor4D): Tensor4D {
  let y = convTranspose2x2(tf, x, head.get(`${prefix}.0.weight`), head.get(`${prefix}.0.bias`))
  y = layerNorm(tf, y, head.get(`${prefix}.1.weight`), head.get(`${prefix}.1.bias`), 1e-6) as Tensor4D
  y = gelu(tf, y) as Tensor4D
  return convTranspose2x2(tf, y, head.get(`${prefix}.3.weight`), head.get(`${prefix}.3.bias`))
}

function fcnForward(tf: Tf, head: HeadParams, prefix: string, x: Tensor4D, numConvs: number, training: boolean, drop: Tensor2D | undefined, stats: Map<string, BatchStats>): Tensor4D {
  let y = x
  for (let i = 0; i < numConvs; i++) {
    const p = `${prefix}.convs.${i}`
    y = conv3x3(tf, y, head.get(`${p}.conv.weight`))
    const bnOut = batchNorm(tf, y, { weight: head.get(`${p}.bn.weight`), bias: head.get(`${p}.bn.bias`), runningMean: head.get(`${p}.bn.running_mean`), runningVar: head.get(`${p}.bn.running_var`) }, training)
    if (bnOut.stats) stats.set(`${p}.bn`, bnOut.stats)
    y = tf.relu(bnOut.y)
  }
  if (drop) {
    const [n, , , c] = y.shape
    y = tf.mul(y, tf.reshape(drop, [n, 1, 1, c])) as Tensor4D
  }
  return conv1x1(tf, y, head.get(`${prefix}.conv_seg.weight`), head.get(`${prefix}.conv_seg.bias`))
}

/** latent [N, 1+L, D] (no masking) on a g x g token grid -> logits [N, 16g, 16g, K]. */
export function segmentationForward(tf: Tf, head: HeadParams, latent: Tensor3D, grid: number, o: SegHeadOptions, training: boolean, drop: SegDropout = {}): SegForward {
  const [n, , d] = latent.shape
  const tokens = tf.reshape(tf.slice(latent, [0, 1, 0], [n, grid * grid, d]), [n, grid, grid, d]) as Tensor4D
  const feat = neckStage(tf, head, 'neck.fpn2', neckStage(tf, head, 'neck.fpn1', tokens)) // [N, 16g, 16g, E]
  const bnStats = new Map<string, BatchStats>()
  const logits = fcnForward(tf, head, 'decode_head', feat, 1, training, drop.decode, bnStats)
  const aux = o.auxHead ? fcnForward(tf, head, 'auxiliary_head', feat, 2, training, drop.aux, bnStats) : undefined
  return { logits, ...(aux ? { aux } : {}), bnStats }
}

/** BatchNorm running-average update (momentum 0.1, unbiased variance), as torch does in training. */
export function updateRunningStats(tf: Tf, head: HeadParams, stats: Map<string, BatchStats>, momentum = 0.1): void {
  tf.tidy(() => {
    for (const [prefix, s] of stats) {
      const rm = head.get<Variable>(`${prefix}.running_mean`)
      const rv = head.get<Variable>(`${prefix}.running_var`)
      const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1))
      rm.assign(tf.add(tf.mul(rm, 1 - momentum), tf.mul(s.mean, momentum)))
      rv.assign(tf.add(tf.mul(rv, 1 - momentum), tf.mul(unbiased, momentum)))
    }
  })
}

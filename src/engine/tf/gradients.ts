// Gradient definitions for the core tfjs kernels the engine differentiates through. The node build of
// @tensorflow/tfjs-core registers no gradients (the official ones ship as extension-less ESM files that
// only the @tensorflow/tfjs union package or a bundler loads), so without these tf.grads fails with
// "gradient function not found". Registered only where a kernel has none; matMul-type gradients use
// explicit transposes (wasm's transposeA/transposeB paths are 10-40x slower).

import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core'
import type { Tf } from './handle'

type Grads = Record<string, () => Tensor>
type DyT = Tensor | Tensor[]

function one(dy: DyT): Tensor {
  return Array.isArray(dy) ? dy[0]! : dy
}

function many(dy: DyT): Tensor[] {
  return Array.isArray(dy) ? dy : [dy]
}

function configs(tf: Tf): GradConfig[] {
  /** Sums `dy` over the axes along which `shape` was broadcast, then reshapes to `shape`. */
  const unbroadcast = (dy: Tensor, shape: number[]): Tensor => {
    const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape)
    return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape)
  }
  const swap = (x: Tensor): Tensor => {
    const perm = Array.from({ length: x.rank }, (_, i) => i)
    perm[x.rank - 2] = x.rank - 1
    perm[x.rank - 1] = x.rank - 2
    return tf.transpose(x, perm)
  }
  const mm = (a: Tensor, b: Tensor): Tensor => tf.matMul(a, b)
  // Each input's gradient runs in its own tidy, so nothing may be shared between the two closures.
  const binary = (name: string, da: (dy: Tensor, a: Tensor, b: Tensor) => Tensor, db: (dy: Tensor, a: Tensor, b: Tensor) => Tensor): GradConfig => ({
    kernelName: name,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [Tensor, Tensor]
      return { a: () => unbroadcast(da(one(dy), a, b), a.shape), b: () => unbroadcast(db(one(dy), a, b), b.shape) }
    }
  })
  const unary = (name: string, f: (dy: Tensor, x: Tensor) => Tensor): GradConfig => ({
    kernelName: name,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => f(one(dy), saved[0]!) })
  })
  const unaryOut = (name: string, f: (dy: Tensor, y: Tensor) => Tensor): GradConfig => ({
    kernelName: name,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => f(one(dy), saved[0]!) })
  })
  const reduction = (name: string, mean: boolean): GradConfig => ({
    kernelName: name,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const x = saved[0]!
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      const count = axes.reduce((n, i) => n * x.shape[i]!, 1)
      return { x: () => tf.mul(tf.reshape(one(dy), kept), mean ? tf.fill(x.shape, 1 / count) : tf.onesLike(x)) }
    }
  })

  return [
    binary('Add', (dy) => dy, (dy) => dy),
    binary('Sub', (dy) => dy, (dy) => tf.neg(dy)),
    binary('Multiply', (dy, _a, b) => tf.mul(dy, b), (dy, a) => tf.mul(dy, a)),
    binary('RealDiv', (dy, _a, b) => tf.div(dy, b), (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))),
    binary('SquaredDifference', (dy, a, b) => tf.mul(dy, tf.mul(tf.sub(a, b), 2)), (dy, a, b) => tf.mul(dy, tf.mul(tf.sub(b, a), 2))),
    binary('Maximum', (dy, a, b) => tf.mul(dy, tf.cast(tf.greaterEqual(a, b), 'float32')), (dy, a, b) => tf.mul(dy, tf.cast(tf.less(a, b), 'float32'))),
    {
      kernelName: 'BatchMatMul',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const [a, b] = saved as [Tensor, Tensor]
        const g = one(dy)
        const tA = attrs.transposeA === true
        const tB = attrs.transposeB === true
        let da: () => Tensor
        let db: () => Tensor
        if (!tA && !tB) [da, db] = [() => mm(g, swap(b)), () => mm(swap(a), g)]
        else if (!tA && tB) [da, db] = [() => mm(g, b), () => mm(swap(g), a)]
        else if (tA && !tB) [da, db] = [() => mm(b, swap(g)), () => mm(a, g)]
        else [da, db] = [() => mm(swap(b), swap(g)), () => mm(swap(g), swap(a))]
        return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) }
      }
    },
    unary('Neg', (dy) => tf.neg(dy)),
    unary('Square', (dy, x) => tf.mul(dy, tf.mul(x, 2))),
    unary('Sqrt', (dy, x) => tf.div(dy, tf.mul(tf.sqrt(x), 2))),
    unary('Rsqrt', (dy, x) => tf.mul(dy, tf.mul(tf.div(tf.rsqrt(x), x), -0.5))),
    unary('Log', (dy, x) => tf.div(dy, x)),
    unary('Abs', (dy, x) => tf.mul(dy, tf.sign(x))),
    unary('Erf', (dy, x) => tf.mul(dy, tf.mul(tf.exp(tf.neg(tf.square(x))), 2 / Math.sqrt(Math.PI)))),
    unary('Relu', (dy, x) => tf.mul(dy, tf.step(x))),
    unary('Cast', (dy) => tf.clone(dy)),
    // Constant-valued outputs: zero gradient, nothing saved.
    { kernelName: 'OnesLike', gradFunc: (dy) => ({ x: () => tf.zerosLike(one(dy)) }) },
    { kernelName: 'ZerosLike', gradFunc: (dy) => ({ x: () => tf.zerosLike(one(dy)) }) },
    unary('Identity', (dy) => tf.clone(dy)),
    unaryOut('Exp', (dy, y) => tf.mul(dy, y)),
    unaryOut('Sigmoid', (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y)))),
    unaryOut('Tanh', (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y)))),
    reduction('Sum', false),
    reduction('Mean', true),
    {
      kernelName: 'Max',
      inputsToSave: ['x'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const [x, y] = saved as [Tensor, Tensor]
        const axes = tf.util.parseAxisParam(attrs.reductionIndices as number | number[], x.shape)
        const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        return { x: () => tf.mul(tf.reshape(one(dy), kept), tf.cast(tf.equal(x, tf.reshape(y, kept)), 'float32')) }
      }
    },
    {
      kernelName: 'AddN',
      saveAllInputs: true,
      gradFunc: (dy, saved) => {
        const grads: Grads = {}
        saved.forEach((_, i) => (grads[i] = () => tf.clone(one(dy))))
        return grads
      }
    },
    unary('Reshape', (dy, x) => tf.reshape(dy, x.shape)),
    {
      kernelName: 'ExpandDims',
      inputsToSave: ['input'],
      gradFunc: (dy, saved) => ({ input: () => tf.reshape(one(dy), saved[0]!.shape) })
    },
    {
      kernelName: 'Transpose',
      gradFunc: (dy, _saved, attrs: NamedAttrMap) => {
        const perm = attrs.perm as number[]
        const inverse = new Array<number>(perm.length)
        perm.forEach((p, i) => (inverse[p] = i))
        return { x: () => tf.transpose(one(dy), inverse) }
      }
    },
    {
      kernelName: 'Softmax',
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const y = saved[0]!
        const g = tf.mul(one(dy), y)
        return { logits: () => tf.sub(g, tf.mul(tf.sum(g, [attrs.dim as number], true), y)) }
      }
    },
    {
      kernelName: 'Slice',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const x = saved[0]!
        const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]) as [number[], number[]]
        const pads = x.shape.map((d, i) => [begin[i]!, d - begin[i]! - size[i]!] as [number, number])
        return { x: () => tf.pad(one(dy), pads) }
      }
    },
    {
      kernelName: 'PadV2',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const x = saved[0]!
        const begin = (attrs.paddings as [number, number][]).map((p) => p[0])
        return { x: () => tf.slice(one(dy), begin, x.shape) }
      }
    },
    {
      kernelName: 'SplitV',
      gradFunc: (dy, _saved, attrs: NamedAttrMap) => ({ x: () => tf.concat(many(dy), attrs.axis as number) })
    },
    {
      kernelName: 'Concat',
      saveAllInputs: true,
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const axis = tf.util.parseAxisParam(attrs.axis as number, saved[0]!.shape)[0]!
        const grads: Grads = {}
        let offset = 0
        saved.forEach((t, i) => {
          const begin = t.shape.map((_, k) => (k === axis ? offset : 0))
          grads[i] = () => tf.slice(one(dy), begin, t.shape)
          offset += t.shape[axis]!
        })
        return grads
      }
    },
    {
      kernelName: 'Pack',
      saveAllInputs: true,
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const g = one(dy)
        const axis = tf.util.parseAxisParam(attrs.axis as number, g.shape)[0]!
        const grads: Grads = {}
        saved.forEach((t, i) => {
          const begin = g.shape.map((_, k) => (k === axis ? i : 0))
          const size = g.shape.map((d, k) => (k === axis ? 1 : d))
          grads[i] = () => tf.reshape(tf.slice(g, begin, size), t.shape)
        })
        return grads
      }
    },
    {
      kernelName: 'Unpack',
      gradFunc: (dy, _saved, attrs: NamedAttrMap) => ({ value: () => tf.stack(many(dy), attrs.axis as number) })
    },
    {
      kernelName: 'Tile',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs: NamedAttrMap) => {
        const x = saved[0]!
        const reps = attrs.reps as number[]
        // Output axis i is (rep, x_i) flattened: split each axis into [reps_i, x_i] and sum the reps.
        const split = x.shape.flatMap((d, i) => [reps[i]!, d])
        const repAxes = x.shape.map((_, i) => 2 * i)
        return { x: () => tf.reshape(tf.sum(tf.reshape(one(dy), split), repAxes), x.shape) }
      }
    }
  ]
}

/** Registers a gradient for each covered kernel that has none yet; returns the kernel names added. */
export function registerMissingGradients(tf: Tf): string[] {
  const added: string[] = []
  for (const config of configs(tf)) {
    if (tf.getGradient(config.kernelName)) continue
    tf.registerGradient(config)
    added.push(config.kernelName)
  }
  return added
}

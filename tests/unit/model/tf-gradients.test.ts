// The kernel gradients registered by src/engine/tf/gradients.ts (tfjs-core's node build ships none)
// against central finite differences, on cpu and wasm.

import type { Tensor } from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { normalFrom, seededRandom } from '@shared/random'
import { loadTf, type Tf } from '@engine/tf/backend'

type Op = (tf: Tf, ...x: Tensor[]) => Tensor

const cases: [string, Op, number[][], { positive?: boolean }?][] = [
  ['add (broadcast)', (tf, a, b) => tf.add(a!, b!), [[2, 3, 4], [3, 1]]],
  ['sub (broadcast)', (tf, a, b) => tf.sub(a!, b!), [[2, 3, 4], [4]]],
  ['mul (broadcast)', (tf, a, b) => tf.mul(a!, b!), [[2, 1, 4], [3, 4]]],
  ['div', (tf, a, b) => tf.div(a!, b!), [[2, 3], [2, 3]], { positive: true }],
  ['squaredDifference', (tf, a, b) => tf.squaredDifference(a!, b!), [[2, 3], [3]]],
  ['maximum', (tf, a, b) => tf.maximum(a!, b!), [[2, 3], [2, 3]]],
  ['matMul', (tf, a, b) => tf.matMul(a!, b!), [[3, 4], [4, 2]]],
  ['matMul transposeA', (tf, a, b) => tf.matMul(a!, b!, true, false), [[4, 3], [4, 2]]],
  ['matMul transposeB', (tf, a, b) => tf.matMul(a!, b!, false, true), [[3, 4], [2, 4]]],
  ['matMul transposeA+B', (tf, a, b) => tf.matMul(a!, b!, true, true), [[4, 3], [2, 4]]],
  ['batched matMul', (tf, a, b) => tf.matMul(a!, b!), [[2, 3, 4], [2, 4, 2]]],
  ['neg', (tf, x) => tf.neg(x!), [[5]]],
  ['square', (tf, x) => tf.square(x!), [[5]]],
  ['sqrt', (tf, x) => tf.sqrt(x!), [[5]], { positive: true }],
  ['rsqrt', (tf, x) => tf.rsqrt(x!), [[5]], { positive: true }],
  ['log', (tf, x) => tf.log(x!), [[5]], { positive: true }],
  ['abs', (tf, x) => tf.abs(x!), [[5]]],
  ['erf', (tf, x) => tf.erf(x!), [[5]]],
  ['relu', (tf, x) => tf.relu(x!), [[5]]],
  ['exp', (tf, x) => tf.exp(x!), [[5]]],
  ['sigmoid', (tf, x) => tf.sigmoid(x!), [[5]]],
  ['tanh', (tf, x) => tf.tanh(x!), [[5]]],
  ['sum(axis 1)', (tf, x) => tf.sum(x!, 1), [[2, 3, 4]]],
  ['mean(axis -1, keepDims)', (tf, x) => tf.mean(x!, -1, true), [[2, 3, 4]]],
  ['sum(all)', (tf, x) => tf.sum(x!), [[2, 3]]],
  ['max(axis 1)', (tf, x) => tf.max(x!, 1), [[2, 4, 3]]],
  ['addN', (tf, a, b, c) => tf.addN([a!, b!, c!]), [[2, 3], [2, 3], [2, 3]]],
  ['reshape', (tf, x) => tf.reshape(x!, [4, 6]), [[2, 3, 4]]],
  ['expandDims', (tf, x) => tf.expandDims(x!, 1), [[2, 3]]],
  ['transpose', (tf, x) => tf.transpose(x!, [2, 0, 1]), [[2, 3, 4]]],
  ['softmax', (tf, x) => tf.softmax(x!), [[2, 5]]],
  ['slice', (tf, x) => tf.slice(x!, [0, 1, 1], [2, -1, 2]), [[2, 3, 4]]],
  ['pad', (tf, x) => tf.pad(x!, [[1, 0], [0, 2]]), [[2, 3]]],
  ['split', (tf, x) => tf.mul(tf.split(x!, [1, 3], 1)[1]!, 2), [[2, 4]]],
  ['concat', (tf, a, b) => tf.concat([a!, b!], 1), [[2, 2], [2, 3]]],
  ['stack', (tf, a, b) => tf.stack([a!, b!], 1), [[2, 3], [2, 3]]],
  ['unstack', (tf, x) => tf.unstack(x!, 1)[2]!, [[2, 3, 2]]],
  ['tile', (tf, x) => tf.tile(x!, [3, 1, 2]), [[1, 2, 3]]],
  ['clone', (tf, x) => tf.clone(x!), [[4]]]
]

describe.each(['cpu', 'wasm'] as const)('registered kernel gradients on %s', (backend) => {
  let tf: Tf
  beforeAll(async () => {
    tf = (await loadTf({ prefer: backend })).tf
  })

  it.each(cases)('%s matches finite differences', (_name, op, shapes, opts) => {
    const before = tf.memory().numTensors
    const uniform = seededRandom(3)
    const normal = normalFrom(uniform)
    const values = shapes.map((s) =>
      Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (opts?.positive ? 0.5 + uniform() : normal()))
    )
    tf.tidy(() => {
      const outShape = op(tf, ...values.map((v, i) => tf.tensor(v, shapes[i]!))).shape
      const weight = tf.tensor(Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => normal()), outShape)
      const f = (...x: Tensor[]) => tf.sum(tf.mul(op(tf, ...x), weight))
      const analytic = tf.grads(f)(values.map((v, i) => tf.tensor(v, shapes[i]!))).map((g) => g.dataSync())
      const eps = 1e-2
      values.forEach((v, i) => {
        for (let k = 0; k < v.length; k++) {
          const at = (delta: number) => {
            const moved = values.map((u) => u.slice())
            moved[i]![k] = moved[i]![k]! + delta
            return f(...moved.map((u, j) => tf.tensor(u, shapes[j]!))).dataSync()[0]!
          }
          const numeric = (at(eps) - at(-eps)) / (2 * eps)
          const a = analytic[i]![k]!
          expect(Math.abs(numeric - a), `input ${i}[${k}]: numeric ${numeric}, analytic ${a}`).toBeLessThanOrEqual(2e-3 + 1e-2 * Math.abs(a))
        }
      })
    })
    expect(tf.memory().numTensors).toBe(before)
  })
})

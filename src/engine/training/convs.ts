// Convolutions of the segmentation neck and head written as matrix products, so they run with
// gradients on every tfjs backend (wasm has no Conv2DBackpropFilter) and match PyTorch exactly:
//   - ConvTranspose2d(k=2, s=2): each input pixel emits a 2x2 block = one matmul + depth-to-space;
//   - Conv2d 3x3, padding 1: nine shifted matmuls, with a hand-written backward that keeps only the
//     input (not nine shifted copies of it) for the backward pass;
//   - BatchNorm2d over NHWC with batch statistics in training and running ones at evaluation.
// Every feature map here is NHWC.
import type { GradSaveFunc, Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'

type Args = Array<Tensor | GradSaveFunc>

/** x [N, H, W, Cin], w [Cin, 2*2*Cout] (rows ci, columns (a, b, co)), b [Cout] -> [N, 2H, 2W, Cout]. */
export function convTranspose2x2(tf: Tf, x: Tensor4D, w: Tensor2D, b: Tensor1D): Tensor4D {
  const [n, h, wd, cin] = x.shape
  const cout = w.shape[1] / 4
  const y = tf.matMul(tf.reshape(x, [n * h * wd, cin]) as Tensor2D, w) // [NHW, 4*Cout]
  // [N*H, W, a, (b, Cout)] -> [N*H, a, W, (b, Cout)]: row 2h+a, column 2w+b.
  const blocks = tf.transpose(tf.reshape(y, [n * h, wd, 2, 2 * cout]), [0, 2, 1, 3])
  return tf.add(tf.reshape(blocks, [n, 2 * h, 2 * wd, cout]), b) as Tensor4D
}

/** The nine (dy, dx) taps of a 3x3 kernel in weight-row order (ky major). */
const TAPS: [number, number][] = [0, 1, 2].flatMap((ky) => [0, 1, 2].map((kx): [number, number] => [ky, kx]))

/** Conv2d 3x3, stride 1, padding 1, no bias: x [N, H, W, C], w [9*C, O] (rows (ky, kx, c)) -> [N, H, W, O]. */
export function conv3x3(tf: Tf, x: Tensor4D, w: Tensor2D): Tensor4D {
  const [n, h, wd, c] = x.shape
  const o = w.shape[1]
  const m = n * h * wd
  const shifted = (xp: Tensor, ky: number, kx: number): Tensor2D => tf.reshape(tf.slice(xp, [0, ky, kx, 0], [n, h, wd, c]), [m, c]) as Tensor2D
  const tap = (wi: Tensor, k: number): Tensor2D => tf.slice(wi, [k * c, 0], [c, o]) as Tensor2D
  const op = tf.customGrad((...args: Args) => {
    const [xi, wi] = args.slice(0, 2) as [Tensor4D, Tensor2D]
    const save = args[2] as GradSaveFunc
    save([xi, wi])
    const value = tf.tidy(() => {
      const xp = tf.pad(xi, [[0, 0], [1, 1], [1, 1], [0, 0]])
      let acc: Tensor = tf.zeros([m, o])
      TAPS.forEach(([ky, kx], k) => {
        const next = tf.add(acc, tf.matMul(shifted(xp, ky, kx), tap(wi, k)))
        acc.dispose()
        acc = next
      })
      return tf.reshape(acc, [n, h, wd, o])
    })
    return {
      value,
      // Tidy, and the running sums are freed as they go: the backward pass of a 256-channel head
      // at 224x224 would otherwise hold nine padded partial gradients at once.
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [sx, sw] = saved as [Tensor4D, Tensor2D]
          const dy2 = tf.reshape(dy, [m, o]) as Tensor2D
          const xp = tf.pad(sx, [[0, 0], [1, 1], [1, 1], [0, 0]])
          const dws: Tensor[] = []
          let dxp: Tensor = tf.zeros(xp.shape)
          TAPS.forEach(([ky, kx], k) => {
            dws.push(tf.tidy(() => tf.matMul(tf.transpose(shifted(xp, ky, kx)), dy2))) // [C, O]
            const next = tf.tidy(() => {
              const part = tf.reshape(tf.matMul(dy2, tf.transpose(tap(sw, k))), [n, h, wd, c])
              return tf.add(dxp, tf.pad(part, [[0, 0], [ky, 2 - ky], [kx, 2 - kx], [0, 0]]))
            })
            dxp.dispose()
            dxp = next
          })
          return [tf.slice(dxp, [0, 1, 1, 0], [n, h, wd, c]), tf.concat(dws, 0)]
        })
    }
  })
  return op(x, w) as Tensor4D
}

/** Conv2d 1x1 with bias: x [N, H, W, C], w [C, O], b [O]. */
export function conv1x1(tf: Tf, x: Tensor4D, w: Tensor2D, b: Tensor1D): Tensor4D {
  const [n, h, wd, c] = x.shape
  const y = tf.add(tf.matMul(tf.reshape(x, [n * h * wd, c]) as Tensor2D, w), b)
  return tf.reshape(y, [n, h, wd, w.shape[1]]) as Tensor4D
}

export interface BatchStats {
  mean: Tensor1D
  variance: Tensor1D
  count: number
}

/**
 * BatchNorm2d over NHWC. Training: normalise with the batch's biased variance and return the
 * batch statistics for the running-average update; evaluation: use the running statistics.
 */
export function batchNorm(
  tf: Tf,
  x: Tensor4D,
  p: { weight: Tensor1D; bias: Tensor1D; runningMean: Tensor1D; runningVar: Tensor1D },
  training: boolean,
  eps = 1e-5
): { y: Tensor4D; stats?: BatchStats } {
  if (!training) {
    const y = tf.add(tf.mul(tf.div(tf.sub(x, p.runningMean), tf.sqrt(tf.add(p.runningVar, eps))), p.weight), p.bias) as Tensor4D
    return { y }
  }
  const mean = tf.mean(x, [0, 1, 2]) as Tensor1D
  const xc = tf.sub(x, mean)
  const variance = tf.mean(tf.square(xc), [0, 1, 2]) as Tensor1D
  const y = tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), p.weight), p.bias) as Tensor4D
  return { y, stats: { mean, variance, count: x.shape[0] * x.shape[1] * x.shape[2] } }
}

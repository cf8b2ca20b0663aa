// Losses with numerically stable forms and hand-written gradients where tfjs's node build has
// none registered (log-softmax, softplus): BCE with logits, (class-weighted) softmax cross-entropy,
// Dice, and their sum. Targets are plain tensors (no gradient).
import type { GradSaveFunc, Scalar, Tensor } from '@tensorflow/tfjs-core'
import type { Tf } from '../tf/backend'

type Args = Array<Tensor | GradSaveFunc>

/** log_softmax over the last axis. */
export function logSoftmax(tf: Tf, x: Tensor): Tensor {
  const op = tf.customGrad((...args: Args) => {
    const xi = args[0] as Tensor
    const save = args[1] as GradSaveFunc
    const shifted = tf.sub(xi, tf.max(xi, -1, true))
    const value = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)))
    save([value])
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const soft = tf.exp(saved[0]!)
        return [tf.sub(dy, tf.mul(soft, tf.sum(dy, -1, true)))]
      }
    }
  })
  return op(x)
}

/**
 * mean over elements of max(x, 0) - x*y + log(1 + exp(-|x|)) (torch BCEWithLogitsLoss). `weights`
 * (the logits' shape, no gradient) multiply the terms before the mean; a caller that normalises them
 * to mean 1 over the batch gets torch's weighted mean sum(w * l) / sum(w).
 */
export function bceWithLogits(tf: Tf, logits: Tensor, targets: Tensor, weights?: Tensor): Scalar {
  const count = logits.size
  const op = tf.customGrad((...args: Args) => {
    const [x, y, w] = args.slice(0, 3) as [Tensor, Tensor, Tensor]
    const save = args[3] as GradSaveFunc
    save([x, y, w])
    const per = tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log(tf.add(tf.exp(tf.neg(tf.abs(x))), 1)))
    return {
      value: tf.div(tf.sum(tf.mul(per, w)), count) as Scalar,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sy, sw] = saved as [Tensor, Tensor, Tensor]
        const g = tf.mul(tf.mul(tf.sub(tf.sigmoid(sx), sy), sw), tf.div(dy, count))
        return [g, tf.zerosLike(sy), tf.zerosLike(sw)]
      }
    }
  })
  return op(logits, targets, weights ?? tf.onesLike(logits)) as Scalar
}

/**
 * Softmax cross-entropy over the last axis of logits [..., K] against a one-hot [..., K]:
 * sum(w_y * nll) / sum(w_y) with class weights w (torch F.cross_entropy(weight=w), 'mean').
 */
export function crossEntropy(tf: Tf, logits: Tensor, onehot: Tensor, classWeights?: readonly number[]): Scalar {
  const k = logits.shape[logits.rank - 1]!
  const logp = logSoftmax(tf, logits)
  if (!classWeights) return tf.div(tf.neg(tf.sum(tf.mul(onehot, logp))), logits.size / k) as Scalar
  if (classWeights.length !== k) throw new Error(`${classWeights.length} class weights for ${k} classes`)
  const w = tf.tensor1d(Float32Array.from(classWeights))
  const weighted = tf.mul(onehot, w) // [..., K]
  return tf.div(tf.neg(tf.sum(tf.mul(weighted, logp))), tf.sum(weighted)) as Scalar
}

/** Dice loss on softmax probabilities: 1 - mean_k (2 sum(p y) + s) / (sum p + sum y + s). */
export function diceLoss(tf: Tf, logits: Tensor, onehot: Tensor, smooth = 1): Scalar {
  const k = logits.shape[logits.rank - 1]!
  const p = tf.reshape(tf.softmax(logits), [-1, k])
  const y = tf.reshape(onehot, [-1, k])
  const inter = tf.sum(tf.mul(p, y), 0)
  const denom = tf.add(tf.add(tf.sum(p, 0), tf.sum(y, 0)), smooth)
  const dice = tf.div(tf.add(tf.mul(inter, 2), smooth), denom)
  return tf.sub(1, tf.mean(dice)) as Scalar
}

export function segmentationLoss(tf: Tf, kind: 'ce' | 'dice' | 'ce+dice', logits: Tensor, onehot: Tensor, classWeights?: readonly number[]): Scalar {
  if (kind === 'ce') return crossEntropy(tf, logits, onehot, classWeights)
  if (kind === 'dice') return diceLoss(tf, logits, onehot)
  return tf.add(crossEntropy(tf, logits, onehot, classWeights), diceLoss(tf, logits, onehot)) as Scalar
}

// Linear probe: multinomial logistic regression on standardised embeddings, L2-penalised, fitted
// by L-BFGS. The objective is strictly convex, so the fit is deterministic and does not depend on
// a learning rate: what a probe score measures is the embedding, not the optimiser.
import type { EmbeddingMatrix } from './matrix'

export interface LogisticOptions {
  /** L2 penalty on the weights (not the biases), on the mean-loss scale; default 1e-2. */
  l2?: number
  maxIterations?: number
  /** Stop when the largest gradient component is below this; default 1e-5. */
  tolerance?: number
  /**
   * 'balanced' (default): each class weighs as much as the others in the loss, whatever its count;
   * or one loss weight per class.
   */
  classWeight?: 'balanced' | 'none' | readonly number[]
}

export interface LogisticModel {
  classes: number
  dim: number
  /** Standardisation fitted on the training rows: (x − mean) / scale. */
  mean: Float64Array
  scale: Float64Array
  /** (dim + 1) × classes, row-major; the last row holds the biases. */
  weights: Float64Array
  iterations: number
  converged: boolean
  /** The penalised training loss at the end. */
  loss: number
}

const HISTORY = 10

export function fitLogistic(x: EmbeddingMatrix, labels: ArrayLike<number>, classes: number, options: LogisticOptions = {}): LogisticModel {
  const { l2 = 1e-2, maxIterations = 500, tolerance = 1e-5, classWeight = 'balanced' } = options
  const { n, dim } = x
  if (labels.length !== n) throw new Error(`fitLogistic: ${n} embeddings but ${labels.length} labels`)
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`fitLogistic: needs at least 2 classes, got ${classes}`)
  if (!(l2 >= 0)) throw new Error(`fitLogistic: l2 must be ≥ 0, got ${l2}`)
  const counts = new Array<number>(classes).fill(0)
  for (let i = 0; i < n; i++) {
    const y = labels[i]!
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`fitLogistic: label ${y} of row ${i} is not a class index below ${classes}`)
    counts[y]!++
  }
  const present = counts.filter((c) => c > 0).length
  if (Array.isArray(classWeight) && (classWeight.length !== classes || !classWeight.every((w) => Number.isFinite(w) && w >= 0)))
    throw new Error(`fitLogistic: ${classWeight.length} class weights for ${classes} classes, or one is negative`)
  const classW = counts.map((c, k) => (typeof classWeight !== 'string' ? classWeight[k]! : classWeight === 'balanced' && c > 0 ? n / (present * c) : 1))
  const rowW = Float64Array.from({ length: n }, (_, i) => classW[labels[i]!]!)
  const totalW = rowW.reduce((s, w) => s + w, 0)

  const { mean, scale, xs } = standardise(x)
  const P = (dim + 1) * classes
  const logits = new Float64Array(classes)

  // Penalised mean loss and its gradient at w.
  const lossAndGradient = (w: Float64Array, g: Float64Array): number => {
    g.fill(0)
    let loss = 0
    for (let i = 0; i < n; i++) {
      const xi = i * dim
      for (let c = 0; c < classes; c++) logits[c] = w[dim * classes + c]!
      for (let j = 0; j < dim; j++) {
        const v = xs[xi + j]!
        if (v === 0) continue
        const wj = j * classes
        for (let c = 0; c < classes; c++) logits[c]! += v * w[wj + c]!
      }
      let max = -Infinity
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]!)
      let sum = 0
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[c]! - max)
      const logSum = max + Math.log(sum)
      const y = labels[i]!
      const wi = rowW[i]! / totalW
      loss += wi * (logSum - logits[y]!)
      for (let c = 0; c < classes; c++) {
        const r = wi * (Math.exp(logits[c]! - logSum) - (c === y ? 1 : 0))
        logits[c] = r // reused as the residual
      }
      for (let j = 0; j < dim; j++) {
        const v = xs[xi + j]!
        if (v === 0) continue
        const wj = j * classes
        for (let c = 0; c < classes; c++) g[wj + c]! += v * logits[c]!
      }
      for (let c = 0; c < classes; c++) g[dim * classes + c]! += logits[c]!
    }
    for (let k = 0; k < dim * classes; k++) {
      loss += 0.5 * l2 * w[k]! * w[k]!
      g[k]! += l2 * w[k]!
    }
    return loss
  }

  const w = new Float64Array(P)
  const g = new Float64Array(P)
  let f = lossAndGradient(w, g)
  const s: Float64Array[] = []
  const y: Float64Array[] = []
  const rho: number[] = []
  const alpha = new Array<number>(HISTORY)
  const d = new Float64Array(P)
  const wNext = new Float64Array(P)
  const gNext = new Float64Array(P)
  let iterations = 0
  let converged = false
  for (; iterations < maxIterations; iterations++) {
    if (maxAbs(g) < tolerance) {
      converged = true
      break
    }
    // Two-loop recursion: d = −H·g with H the L-BFGS inverse-Hessian estimate.
    d.set(g)
    for (let k = s.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(s[k]!, d)
      axpy(-alpha[k]!, y[k]!, d)
    }
    if (s.length) {
      const last = s.length - 1
      const gamma = dot(s[last]!, y[last]!) / dot(y[last]!, y[last]!)
      for (let k = 0; k < P; k++) d[k]! *= gamma
    }
    for (let k = 0; k < s.length; k++) {
      const beta = rho[k]! * dot(y[k]!, d)
      axpy(alpha[k]! - beta, s[k]!, d)
    }
    for (let k = 0; k < P; k++) d[k] = -d[k]!
    let slope = dot(g, d)
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = y.length = rho.length = 0
      for (let k = 0; k < P; k++) d[k] = -g[k]!
      slope = dot(g, d)
    }
    let step = s.length ? 1 : Math.min(1, 1 / Math.sqrt(-slope))
    let fNext = Infinity
    for (let tries = 0; tries < 40; tries++) {
      for (let k = 0; k < P; k++) wNext[k] = w[k]! + step * d[k]!
      fNext = lossAndGradient(wNext, gNext)
      if (fNext <= f + 1e-4 * step * slope) break
      step *= 0.5
    }
    if (!(fNext <= f + 1e-4 * step * slope)) break // no decrease possible at float precision
    const sk = new Float64Array(P)
    const yk = new Float64Array(P)
    for (let k = 0; k < P; k++) {
      sk[k] = wNext[k]! - w[k]!
      yk[k] = gNext[k]! - g[k]!
    }
    const sy = dot(sk, yk)
    if (sy > 1e-12) {
      if (s.length === HISTORY) {
        s.shift()
        y.shift()
        rho.shift()
      }
      s.push(sk)
      y.push(yk)
      rho.push(1 / sy)
    }
    const change = f - fNext
    w.set(wNext)
    g.set(gNext)
    f = fNext
    if (change <= 1e-12 * Math.max(1, Math.abs(f))) {
      converged = maxAbs(g) < tolerance * 100
      iterations++
      break
    }
  }
  return { classes, dim, mean, scale, weights: w, iterations, converged, loss: f }
}

/** Class probabilities, n × classes row-major. */
export function predictLogistic(model: LogisticModel, x: EmbeddingMatrix): Float64Array {
  if (x.dim !== model.dim) throw new Error(`predictLogistic: the probe was fitted on ${model.dim} features, these rows have ${x.dim}`)
  const { classes, dim, weights: w } = model
  const out = new Float64Array(x.n * classes)
  const logits = new Float64Array(classes)
  for (let i = 0; i < x.n; i++) {
    for (let c = 0; c < classes; c++) logits[c] = w[dim * classes + c]!
    for (let j = 0; j < dim; j++) {
      const v = (x.data[i * dim + j]! - model.mean[j]!) / model.scale[j]!
      for (let c = 0; c < classes; c++) logits[c]! += v * w[j * classes + c]!
    }
    let max = -Infinity
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]!)
    let sum = 0
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[c]! - max)
    for (let c = 0; c < classes; c++) out[i * classes + c] = Math.exp(logits[c]! - max) / sum
  }
  return out
}

/** Column means and standard deviations (a constant column gets scale 1), and the scaled rows. */
function standardise(x: EmbeddingMatrix): { mean: Float64Array; scale: Float64Array; xs: Float64Array } {
  const { n, dim, data } = x
  const mean = new Float64Array(dim)
  const scale = new Float64Array(dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += data[i * dim + j]!
  for (let j = 0; j < dim; j++) mean[j]! /= n
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++) {
      const v = data[i * dim + j]! - mean[j]!
      scale[j]! += v * v
    }
  for (let j = 0; j < dim; j++) {
    const sd = Math.sqrt(scale[j]! / n)
    scale[j] = sd > 1e-12 ? sd : 1
  }
  const xs = new Float64Array(n * dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) xs[i * dim + j] = (data[i * dim + j]! - mean[j]!) / scale[j]!
  return { mean, scale, xs }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!
  return s
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let k = 0; k < y.length; k++) y[k]! += a * x[k]!
}

function maxAbs(a: Float64Array): number {
  let m = 0
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]!))
  return m
}

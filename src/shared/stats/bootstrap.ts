// Percentile bootstrap confidence intervals with a seeded, reproducible resampler.
//
// Each of `iterations` replicates draws n indices with replacement as floor(u·n), u from
// seededRandom(seed) (xoshiro128**), in order, and evaluates the statistic (default: mean,
// summed in index order). The interval is the alpha/2 and 1 − alpha/2 quantiles of the
// replicates, numpy-'linear' interpolation. Same inputs + same seed → identical interval.
import { seededRandom } from '../random'
import { mean, quantileSorted } from './descriptive'

export interface BootstrapOptions {
  iterations?: number
  alpha?: number
  seed: number
  /** Statistic of a resample; default the arithmetic mean. */
  statistic?: (sample: Float64Array) => number
}

export interface BootstrapCI {
  /** The statistic on the original sample. */
  estimate: number
  lower: number
  upper: number
  alpha: number
  iterations: number
  seed: number
}

export const DEFAULT_BOOTSTRAP_ITERATIONS = 10_000

export function bootstrapCI(values: ArrayLike<number>, options: BootstrapOptions): BootstrapCI {
  const { iterations = DEFAULT_BOOTSTRAP_ITERATIONS, alpha = 0.05, seed, statistic = mean } = options
  const n = values.length
  if (n === 0) throw new Error('bootstrapCI: no values')
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`bootstrapCI: iterations must be a positive integer, got ${iterations}`)
  if (!(alpha > 0 && alpha < 1)) throw new Error(`bootstrapCI: alpha must be in (0, 1), got ${alpha}`)
  const data = Float64Array.from(values)
  const rng = seededRandom(seed)
  const sample = new Float64Array(n)
  const replicates = new Float64Array(iterations)
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) sample[i] = data[Math.floor(rng() * n)]
    replicates[it] = statistic(sample)
  }
  replicates.sort()
  return {
    estimate: statistic(data),
    lower: quantileSorted(replicates, alpha / 2),
    upper: quantileSorted(replicates, 1 - alpha / 2),
    alpha,
    iterations,
    seed
  }
}

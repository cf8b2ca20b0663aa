// Paired comparison of two methods scored on the same tiles (e.g. RGB loss of two recipes).
import { bootstrapCI, type BootstrapCI } from './bootstrap'
import { mean } from './descriptive'
import { wilcoxonSignedRank, type WilcoxonResult } from './wilcoxon'

export interface PairedComparisonOptions {
  /** Bootstrap seed; default 0 so reports are reproducible unless a seed is chosen. */
  seed?: number
  iterations?: number
  alpha?: number
}

export interface PairedComparison {
  n: number
  meanA: number
  meanB: number
  /** mean(A − B): negative when A has the lower loss. */
  meanDiff: number
  /** Percentile bootstrap CI of mean(A − B), resampling tiles (pairs stay together). */
  ci: BootstrapCI
  /** Two-sided Wilcoxon signed-rank test of A against B. */
  wilcoxon: WilcoxonResult
}

export function pairedComparison(perTileA: ArrayLike<number>, perTileB: ArrayLike<number>, options: PairedComparisonOptions = {}): PairedComparison {
  if (perTileA.length !== perTileB.length) throw new Error(`pairedComparison: ${perTileA.length} vs ${perTileB.length} tiles`)
  if (perTileA.length === 0) throw new Error('pairedComparison: no tiles')
  const diffs = new Float64Array(perTileA.length)
  for (let i = 0; i < diffs.length; i++) diffs[i] = perTileA[i] - perTileB[i]
  const ci = bootstrapCI(diffs, { seed: options.seed ?? 0, iterations: options.iterations, alpha: options.alpha })
  return {
    n: diffs.length,
    meanA: mean(perTileA),
    meanB: mean(perTileB),
    meanDiff: ci.estimate,
    ci,
    wilcoxon: wilcoxonSignedRank(perTileA, perTileB)
  }
}

// Aggregates of a reconstruction study: per method the mean, SD and a bootstrap 95 % interval of
// every metric, and for each pair of methods the paired per-tile difference with a Wilcoxon
// signed-rank test. Several masks per tile are averaged first, so the unit is always the tile.
import { bootstrapCI, meanStd, pairedComparison } from '../stats'
import { METRICS, type Metric, type MethodSummary, type PairSummary, type ResultRow, type StudySummary } from '../ipc/schemas/reconstruction'

export interface SummaryOptions {
  iterations?: number
  seed?: number
  alpha?: number
  /** Metrics compared pairwise (default: the two losses of the study). */
  pairMetrics?: readonly Metric[]
}

/** Per-tile values of one method and metric (mean over that tile's masks), in `tiles` order. */
export function perTile(rows: readonly ResultRow[], method: string, metric: Metric, tiles: readonly string[]): Float64Array {
  const sums = new Map<string, { sum: number; n: number }>()
  for (const r of rows) {
    if (r.method !== method) continue
    const s = sums.get(r.tile) ?? { sum: 0, n: 0 }
    s.sum += r[metric]
    s.n += 1
    sums.set(r.tile, s)
  }
  const out = new Float64Array(tiles.length)
  tiles.forEach((t, i) => {
    const s = sums.get(t)
    out[i] = s ? s.sum / s.n : NaN
  })
  return out
}

/** Tiles in first-seen order. */
export function tileOrder(rows: readonly ResultRow[]): string[] {
  return [...new Set(rows.map((r) => r.tile))]
}

function finite(values: Float64Array): Float64Array {
  return values.filter((v) => Number.isFinite(v))
}

export function summariseStudy(rows: readonly ResultRow[], methods: readonly string[], options: SummaryOptions = {}): StudySummary {
  const iterations = options.iterations ?? 10_000
  const seed = options.seed ?? 0
  const alpha = options.alpha ?? 0.05
  const tiles = tileOrder(rows)
  const masks = new Set(rows.map((r) => r.maskSeed)).size
  const methodSummaries: MethodSummary[] = methods.map((method) => {
    const metrics = {} as MethodSummary['metrics']
    for (const metric of METRICS) {
      const values = finite(perTile(rows, method, metric, tiles))
      if (values.length === 0) {
        metrics[metric] = { mean: 0, std: 0, lower: 0, upper: 0, n: 0 } // nothing finite to summarise
        continue
      }
      const { mean, std } = meanStd(values)
      const ci = bootstrapCI(values, { seed, iterations, alpha })
      metrics[metric] = { mean, std: Number.isFinite(std) ? std : 0, lower: ci.lower, upper: ci.upper, n: values.length }
    }
    return { method, metrics }
  })
  const pairs: PairSummary[] = []
  for (const metric of options.pairMetrics ?? (['modelLoss', 'rgbLoss'] as const)) {
    for (let i = 0; i < methods.length; i++) {
      for (let j = i + 1; j < methods.length; j++) {
        const a = perTile(rows, methods[i]!, metric, tiles)
        const b = perTile(rows, methods[j]!, metric, tiles)
        const keep = [...a.keys()].filter((k) => Number.isFinite(a[k]!) && Number.isFinite(b[k]!))
        if (keep.length === 0) continue
        const c = pairedComparison(
          keep.map((k) => a[k]!),
          keep.map((k) => b[k]!),
          { seed, iterations, alpha }
        )
        pairs.push({
          a: methods[i]!,
          b: methods[j]!,
          metric,
          n: c.n,
          meanDiff: c.meanDiff,
          lower: c.ci.lower,
          upper: c.ci.upper,
          wilcoxonW: c.wilcoxon.statistic,
          z: c.wilcoxon.z,
          pValue: c.wilcoxon.pValue,
          test: c.wilcoxon.method
        })
      }
    }
  }
  return { tiles: tiles.length, masksPerTile: masks, bootstrap: { iterations, seed, alpha }, methods: methodSummaries, pairs }
}

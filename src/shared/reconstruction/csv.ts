// The study's tables as CSV (see ../csv/write.ts), for the view's export and the CLI.
import { METRICS, type ResultRow, type StudySummary } from '../ipc/schemas/reconstruction'
import { toCsv, type CsvCell } from '../csv/write'

function table(header: string[], rows: CsvCell[][]): string {
  return toCsv([header, ...rows])
}

const SNAKE: Record<(typeof METRICS)[number], string> = {
  modelLoss: 'model_loss',
  rgbLoss: 'rgb_loss',
  displayMse: 'display_mse',
  psnr: 'psnr',
  ssim: 'ssim'
}

/** One line per tile × method × mask. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  return table(
    ['tile', 'method', 'mask_seed', ...METRICS.map((m) => SNAKE[m])],
    rows.map((r) => [r.tile, r.method, r.maskSeed, ...METRICS.map((m) => r[m])])
  )
}

/** One line per method × metric: mean, SD and the bootstrap interval. */
export function aggregatesCsv(summary: StudySummary): string {
  const rows: CsvCell[][] = []
  for (const m of summary.methods) {
    for (const metric of METRICS) {
      const a = m.metrics[metric]
      rows.push([m.method, SNAKE[metric], a.n, a.mean, a.std, a.lower, a.upper])
    }
  }
  return table(['method', 'metric', 'tiles', 'mean', 'std', 'ci_lower', 'ci_upper'], rows)
}

/** One line per pair of methods × metric: paired mean difference (a − b), interval, Wilcoxon. */
export function pairsCsv(summary: StudySummary): string {
  return table(
    ['method_a', 'method_b', 'metric', 'tiles', 'mean_diff', 'ci_lower', 'ci_upper', 'wilcoxon_w', 'z', 'p_value', 'test'],
    summary.pairs.map((p) => [p.a, p.b, SNAKE[p.metric], p.n, p.meanDiff, p.lower, p.upper, p.wilcoxonW, p.z, p.pValue, p.test])
  )
}

export { SNAKE as METRIC_COLUMN }

// Display smoothing of a metric series. Returns a new series: the raw values are never rewritten.
export type SmoothingMode = 'none' | 'ema' | 'moving-average'

export interface SeriesPoint {
  x: number
  y: number
}

/**
 * ema: debiased exponential moving average with weight `amount` in [0, 1) on the past
 * (TensorBoard's smoothing); moving-average: mean of the last round(amount) points (window ≥ 1).
 */
export function smoothSeries(points: readonly SeriesPoint[], mode: SmoothingMode, amount: number): SeriesPoint[] {
  if (mode === 'none' || points.length === 0) return points.map((p) => ({ ...p }))
  if (mode === 'ema') {
    const w = Math.min(Math.max(amount, 0), 0.999)
    let acc = 0
    let norm = 0
    return points.map((p) => {
      acc = acc * w + (1 - w) * p.y
      norm = norm * w + (1 - w)
      return { x: p.x, y: acc / norm }
    })
  }
  const window = Math.max(1, Math.round(amount))
  let sum = 0
  return points.map((p, i) => {
    sum += p.y
    if (i >= window) sum -= points[i - window]!.y
    return { x: p.x, y: sum / Math.min(i + 1, window) }
  })
}

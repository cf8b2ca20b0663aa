// A small chart.js plugin that draws interval error bars on bar charts: each dataset carries
// `intervals: [lower, upper][]` in data units, drawn as a whisker with caps over its bar.
import type { Chart, Plugin } from 'chart.js'

export interface ErrorBarOptions {
  color?: string
  lineWidth?: number
  /** Cap width as a fraction of the bar width. */
  capRatio?: number
}

type WithIntervals = { intervals?: ([number, number] | null)[] }

export const errorBarsPlugin: Plugin<'bar', ErrorBarOptions> = {
  id: 'errorBars',
  afterDatasetsDraw(chart: Chart<'bar'>, _args, options) {
    const { ctx } = chart
    const y = chart.scales.y
    if (!y) return
    ctx.save()
    ctx.strokeStyle = options.color ?? '#e4e6eb'
    ctx.lineWidth = options.lineWidth ?? 1.5
    chart.data.datasets.forEach((dataset, di) => {
      const intervals = (dataset as WithIntervals).intervals
      const meta = chart.getDatasetMeta(di)
      if (!intervals || meta.hidden) return
      meta.data.forEach((bar, i) => {
        const interval = intervals[i]
        if (!interval) return
        const { x, width } = bar.getProps(['x', 'width'], true) as { x: number; width: number }
        const top = y.getPixelForValue(interval[1])
        const bottom = y.getPixelForValue(interval[0])
        const cap = (width * (options.capRatio ?? 0.35)) / 2
        ctx.beginPath()
        ctx.moveTo(x, top)
        ctx.lineTo(x, bottom)
        ctx.moveTo(x - cap, top)
        ctx.lineTo(x + cap, top)
        ctx.moveTo(x - cap, bottom)
        ctx.lineTo(x + cap, bottom)
        ctx.stroke()
      })
    })
    ctx.restore()
  }
}

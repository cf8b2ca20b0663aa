// The engine jobs behind the Inference view and `marsfm infer`: per-image classification and the
// sliding-window heat map over one large image.
import { registerJob } from '../jobs/registry'
import { runClassification } from './classify'
import { runHeatmap } from './heatmap'

registerJob('inference-classify', (params, ctx) =>
  runClassification(params, {
    tf: ctx.tf,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
    log: (message) => ctx.log('info', message)
  })
)

registerJob('inference-heatmap', (params, ctx) =>
  runHeatmap(params, {
    tf: ctx.tf,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
    log: (message) => ctx.log('info', message)
  })
)

// The engine job behind the Inference view and `marsfm infer`.
import { registerJob } from '../jobs/registry'
import { runClassification } from './classify'

registerJob('inference-classify', (params, ctx) =>
  runClassification(params, {
    tf: ctx.tf,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
    log: (message) => ctx.log('info', message)
  })
)

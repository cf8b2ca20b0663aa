// The engine job behind the Inference view and `marsfm infer`.
import { registerJob } from '../jobs/registry'
import { runClassification, type ClassifyJobParams } from './classify'

registerJob('inference-classify', (raw, ctx) =>
  runClassification(raw as ClassifyJobParams, {
    tf: ctx.tf,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
    log: (message) => ctx.log('info', message)
  })
)

// The engine job behind the Reconstruction view and `marsfm reconstruct`.
import { registerJob } from '../jobs/registry'
import { runStudy } from './study'

registerJob('reconstruction-study', (params, ctx) =>
  runStudy(params, {
    tf: ctx.tf,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
    log: (message) => ctx.log('info', message)
  })
)

// The engine job behind the Reconstruction view and `marsfm reconstruct`.
import { registerJob } from '../jobs/registry'
import { runStudy, type StudyJobParams } from './study'

registerJob('reconstruction-study', (raw, ctx) =>
  runStudy(raw as StudyJobParams, {
    tf: ctx.tf,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
    log: (message) => ctx.log('info', message)
  })
)

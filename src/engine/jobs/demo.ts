// A demonstration job: a fixed number of steps, each a real matrix product on the loaded
// backend. It lets users (and tests) see progress, cancel and crash handling end to end.
import { CancelledError } from '@shared/ipc/errors'
import { registerJob, sleep } from './registry'

registerJob('demo', async (params, ctx) => {
  const { tf } = ctx.tf
  let checksum = 0
  for (let step = 1; step <= params.steps; step++) {
    if (ctx.signal.aborted) throw new CancelledError()
    const n = params.matrixSize
    const sum = tf.tidy(() => {
      const a = tf.fill([n, n], 1 / n)
      return tf.sum(tf.matMul(a, a))
    })
    checksum = (await sum.data())[0]!
    sum.dispose()
    ctx.progress(step, params.steps, `step ${step}/${params.steps}`)
    ctx.emit('metric', { step, name: 'checksum', value: checksum })
    if (params.stepMs > 0) await sleep(params.stepMs, ctx.signal)
  }
  return { steps: params.steps, checksum, backend: ctx.tf.backend }
})

// Follows one job's progress events until it ends; returns the unsubscribe for early exits.
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'

export function followJob(jobId: string, onUpdate: (job: JobView) => void, onEnd?: (job: JobView) => void): () => void {
  const stop = api.jobs.onProgress((job) => {
    if (job.id !== jobId) return
    onUpdate(job)
    if (job.state !== 'running' && job.state !== 'queued') {
      stop()
      onEnd?.(job)
    }
  })
  return stop
}

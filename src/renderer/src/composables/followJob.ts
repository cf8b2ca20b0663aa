// Follows one job's progress events until it ends; returns the unsubscribe for early exits.
// One follower for the whole renderer, subscribed when this module loads (before any job is
// started), so a job that finishes before its id comes back is still seen to finish.
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'
import { createJobFollower } from '@shared/ipc/job-follower'

const follower = createJobFollower(api.jobs)

export function followJob(jobId: string, onUpdate: (job: JobView) => void, onEnd?: (job: JobView) => void): () => void {
  return follower.follow(jobId, onUpdate, onEnd)
}

/**
 * Follows a job whose outcome main records in the ledger when it ends (a study, an inference job):
 * `job` mirrors its progress; once it has ended and main has had the event turn to record it,
 * `onRecorded` runs (refresh the list, open the record when done).
 */
export function followRecordedJob(jobId: string, job: { value: JobView | null }, onRecorded: (final: JobView) => void, onEnd?: (final: JobView) => void): () => void {
  return followJob(
    jobId,
    (j) => (job.value = j),
    (j) => {
      onEnd?.(j)
      setTimeout(() => onRecorded(j), 50)
    }
  )
}

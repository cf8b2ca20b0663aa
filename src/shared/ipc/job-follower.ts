// Follows jobs by id over the one `jobs:progress` stream, without the race every fast job hits:
// a job's events (even its `done`) can arrive before the reply that tells us its id. The stream
// is subscribed once, up front, and the latest event of each job nobody follows yet is kept for
// a while, so following an id replays what already happened. Pure: the transport is passed in.
import type { JobView } from './schemas/jobs'

export interface JobTransport {
  onProgress(listener: (job: JobView) => void): () => void
}

export interface JobFollower {
  /** Calls onUpdate for each event of the job (starting with any that came before this call) and onEnd once it ends. */
  follow(jobId: string, onUpdate: (job: JobView) => void, onEnd?: (job: JobView) => void): () => void
}

const isFinal = (job: JobView): boolean => job.state !== 'running' && job.state !== 'queued'

export function createJobFollower(transport: JobTransport, opts: { keepMs?: number; maxKept?: number; now?: () => number } = {}): JobFollower {
  const keepMs = opts.keepMs ?? 60_000
  const maxKept = opts.maxKept ?? 500
  const now = opts.now ?? Date.now
  const early = new Map<string, { job: JobView; at: number }>()
  const following = new Map<string, Set<(job: JobView) => void>>()

  const prune = (): void => {
    const cutoff = now() - keepMs
    for (const [id, e] of early) if (e.at < cutoff || early.size > maxKept) early.delete(id)
  }

  transport.onProgress((job) => {
    const listeners = following.get(job.id)
    if (listeners) for (const l of [...listeners]) l(job)
    else {
      early.delete(job.id) // re-insert: the map's order stays oldest first for pruning
      early.set(job.id, { job, at: now() })
      prune()
    }
  })

  return {
    follow(jobId, onUpdate, onEnd) {
      let stopped = false
      const stop = (): void => {
        stopped = true
        const set = following.get(jobId)
        set?.delete(listener)
        if (set && !set.size) following.delete(jobId)
      }
      function listener(job: JobView): void {
        if (stopped) return
        onUpdate(job)
        if (isFinal(job)) {
          stop()
          onEnd?.(job)
        }
      }
      const set = following.get(jobId) ?? new Set()
      set.add(listener)
      following.set(jobId, set)
      const seen = early.get(jobId)
      if (seen && now() - seen.at <= keepMs) {
        early.delete(jobId)
        listener(seen.job)
      }
      return stop
    }
  }
}

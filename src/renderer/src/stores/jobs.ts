// Every job main knows about, kept live from `jobs:progress` events.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'
import { trackedCalls } from '../composables/trackedCalls'

export const useJobsStore = defineStore('jobs', () => {
  const byId = ref(new Map<string, JobView>())
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['refresh', 'startDemo', 'cancel'], error)

  const all = computed(() => [...byId.value.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)))
  const active = computed(() => all.value.filter((j) => j.state === 'running' || j.state === 'queued'))

  function upsert(job: JobView) {
    byId.value.set(job.id, job)
  }

  async function refresh() {
    const list = await track('refresh', () => api.jobs.list(), 'report')
    if (list) for (const job of list) upsert(job)
  }

  /** The demo job's id, or null when it was refused (`calls.startDemo.error` says why). */
  async function startDemo(steps: number, stepMs: number) {
    return (await track('startDemo', () => api.jobs.startDemo({ steps, stepMs }), 'own'))?.jobId ?? null
  }

  async function cancel(jobId: string) {
    return (await track('cancel', () => api.jobs.cancel(jobId), 'report'))?.cancelled ?? false
  }

  api.jobs.onProgress(upsert)
  void refresh()

  return { byId, all, active, calls, error, refresh, startDemo, cancel }
})

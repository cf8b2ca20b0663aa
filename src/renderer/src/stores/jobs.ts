// Every job main knows about, kept live from `jobs:progress` events.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'

export const useJobsStore = defineStore('jobs', () => {
  const byId = ref(new Map<string, JobView>())
  const error = ref<string | null>(null)

  const all = computed(() => [...byId.value.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)))
  const active = computed(() => all.value.filter((j) => j.state === 'running' || j.state === 'queued'))

  function upsert(job: JobView) {
    byId.value.set(job.id, job)
  }

  async function refresh() {
    try {
      for (const job of await api.jobs.list()) upsert(job)
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  async function startDemo(steps: number, stepMs: number) {
    const { jobId } = await api.jobs.startDemo({ steps, stepMs })
    return jobId
  }

  async function cancel(jobId: string) {
    return (await api.jobs.cancel(jobId)).cancelled
  }

  api.jobs.onProgress(upsert)
  void refresh()

  return { byId, all, active, error, refresh, startDemo, cancel }
})

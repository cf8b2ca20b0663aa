// Sliding-window heat maps over one large image: the job in flight (progress, cancel) and the last
// map it produced (the job's result: window scores and a preview of the image). Maps are not kept in
// the ledger; export them as PNG and CSV.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { HeatmapOutcome, type HeatmapRequest } from '@shared/ipc/schemas/inference'
import { api } from '../api'
import { followJob } from '../composables/followJob'
import { trackedCalls } from '../composables/trackedCalls'

export const useHeatmapStore = defineStore('heatmap', () => {
  const job = ref<JobView | null>(null)
  const outcome = ref<HeatmapOutcome | null>(null)
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['start', 'cancel'], error)
  /** The map's opacity over the image (0 – 1), kept across maps. */
  const opacity = ref(0.55)
  /** Colour scale: probability 0 – 1 as it is, or stretched to the map's own range. */
  const scale = ref<'absolute' | 'stretch'>('absolute')

  const running = computed(() => job.value?.state === 'running' || job.value?.state === 'queued')

  async function start(request: HeatmapRequest) {
    job.value = null
    const started = await track('start', () => api.inference.heatmap(request))
    if (!started) return
    followJob(
      started.jobId,
      (j) => (job.value = j),
      (j) => {
        if (j.state !== 'done') return
        const parsed = HeatmapOutcome.safeParse(j.result)
        if (parsed.success) outcome.value = parsed.data
        else error.value = `the heat map came back malformed: ${parsed.error.issues[0]?.message ?? 'unknown'}`
      }
    )
  }

  async function cancel() {
    if (job.value) await track('cancel', () => api.jobs.cancel(job.value!.id))
  }

  function clear() {
    outcome.value = null
  }

  return { job, outcome, error, calls, opacity, scale, running, start, cancel, clear }
})

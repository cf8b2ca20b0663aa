// Classifier inference: the classification runs and checkpoints to choose from, the job in flight,
// past jobs from the ledger, the open job (its stored probabilities) with the chosen threshold, and
// the enlarged image.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import type { InferenceCandidate, InferenceDetail, InferenceListItem, InferenceStartRequest } from '@shared/ipc/schemas/inference'
import { api } from '../api'
import { followRecordedJob } from '../composables/followJob'
import { frozenVersionOptions } from '../composables/frozenVersions'
import { trackedCalls } from '../composables/trackedCalls'

export const useInferenceStore = defineStore('inference', () => {
  const candidates = ref<InferenceCandidate[]>([])
  const jobs = ref<InferenceListItem[]>([])
  const current = ref<InferenceDetail | null>(null)
  const job = ref<JobView | null>(null)
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['loadCandidates', 'refresh', 'open', 'start', 'cancel', 'remove', 'enlarge'], error)
  /** The open job's state (each action's own is in `calls`). */
  const state = computed(() => calls.open.state)
  /** Binary runs: the positive class is predicted when its probability is ≥ threshold. */
  const threshold = ref(0.5)
  const enlarged = ref<{ index: number; name: string; dataUrl: string | null } | null>(null)
  const datasetVersions = ref<{ id: number; label: string }[]>([])

  const running = computed(() => job.value?.state === 'running' || job.value?.state === 'queued')

  async function loadCandidates() {
    await track('loadCandidates', async () => (candidates.value = await api.inference.candidates()))
  }

  async function loadDatasetVersions() {
    datasetVersions.value = await frozenVersionOptions()
  }

  async function refresh() {
    await track('refresh', async () => (jobs.value = await api.inference.list()))
  }

  async function open(id: number) {
    enlarged.value = null
    const detail = await track('open', () => api.inference.get(id))
    if (!detail) return
    current.value = detail
    threshold.value = 0.5
  }

  async function start(request: InferenceStartRequest) {
    job.value = null
    const started = await track('start', () => api.inference.start(request))
    if (!started) return
    void refresh()
    followRecordedJob(started.jobId, job, (j) => {
      void refresh()
      if (j.state === 'done') void open(started.inferenceId)
    })
  }

  async function cancel() {
    if (job.value) await track('cancel', () => api.jobs.cancel(job.value!.id))
  }

  async function remove(id: number) {
    await track('remove', () => api.inference.remove(id))
    if (current.value?.id === id) current.value = null
    await refresh()
  }

  /** Opens the enlarged view of row `index` (the thumbnail at once, the full image when it arrives). */
  async function enlarge(index: number) {
    const c = current.value
    const p = c?.outcome?.predictions[index]
    if (!c || !p) return
    enlarged.value = { index, name: p.name, dataUrl: p.thumbnail ?? null }
    const img = await track('enlarge', () => api.inference.image(c.id, index, 512))
    if (img && enlarged.value?.index === index && current.value?.id === c.id) enlarged.value = { index, name: img.name, dataUrl: img.dataUrl }
  }

  function closeEnlarged() {
    enlarged.value = null
  }

  return {
    candidates,
    jobs,
    current,
    job,
    state,
    calls,
    error,
    threshold,
    enlarged,
    datasetVersions,
    running,
    loadCandidates,
    loadDatasetVersions,
    refresh,
    open,
    start,
    cancel,
    remove,
    enlarge,
    closeEnlarged
  }
})

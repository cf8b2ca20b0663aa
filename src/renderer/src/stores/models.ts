// Imported checkpoints, and the import / export jobs that work on them.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { ModelRecord } from '@shared/ipc/schemas/models'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'
import { followJob } from '../composables/followJob'
import { trackedCalls } from '../composables/trackedCalls'

export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelRecord[]>([])
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['refresh', 'importModel', 'exportOnnx', 'remove'], error)
  /** The model list's state (each action's own is in `calls`). */
  const state = computed(() => calls.refresh.state)
  /** The import job in flight and how it ended, so the view can show progress and refusals. */
  const importJob = ref<JobView | null>(null)
  const exportJob = ref<JobView | null>(null)

  async function refresh() {
    const list = await track('refresh', () => api.models.list(), 'report')
    if (list) models.value = list
  }

  function follow(jobId: string, target: typeof importJob) {
    followJob(jobId, (job) => (target.value = job), () => void refresh())
  }

  async function importModel(path: string, configPath?: string, name?: string) {
    importJob.value = null
    const started = await track('importModel', () => api.models.import({ path, ...(configPath ? { configPath } : {}), ...(name ? { name } : {}) }))
    if (started) follow(started.jobId, importJob)
  }

  async function exportOnnx(id: number, graph: 'mae' | 'encoder' | 'classifier', outPath: string) {
    exportJob.value = null
    const started = await track('exportOnnx', () => api.models.exportOnnx({ id, graph, outPath }))
    if (started) follow(started.jobId, exportJob)
  }

  async function remove(id: number) {
    if ((await track('remove', () => api.models.remove(id))) !== null) await refresh()
  }

  return { models, state, calls, error, importJob, exportJob, refresh, importModel, exportOnnx, remove }
})

// Imported checkpoints, and the import / export jobs that work on them.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ModelRecord } from '@shared/ipc/schemas/models'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'
import { followJob } from '../composables/followJob'
import type { TaskState } from '../composables/useTask'

export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelRecord[]>([])
  const state = ref<TaskState>('idle')
  const error = ref<string | null>(null)
  /** The import job in flight and how it ended, so the view can show progress and refusals. */
  const importJob = ref<JobView | null>(null)
  const exportJob = ref<JobView | null>(null)

  async function refresh() {
    state.value = 'loading'
    try {
      models.value = await api.models.list()
      state.value = 'done'
    } catch (err) {
      error.value = (err as Error).message
      state.value = 'error'
    }
  }

  function follow(jobId: string, target: typeof importJob) {
    followJob(jobId, (job) => (target.value = job), () => void refresh())
  }

  async function importModel(path: string, configPath?: string, name?: string) {
    error.value = null
    importJob.value = null
    try {
      const { jobId } = await api.models.import({ path, ...(configPath ? { configPath } : {}), ...(name ? { name } : {}) })
      follow(jobId, importJob)
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  async function exportOnnx(id: number, graph: 'mae' | 'encoder' | 'classifier', outPath: string) {
    error.value = null
    exportJob.value = null
    try {
      const { jobId } = await api.models.exportOnnx({ id, graph, outPath })
      follow(jobId, exportJob)
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  async function remove(id: number) {
    await api.models.remove(id)
    await refresh()
  }

  return { models, state, error, importJob, exportJob, refresh, importModel, exportOnnx, remove }
})

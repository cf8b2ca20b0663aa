// The backbone comparison: ledger models to choose from, frozen dataset versions, the study in
// flight, past studies, the open study, and the neighbour search from one of its tiles.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import type { ModelRecord } from '@shared/ipc/schemas/models'
import type { BackboneStudyDetail, BackboneStudyListItem, BackboneStudyRequest } from '@shared/ipc/schemas/backbones'
import { api } from '../api'
import { followJob } from '../composables/followJob'
import { frozenVersionOptions, type VersionOption } from '../composables/frozenVersions'
import { guarded as guardedCall, type TaskState } from '../composables/useTask'

export interface NeighbourTile {
  index: number
  similarity: number
  label: number
  observation: string
  dataUrl: string | null
}

export const useBackbonesStore = defineStore('backbones', () => {
  const models = ref<ModelRecord[]>([])
  const versions = ref<VersionOption[]>([])
  const studies = ref<BackboneStudyListItem[]>([])
  const current = ref<BackboneStudyDetail | null>(null)
  const job = ref<JobView | null>(null)
  /** The open study's state (loading it, or why it could not be read). */
  const state = ref<TaskState>('idle')
  const error = ref<string | null>(null)
  const query = ref<{ backbone: string; index: number; dataUrl: string | null } | null>(null)
  const neighbours = ref<NeighbourTile[]>([])
  const neighbourState = ref<TaskState>('idle')

  const running = computed(() => job.value?.state === 'running' || job.value?.state === 'queued')
  const guarded = <T>(fn: () => Promise<T>) => guardedCall(error, fn)

  async function load() {
    await guarded(async () => {
      models.value = await api.models.list()
      versions.value = await frozenVersionOptions()
      studies.value = await api.backbones.list()
    })
  }

  async function refresh() {
    await guarded(async () => (studies.value = await api.backbones.list()))
  }

  async function open(id: number) {
    state.value = 'loading'
    query.value = null
    neighbours.value = []
    const detail = await guarded(() => api.backbones.get(id))
    if (!detail) {
      state.value = 'error'
      return
    }
    current.value = detail
    state.value = 'done'
  }

  async function start(request: BackboneStudyRequest) {
    job.value = null
    const started = await guarded(() => api.backbones.start(request))
    if (!started) return
    void refresh()
    followJob(
      started.jobId,
      (j) => (job.value = j),
      (j) => {
        // Main records the outcome when the job ends; give it the event turn to finish.
        setTimeout(() => {
          void refresh()
          if (j.state === 'done') void open(started.studyId)
        }, 50)
      }
    )
  }

  async function cancel() {
    if (job.value) await guarded(() => api.jobs.cancel(job.value!.id))
  }

  async function remove(id: number) {
    await guarded(() => api.backbones.remove(id))
    if (current.value?.id === id) current.value = null
    await refresh()
  }

  /** "More tiles like this": the nearest tiles to `index` in `backbone`'s embedding, with their pictures. */
  async function findNeighbours(backbone: string, index: number, pooling: 'cls' | 'mean' = 'cls') {
    const study = current.value
    if (!study) return
    neighbourState.value = 'loading'
    query.value = { backbone, index, dataUrl: null }
    neighbours.value = []
    const found = await guarded(() => api.backbones.neighbours({ id: study.id, backbone, index, k: 12, pooling }))
    if (!found || current.value?.id !== study.id) {
      neighbourState.value = found ? 'idle' : 'error'
      return
    }
    neighbours.value = found.map((n) => ({ ...n, dataUrl: null }))
    neighbourState.value = 'done'
    const picture = async (i: number) => (await guarded(() => api.backbones.tileImage(study.id, i, 128)))?.dataUrl ?? null
    const q = await picture(index)
    if (query.value?.index === index) query.value = { backbone, index, dataUrl: q }
    for (const n of neighbours.value) n.dataUrl = await picture(n.index)
  }

  return {
    models,
    versions,
    studies,
    current,
    job,
    state,
    error,
    query,
    neighbours,
    neighbourState,
    running,
    load,
    refresh,
    open,
    start,
    cancel,
    remove,
    findNeighbours
  }
})

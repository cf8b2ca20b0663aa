// The backbone comparison: ledger models to choose from, frozen dataset versions, the study in
// flight, past studies, the open study, and the neighbour search from one of its tiles.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import type { ModelRecord } from '@shared/ipc/schemas/models'
import type { BackboneStudyDetail, BackboneStudyListItem, BackboneStudyRequest } from '@shared/ipc/schemas/backbones'
import { api } from '../api'
import { followRecordedJob } from '../composables/followJob'
import { frozenVersionOptions, type VersionOption } from '../composables/frozenVersions'
import { trackedCalls } from '../composables/trackedCalls'

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
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['load', 'refresh', 'open', 'start', 'cancel', 'remove', 'neighbours', 'picture'], error)
  /** The open study's state (each action's own is in `calls`). */
  const state = computed(() => calls.open.state)
  const query = ref<{ backbone: string; index: number; dataUrl: string | null } | null>(null)
  const neighbours = ref<NeighbourTile[]>([])
  const neighbourState = computed(() => calls.neighbours.state)

  const running = computed(() => job.value?.state === 'running' || job.value?.state === 'queued')

  async function load() {
    await Promise.all([
      track('load', async () => (models.value = await api.models.list()), 'report'),
      frozenVersionOptions().then((v) => (versions.value = v)),
      refresh()
    ])
  }

  async function refresh() {
    await track('refresh', async () => (studies.value = await api.backbones.list()), 'report')
  }

  async function open(id: number) {
    query.value = null
    neighbours.value = []
    const detail = await track('open', () => api.backbones.get(id))
    if (detail) current.value = detail
  }

  async function start(request: BackboneStudyRequest) {
    job.value = null
    const started = await track('start', () => api.backbones.start(request))
    if (!started) return
    void refresh()
    followRecordedJob(started.jobId, job, (j) => {
      void refresh()
      if (j.state === 'done') void open(started.studyId)
    })
  }

  async function cancel() {
    if (job.value) await track('cancel', () => api.jobs.cancel(job.value!.id))
  }

  async function remove(id: number) {
    await track('remove', () => api.backbones.remove(id))
    if (current.value?.id === id) current.value = null
    await refresh()
  }

  /** "More tiles like this": the nearest tiles to `index` in `backbone`'s embedding, with their pictures. */
  async function findNeighbours(backbone: string, index: number, pooling: 'cls' | 'mean' = 'cls') {
    const study = current.value
    if (!study) return
    query.value = { backbone, index, dataUrl: null }
    neighbours.value = []
    const found = await track('neighbours', () => api.backbones.neighbours({ id: study.id, backbone, index, k: 12, pooling }))
    if (!found || current.value?.id !== study.id) return
    neighbours.value = found.map((n: Omit<NeighbourTile, 'dataUrl'>) => ({ ...n, dataUrl: null }))
    const picture = async (i: number) => (await track('picture', () => api.backbones.tileImage(study.id, i, 128), 'report'))?.dataUrl ?? null
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
    calls,
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

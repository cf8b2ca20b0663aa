// Reconstruction studies: band recipes, the study in flight (a job), past studies from the ledger,
// the open study and its gallery images.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { JobView } from '@shared/ipc/schemas/jobs'
import type {
  GalleryTileImages,
  ReconstructionStartRequest,
  RecipeList,
  StudyDetail,
  StudyListItem
} from '@shared/ipc/schemas/reconstruction'
import type { BandRecipe } from '@shared/imputation/recipes'
import { api } from '../api'
import { guarded as guardedCall, type TaskState } from '../composables/useTask'
import { followJob } from '../composables/followJob'
import { frozenVersionOptions } from '../composables/frozenVersions'

export const useReconstructionStore = defineStore('reconstruction', () => {
  const recipes = ref<RecipeList>({ presets: [], custom: [] })
  const studies = ref<StudyListItem[]>([])
  const current = ref<StudyDetail | null>(null)
  const gallery = ref<GalleryTileImages[]>([])
  const job = ref<JobView | null>(null)
  const runningStudyId = ref<number | null>(null)
  const state = ref<TaskState>('idle')
  const error = ref<string | null>(null)
  const recipeError = ref<string | null>(null)
  /** Frozen dataset versions a study can read, labelled for the form. */
  const datasetVersions = ref<{ id: number; label: string }[]>([])

  const running = computed(() => job.value?.state === 'running' || job.value?.state === 'queued')
  const allRecipes = computed(() => [...recipes.value.presets, ...recipes.value.custom])

  const guarded = <T>(fn: () => Promise<T>) => guardedCall(error, fn)

  async function loadRecipes() {
    await guarded(async () => (recipes.value = await api.reconstruction.recipes()))
  }

  async function loadDatasetVersions() {
    datasetVersions.value = await frozenVersionOptions()
  }

  async function refresh() {
    await guarded(async () => (studies.value = await api.reconstruction.list()))
  }

  async function open(id: number) {
    state.value = 'loading'
    gallery.value = []
    const detail = await guarded(() => api.reconstruction.get(id))
    if (!detail) {
      state.value = 'error'
      return
    }
    current.value = detail
    state.value = 'done'
    // Gallery rows arrive one by one so the table and chart show at once.
    for (const t of detail.outcome?.gallery?.tiles ?? []) {
      if (current.value?.id !== id) return
      const images = await guarded(() => api.reconstruction.galleryTile(id, t.index))
      if (images && current.value?.id === id) gallery.value = [...gallery.value, images]
    }
  }

  async function start(request: ReconstructionStartRequest) {
    job.value = null
    const started = await guarded(() => api.reconstruction.start(request))
    if (!started) return
    runningStudyId.value = started.studyId
    void refresh()
    followJob(
      started.jobId,
      (j) => (job.value = j),
      (j) => {
        runningStudyId.value = null
        // Main records the results when the job ends; give it the event turn to finish.
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
    await guarded(() => api.reconstruction.remove(id))
    if (current.value?.id === id) {
      current.value = null
      gallery.value = []
    }
    await refresh()
  }

  async function saveRecipe(recipe: BandRecipe): Promise<boolean> {
    recipeError.value = null
    try {
      recipes.value = await api.reconstruction.saveRecipe(recipe)
      return true
    } catch (err) {
      recipeError.value = (err as Error).message
      return false
    }
  }

  async function deleteRecipe(name: string) {
    await guarded(async () => (recipes.value = await api.reconstruction.deleteRecipe(name)))
  }

  return {
    recipes,
    allRecipes,
    studies,
    current,
    gallery,
    job,
    runningStudyId,
    running,
    state,
    error,
    recipeError,
    datasetVersions,
    loadDatasetVersions,
    loadRecipes,
    refresh,
    open,
    start,
    cancel,
    remove,
    saveRecipe,
    deleteRecipe
  }
})

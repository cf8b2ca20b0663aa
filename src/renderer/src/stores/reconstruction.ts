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
import { trackedCalls } from '../composables/trackedCalls'
import { followRecordedJob } from '../composables/followJob'
import { frozenVersionOptions } from '../composables/frozenVersions'

export const useReconstructionStore = defineStore('reconstruction', () => {
  const recipes = ref<RecipeList>({ presets: [], custom: [] })
  const studies = ref<StudyListItem[]>([])
  const current = ref<StudyDetail | null>(null)
  const gallery = ref<GalleryTileImages[]>([])
  const job = ref<JobView | null>(null)
  const runningStudyId = ref<number | null>(null)
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['loadRecipes', 'refresh', 'open', 'galleryTile', 'start', 'cancel', 'remove', 'saveRecipe', 'deleteRecipe'], error)
  /** The open study's state (each action's own is in `calls`). */
  const state = computed(() => calls.open.state)
  /** Why the recipe editor's last save was refused (shown in the editor, not above the view). */
  const recipeError = computed(() => calls.saveRecipe.error)
  /** Frozen dataset versions a study can read, labelled for the form. */
  const datasetVersions = ref<{ id: number; label: string }[]>([])

  const running = computed(() => job.value?.state === 'running' || job.value?.state === 'queued')

  async function loadRecipes() {
    await track('loadRecipes', async () => (recipes.value = await api.reconstruction.recipes()))
  }

  async function loadDatasetVersions() {
    datasetVersions.value = await frozenVersionOptions()
  }

  async function refresh() {
    await track('refresh', async () => (studies.value = await api.reconstruction.list()))
  }

  async function open(id: number) {
    gallery.value = []
    const detail = await track('open', () => api.reconstruction.get(id))
    if (!detail) return
    current.value = detail
    // Gallery rows arrive one by one so the table and chart show at once.
    for (const t of detail.outcome?.gallery?.tiles ?? []) {
      if (current.value?.id !== id) return
      const images = await track('galleryTile', () => api.reconstruction.galleryTile(id, t.index))
      if (images && current.value?.id === id) gallery.value = [...gallery.value, images]
    }
  }

  async function start(request: ReconstructionStartRequest) {
    job.value = null
    const started = await track('start', () => api.reconstruction.start(request))
    if (!started) return
    runningStudyId.value = started.studyId
    void refresh()
    followRecordedJob(
      started.jobId,
      job,
      (j) => {
        void refresh()
        // A cancelled study that kept its finished tiles opens as a partial study.
        if (j.state === 'done' || (j.state === 'cancelled' && j.result !== undefined)) void open(started.studyId)
      },
      () => (runningStudyId.value = null)
    )
  }

  async function cancel() {
    if (job.value) await track('cancel', () => api.jobs.cancel(job.value!.id))
  }

  async function remove(id: number) {
    await track('remove', () => api.reconstruction.remove(id))
    if (current.value?.id === id) {
      current.value = null
      gallery.value = []
    }
    await refresh()
  }

  async function saveRecipe(recipe: BandRecipe): Promise<boolean> {
    const saved = await track('saveRecipe', () => api.reconstruction.saveRecipe(recipe), 'own')
    if (saved) recipes.value = saved
    return saved !== null
  }

  async function deleteRecipe(name: string) {
    await track('deleteRecipe', async () => (recipes.value = await api.reconstruction.deleteRecipe(name)))
  }

  return {
    recipes,
    studies,
    current,
    gallery,
    job,
    runningStudyId,
    running,
    state,
    calls,
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

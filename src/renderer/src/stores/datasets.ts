// Dataset curation state: the datasets, the current one's tiles (metadata only; thumbnails are
// fetched for the rows on screen), selection, splits, versions and the jobs this view started.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RequestOf } from '@shared/ipc/contract'
import type { AnnotationView, DatasetSummary, ImageView, ImportSummary, LabelPolicy, QualityReport, SplitReport, TileView, VersionView } from '@shared/ipc/schemas/datasets'
import { resolveLabel, type AgreementReport } from '@shared/datasets/agreement'
import type { JobView } from '@shared/ipc/schemas/jobs'
import { api } from '../api'
import { trackedCalls } from '../composables/trackedCalls'
import { followJob } from '../composables/followJob'

const emptyReport = (): SplitReport => ({ counts: { train: 0, valid: 0, test: 0, none: 0 }, byClass: {}, groups: 0, leaks: [], warnings: [] })

export type TileFilter = { label: string; split: string; disagree: boolean; conflict: boolean }
export type SourceClasses = NonNullable<Awaited<ReturnType<typeof api.datasets.importClasses>>>
type JobPurpose = 'import' | 'tile' | 'export' | 'quality'
// Every action that calls main, each with its own state.
const CALLS = [
  'refreshDatasets', 'create', 'addClass', 'loadTiles', 'loadImages', 'ensureThumbnails', 'importPaths',
  'importFormat', 'pickPaths', 'gridTiles', 'cutTile', 'label', 'setSplit', 'deleteSelected', 'runSplit',
  'checkLeaks', 'loadVersions', 'freeze', 'exportVersion', 'runQuality', 'loadStats', 'loadAgreement',
  'keepAgreed', 'loadSettings', 'saveAnnotator', 'tileImage', 'region', 'annotations', 'saveAnnotations',
  'importClasses', 'adjudicate', 'loadConflicts', 'setLabelPolicy'
] as const

export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([])
  const currentId = ref<number | null>(null)
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(CALLS, error)
  /** The dataset list's state (each action's own is in `calls`). */
  const state = computed(() => calls.refreshDatasets.state)

  const tiles = ref<TileView[]>([])
  const filter = ref<TileFilter>({ label: '', split: '', disagree: false, conflict: false })
  /** The classes of the source about to be imported (the Import panel's mapping step). */
  const sourceClasses = ref<SourceClasses | null>(null)
  /** Tiles whose labels conflict, waiting for adjudication. */
  const conflicts = ref<TileView[]>([])
  const selection = ref(new Set<number>())
  const focusIndex = ref(0)
  const thumbnails = ref(new Map<number, string>())
  const images = ref<ImageView[]>([])
  const imagesTotal = ref(0)
  const annotator = ref('')
  const versions = ref<VersionView[]>([])
  const splitReport = ref<SplitReport | null>(null)
  const agreement = ref<AgreementReport | null>(null)
  const stats = ref<{ classes: string[]; bySplit: Record<string, Record<string, number>>; colour: Record<string, number> } | null>(null)

  // The latest job of each kind this view started, and what it returned.
  const jobs = ref<Partial<Record<JobPurpose, JobView>>>({})
  const importSummary = computed(() => (jobs.value.import?.state === 'done' ? (jobs.value.import.result as ImportSummary) : null))
  const quality = computed(() => (jobs.value.quality?.state === 'done' ? (jobs.value.quality.result as QualityReport) : null))
  const exportResult = computed(() => (jobs.value.export?.state === 'done' ? (jobs.value.export.result as { outDir: string; files: number; tiles: number; skipped: { reason: string; tiles: number }[] }) : null))

  const current = computed(() => datasets.value.find((d) => d.id === currentId.value) ?? null)
  const focused = computed(() => tiles.value[focusIndex.value] ?? null)

  async function refreshDatasets() {
    const list = await track('refreshDatasets', () => api.datasets.list())
    if (list) {
      datasets.value = list
      if (currentId.value === null && list.length) currentId.value = list[0]!.id
    }
  }

  async function select(id: number | null) {
    currentId.value = id
    selection.value = new Set()
    focusIndex.value = 0
    splitReport.value = null
    agreement.value = null
    // Another dataset's import, export or quality result must not stay on screen.
    forgetJobs()
    await reloadCurrent()
  }

  /** Drops the results shown for finished jobs (a running job stays watched). */
  function forgetJobs(...purposes: JobPurpose[]) {
    const next = { ...jobs.value }
    for (const p of purposes.length ? purposes : (Object.keys(next) as JobPurpose[])) if (next[p]?.state !== 'running') delete next[p]
    jobs.value = next
  }

  async function reloadCurrent() {
    await refreshDatasets()
    if (currentId.value === null) return
    await Promise.all([loadTiles(), loadImages(), loadVersions()])
  }

  async function create(name: string, task: 'classification' | 'segmentation' = 'classification') {
    const d = await track('create', () => api.datasets.create({ name, task }))
    if (d) await select(d.id)
    return d
  }

  async function addClass(name: string) {
    const d = current.value
    if (!d) return
    const updated = await track('addClass', () => api.datasets.update({ datasetId: d.id, classes: [...d.classes, name] }))
    if (updated) await refreshDatasets()
  }

  async function loadTiles() {
    if (currentId.value === null) return
    const f = filter.value
    const res = await track('loadTiles', () =>
      api.datasets.tiles({ datasetId: currentId.value!, label: f.label || undefined, split: (f.split || undefined) as 'train' | undefined, disagree: f.disagree || undefined, conflict: f.conflict || undefined })
    )
    if (res) {
      tiles.value = res.tiles
      if (focusIndex.value >= res.tiles.length) focusIndex.value = Math.max(0, res.tiles.length - 1)
      const present = new Set(res.tiles.map((t) => t.id))
      selection.value = new Set([...selection.value].filter((id) => present.has(id)))
    }
  }

  async function loadImages(offset = 0) {
    if (currentId.value === null) return
    const res = await track('loadImages', () => api.datasets.images({ datasetId: currentId.value!, offset, limit: 200 }))
    if (res) {
      images.value = res.images
      imagesTotal.value = res.total
    }
  }

  /** Thumbnails for the tiles on screen; each is fetched once. */
  async function ensureThumbnails(ids: number[]) {
    const missing = ids.filter((id) => !thumbnails.value.has(id))
    for (let i = 0; i < missing.length; i += 400) {
      const got = await track('ensureThumbnails', () => api.datasets.thumbnails(missing.slice(i, i + 400)))
      if (got) for (const t of got) thumbnails.value.set(t.tileId, t.dataUrl)
    }
  }

  function watchJob(purpose: JobPurpose, jobId: string) {
    jobs.value = { ...jobs.value, [purpose]: { id: jobId, kind: purpose, title: '', state: 'running', done: 0, total: 0, message: 'starting…', createdAt: '', finishedAt: null, error: null } }
    // followJob replays events that arrived before the job id did (a fast job may already be done).
    followJob(
      jobId,
      (job) => (jobs.value = { ...jobs.value, [purpose]: job }),
      (job) => {
        if (job.state === 'failed') error.value = job.error?.message ?? 'the job failed'
        if (purpose !== 'export') void reloadCurrent()
      }
    )
  }

  async function importPaths(paths: string[], opts: { wholeTiles?: boolean } = {}) {
    if (currentId.value === null) return
    // A refused import (a missing path) must not leave the previous import's summary on screen.
    forgetJobs('import')
    const started = await track('importPaths', () => api.datasets.importPaths({ datasetId: currentId.value!, paths, wholeTiles: opts.wholeTiles }))
    if (started) watchJob('import', started.jobId)
  }

  async function importFormat(req: Omit<RequestOf<'datasets:import-format'>, 'datasetId'>) {
    if (currentId.value === null) return
    forgetJobs('import')
    const started = await track('importFormat', () => api.datasets.importFormat({ ...req, datasetId: currentId.value! }))
    if (started) watchJob('import', started.jobId)
  }

  async function pickPaths(kind: 'files' | 'folder') {
    return track('pickPaths', () => api.datasets.pickPaths(kind))
  }

  async function gridTiles(size: number, stride: number | undefined, edge: 'drop' | 'pad', imageIds?: number[]) {
    if (currentId.value === null) return
    const started = await track('gridTiles', () => api.datasets.gridTiles({ datasetId: currentId.value!, size, stride, edge, imageIds }))
    if (started) watchJob('tile', started.jobId)
  }

  async function cutTile(imageId: number, cx: number, cy: number, size: number) {
    const t = await track('cutTile', () => api.datasets.cutTile({ imageId, cx, cy, size }))
    if (t) await reloadCurrent()
    return t
  }

  /** Labels the selection (or the focused tile) and updates the tiles in place. */
  async function label(className: string | null, ids?: number[]) {
    const target = ids ?? (selection.value.size ? [...selection.value] : focused.value ? [focused.value.id] : [])
    if (!target.length) return
    const res = await track('label', () => api.datasets.setLabel({ tileIds: target, className }))
    if (!res) return
    const who = annotator.value
    const set = new Set(target)
    const policy = current.value?.labelPolicy ?? 'correction-wins'
    // The same decision main makes (resolveLabel), so the grid shows what the split will use.
    tiles.value = tiles.value.map((t) => {
      if (!set.has(t.id)) return t
      const labels = t.labels.filter((l) => l.annotator !== who)
      if (className) labels.push({ annotator: who, className, origin: 'manual' })
      labels.sort((a, b) => a.annotator.localeCompare(b.annotator))
      const decided = resolveLabel(labels, policy)
      return { ...t, labels, label: decided.label, labelStatus: decided.status, agree: new Set(labels.map((l) => l.className)).size <= 1 }
    })
    void refreshDatasets()
  }

  /** The classes a source holds, with counts, before it is imported. */
  async function importClasses(req: RequestOf<'datasets:import-classes'>) {
    sourceClasses.value = null
    const found = await track('importClasses', () => api.datasets.importClasses(req))
    if (found) sourceClasses.value = found
    return found
  }

  async function loadConflicts() {
    if (currentId.value === null) return
    const res = await track('loadConflicts', () => api.datasets.tiles({ datasetId: currentId.value!, conflict: true }))
    if (res) conflicts.value = res.tiles
  }

  /** Decides conflicting tiles as `className` (the adjudicator is the annotator name). */
  async function adjudicate(tileIds: number[], className: string) {
    const res = await track('adjudicate', () => api.datasets.adjudicate({ tileIds, className }))
    if (res) await Promise.all([loadConflicts(), loadTiles(), refreshDatasets()])
    return res
  }

  async function setLabelPolicy(labelPolicy: LabelPolicy) {
    const d = current.value
    if (!d) return
    const updated = await track('setLabelPolicy', () => api.datasets.update({ datasetId: d.id, labelPolicy }))
    if (updated) await Promise.all([refreshDatasets(), loadTiles(), loadConflicts()])
  }

  /** Focuses a tile by its 1-based position in the list or by (part of) its file name; false when none matches. */
  function jumpTo(query: string): boolean {
    const q = query.trim()
    if (!q) return false
    const index = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) - 1 : -1
    if (index >= 0 && index < tiles.value.length && !q.includes('.')) {
      focusIndex.value = index
      return true
    }
    const needle = q.toLowerCase()
    const exact = tiles.value.findIndex((t) => t.fileName.toLowerCase() === needle)
    const found = exact >= 0 ? exact : tiles.value.findIndex((t) => t.fileName.toLowerCase().includes(needle))
    if (found < 0) return false
    focusIndex.value = found
    return true
  }

  async function setSplit(split: 'train' | 'valid' | 'test' | null) {
    const ids = selection.value.size ? [...selection.value] : focused.value ? [focused.value.id] : []
    if (!ids.length) return null
    const res = await track('setSplit', () => api.datasets.setSplit(ids, split))
    if (res) {
      await loadTiles()
      splitReport.value = { ...(splitReport.value ?? emptyReport()), leaks: res.leaks }
    }
    return res
  }

  async function deleteSelected() {
    const ids = [...selection.value]
    if (!ids.length) return
    if (await track('deleteSelected', () => api.datasets.deleteTiles(ids))) {
      selection.value = new Set()
      await reloadCurrent()
    }
  }

  async function runSplit(req: Omit<RequestOf<'datasets:split'>, 'datasetId'>) {
    if (currentId.value === null) return
    const report = await track('runSplit', () => api.datasets.split({ ...req, datasetId: currentId.value! }))
    if (report) {
      splitReport.value = report
      await Promise.all([loadTiles(), refreshDatasets()])
    }
  }

  async function checkLeaks() {
    if (currentId.value === null) return
    const leaks = await track('checkLeaks', () => api.datasets.leaks(currentId.value!))
    if (leaks) splitReport.value = { ...(splitReport.value ?? emptyReport()), leaks }
  }

  async function loadVersions() {
    if (currentId.value === null) return
    const v = await track('loadVersions', () => api.datasets.versions(currentId.value!))
    if (v) versions.value = v
  }

  async function freeze(note: string) {
    if (currentId.value === null) return null
    const v = await track('freeze', () => api.datasets.freeze(currentId.value!, note))
    if (v) await Promise.all([loadVersions(), refreshDatasets()])
    return v
  }

  async function exportVersion(req: RequestOf<'datasets:export'>) {
    const started = await track('exportVersion', () => api.datasets.exportVersion(req))
    if (started) watchJob('export', started.jobId)
  }

  async function runQuality(maxDistance = 4) {
    if (currentId.value === null) return
    const started = await track('runQuality', () => api.datasets.quality({ datasetId: currentId.value!, maxDistance }))
    if (started) watchJob('quality', started.jobId)
  }

  async function loadStats() {
    if (currentId.value === null) return
    const s = await track('loadStats', () => api.datasets.stats(currentId.value!))
    if (s) stats.value = s
  }

  async function loadAgreement() {
    if (currentId.value === null) return
    const a = await track('loadAgreement', () => api.datasets.agreement(currentId.value!))
    if (a) agreement.value = a
  }

  async function keepAgreed() {
    if (currentId.value === null) return
    const r = await track('keepAgreed', () => api.datasets.keepAgreed(currentId.value!))
    if (r) await Promise.all([reloadCurrent(), loadAgreement()])
    return r
  }

  async function loadSettings() {
    const s = await track('loadSettings', () => api.datasets.settings())
    if (s) annotator.value = s.annotator
  }

  async function saveAnnotator(name: string) {
    const s = await track('saveAnnotator', () => api.datasets.saveSettings({ annotator: name }))
    if (s) annotator.value = s.annotator
  }

  const tileImage = (tileId: number, maxSide?: number) => track('tileImage', () => api.datasets.tileImage(tileId, maxSide))
  const region = (req: RequestOf<'images:region'>) => track('region', () => api.datasets.region(req))
  const annotations = (tileId: number) => track('annotations', () => api.datasets.annotations(tileId))

  async function saveAnnotations(tileId: number, shapes: { className: string; geometry: AnnotationView['geometry'] }[]) {
    const saved = await track('saveAnnotations', () => api.datasets.saveAnnotations({ tileId, shapes }))
    if (saved) {
      tiles.value = tiles.value.map((t) => (t.id === tileId ? { ...t, annotations: saved.length } : t))
      void refreshDatasets()
    }
    return saved
  }

  return {
    datasets, currentId, current, state, calls, error, tiles, filter, selection, focusIndex, focused, thumbnails, images, imagesTotal,
    annotator, versions, splitReport, agreement, stats, jobs, importSummary, quality, exportResult, sourceClasses, conflicts,
    importClasses, loadConflicts, adjudicate, setLabelPolicy, jumpTo,
    refreshDatasets, select, reloadCurrent, create, addClass, loadTiles, loadImages, ensureThumbnails, importPaths, importFormat,
    pickPaths, gridTiles, cutTile, label, setSplit, deleteSelected, runSplit, checkLeaks, loadVersions, freeze, exportVersion,
    runQuality, loadStats, loadAgreement, keepAgreed, loadSettings, saveAnnotator, tileImage, region, annotations, saveAnnotations
  }
})

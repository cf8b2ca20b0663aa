// Fine-tuning runs: the ledger's list, the queue, live metrics (`runs:metrics`) merged with the
// recorded history of the selected run, and the controls (start, pause, cancel, resume, delete).
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, triggerRef } from 'vue'
import type { MemoryCheck, RunConfigInput, RunMetricsEvent, RunRecord, RunSeriesRequest } from '@shared/ipc/schemas/runs'
import { api } from '../api'
import { trackedCalls } from '../composables/trackedCalls'

export interface RunLive {
  /** name -> step -> value (raw; smoothing happens at display). */
  series: Map<string, Map<number, number>>
  imagesPerSecond?: number
  etaSeconds?: number
  step: number
  totalSteps: number
  confusion?: number[][]
  classNames?: string[]
  previews?: RunMetricsEvent['previews']
}

export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunRecord[]>([])
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['refresh', 'select', 'history', 'start', 'estimate', 'delete', 'pause', 'cancel', 'resume', 'annotate', 'series'], error)
  /** The list's state (each action's own is in `calls`). */
  const state = computed(() => calls.refresh.state)
  /** Warnings of the last start (e.g. a skewed class balance), shown next to the Start button. */
  const warnings = ref<string[]>([])
  const selectedId = ref<number | null>(null)
  /** Live data per run id; shallow, re-triggered on every event. */
  const live = shallowRef(new Map<number, RunLive>())

  const selected = computed(() => runs.value.find((r) => r.id === selectedId.value) ?? null)
  // A fresh object per event: the maps inside are mutated in place, so dependents need a new identity to update.
  const selectedLive = computed(() => {
    const l = selectedId.value === null ? undefined : live.value.get(selectedId.value)
    return l ? { ...l } : null
  })
  const queue = computed(() => runs.value.filter((r) => r.status === 'running' || r.status === 'queued' || r.status === 'paused'))

  function liveOf(id: number): RunLive {
    let l = live.value.get(id)
    if (!l) {
      l = { series: new Map(), step: 0, totalSteps: 0 }
      live.value.set(id, l)
    }
    return l
  }

  function record(l: RunLive, step: number, name: string, value: number) {
    let s = l.series.get(name)
    if (!s) l.series.set(name, (s = new Map()))
    s.set(step, value)
  }

  function upsert(run: RunRecord) {
    const i = runs.value.findIndex((r) => r.id === run.id)
    if (i >= 0) runs.value[i] = run
    else runs.value.unshift(run)
  }

  async function refresh() {
    const list = await track('refresh', () => api.runs.list(), 'report')
    if (list) runs.value = list
  }

  /** Loads the recorded history of a run (live points keep arriving on top). */
  async function select(id: number) {
    selectedId.value = id
    const detail = await track('select', () => api.runs.get(id), 'report')
    if (!detail) return
    upsert(detail.run)
    const l = liveOf(id)
    for (const p of detail.metrics) if (!p.name.startsWith('val/confusion/')) record(l, p.step, p.name, p.value)
    l.step = Math.max(l.step, detail.run.step)
    const cfg = detail.run.config as { steps?: number }
    l.totalSteps = l.totalSteps || cfg.steps || 0
    triggerRef(live)
  }

  /** A run's recorded metrics, for comparing runs (the live view keeps its own). */
  async function history(id: number) {
    return track('history', () => api.runs.get(id), 'report')
  }

  /** Saves a run's notes and tags (the error stays with the run page's Save, not the view). */
  async function annotate(id: number, notes: string, tags: string[]) {
    const run = await track('annotate', () => api.runs.annotate({ id, notes, tags }), 'own')
    if (run) upsert(run)
    return run
  }

  /** Several runs' metric series in one call (long ones downsampled), for overlays and groups. */
  async function series(request: RunSeriesRequest) {
    return track('series', () => api.runs.series(request), 'report')
  }

  async function start(config: RunConfigInput) {
    warnings.value = []
    const started = await track('start', () => api.runs.start(config))
    if (!started) return null
    warnings.value = started.warnings ?? []
    await refresh()
    await select(started.runId)
    return started.runId
  }

  /** The engine's memory estimate of a config (null: not known yet, or the engine could not say). */
  async function estimate(config: RunConfigInput): Promise<MemoryCheck | null> {
    return track('estimate', () => api.runs.estimate(config), 'own')
  }

  /** Forgets a deleted run (here, or in another window, web client or the CLI). */
  function forget(id: number) {
    runs.value = runs.value.filter((r) => r.id !== id)
    if (live.value.delete(id)) triggerRef(live)
    if (selectedId.value === id) selectedId.value = null
  }

  /** Deletes a run that is not running or queued: its ledger rows and checkpoints. */
  async function deleteRun(id: number) {
    if ((await track('delete', () => api.runs.delete(id))) === null) {
      await refresh()
      return false
    }
    forget(id)
    return true
  }

  async function control(action: 'pause' | 'cancel' | 'resume', id: number) {
    if ((await track<unknown>(action, () => api.runs[action](id))) !== null) await refresh()
  }

  api.runs.onMetrics((m) => {
    const l = liveOf(m.runId)
    for (const [name, value] of Object.entries(m.metrics)) record(l, m.step, name, value)
    l.step = Math.max(l.step, m.step)
    l.totalSteps = m.totalSteps
    if (m.imagesPerSecond !== undefined) l.imagesPerSecond = m.imagesPerSecond
    if (m.etaSeconds !== undefined) l.etaSeconds = m.etaSeconds
    if (m.confusion) l.confusion = m.confusion
    if (m.classNames) l.classNames = m.classNames
    if (m.previews) l.previews = m.previews
    triggerRef(live)
  })
  api.runs.onStatus(({ run }) => upsert(run))
  api.runs.onDeleted(({ id }) => forget(id))

  return {
    runs,
    state,
    calls,
    error,
    warnings,
    selectedId,
    selected,
    selectedLive,
    queue,
    live,
    refresh,
    select,
    history,
    annotate,
    series,
    start,
    estimate,
    delete: deleteRun,
    pause: (id: number) => control('pause', id),
    cancel: (id: number) => control('cancel', id),
    resume: (id: number) => control('resume', id)
  }
})

// What the workstation runs on, refreshed on demand and whenever the engine changes state.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { EngineSettings, EngineStatus, LogLine, SystemInfo, TfBackendChoice } from '@shared/ipc/schemas/system'
import { api } from '../api'
import { trackedCalls } from '../composables/trackedCalls'

export const useSystemStore = defineStore('system', () => {
  const info = ref<SystemInfo | null>(null)
  const engine = ref<EngineStatus | null>(null)
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['refresh', 'loadSettings', 'setBackend', 'restartEngine'], error)
  /** The system information's state (each action's own is in `calls`). */
  const state = computed(() => calls.refresh.state)
  const logs = ref<LogLine[]>([])
  const settings = ref<EngineSettings | null>(null)

  async function refresh() {
    const got = await track('refresh', () => api.system.info(), 'report')
    if (!got) return
    info.value = got
    engine.value = got.engine
  }

  async function loadSettings() {
    const got = await track('loadSettings', () => api.engine.settings(), 'own')
    if (got) settings.value = got
  }

  /** Saves the backend choice and restarts the engine on it; a failure shows in the engine status. */
  async function setBackend(choice: TfBackendChoice) {
    const got = await track('setBackend', () => api.engine.setBackend(choice), 'own')
    if (got) settings.value = got
    await refresh()
  }

  async function restartEngine() {
    if ((await track('restartEngine', () => api.engine.restart(), 'own')) !== null) await refresh()
  }

  api.engine.onStatus((status) => {
    engine.value = status
    if (status.state === 'ready') void refresh()
  })
  api.system.onLog((line) => {
    logs.value.push(line)
    if (logs.value.length > 500) logs.value.splice(0, logs.value.length - 500)
  })

  return { info, engine, state, calls, error, logs, settings, refresh, loadSettings, setBackend, restartEngine }
})

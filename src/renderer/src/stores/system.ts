// What the workstation runs on, refreshed on demand and whenever the engine changes state.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { EngineSettings, EngineStatus, LogLine, SystemInfo, TfBackendChoice } from '@shared/ipc/schemas/system'
import { api } from '../api'
import type { TaskState } from '../composables/useTask'

export const useSystemStore = defineStore('system', () => {
  const info = ref<SystemInfo | null>(null)
  const engine = ref<EngineStatus | null>(null)
  const state = ref<TaskState>('idle')
  const error = ref<string | null>(null)
  const logs = ref<LogLine[]>([])
  const settings = ref<EngineSettings | null>(null)

  async function refresh() {
    state.value = 'loading'
    try {
      info.value = await api.system.info()
      engine.value = info.value.engine
      state.value = 'done'
    } catch (err) {
      error.value = (err as Error).message
      state.value = 'error'
    }
  }

  async function loadSettings() {
    settings.value = await api.engine.settings()
  }

  /** Saves the backend choice and restarts the engine on it; a failure shows in the engine status. */
  async function setBackend(choice: TfBackendChoice) {
    settings.value = await api.engine.setBackend(choice)
    await refresh()
  }

  async function restartEngine() {
    await api.engine.restart()
    await refresh()
  }

  api.engine.onStatus((status) => {
    engine.value = status
    if (status.state === 'ready') void refresh()
  })
  api.system.onLog((line) => {
    logs.value.push(line)
    if (logs.value.length > 500) logs.value.splice(0, logs.value.length - 500)
  })

  return { info, engine, state, error, logs, settings, refresh, loadSettings, setBackend, restartEngine }
})

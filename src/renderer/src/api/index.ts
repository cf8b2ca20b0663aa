// The renderer's handle on main: the preload's `window.api` in the desktop app, or the
// WebSocket client in web mode. Only stores and composables import this.
import { ref } from 'vue'
import type { MarsApi } from '@shared/ipc/api'
import { connectWebApi, type ConnectionState } from './web-client'

export const connection = ref<ConnectionState>(window.api ? 'open' : 'connecting')
export const mode: 'desktop' | 'web' = window.api ? 'desktop' : 'web'

export const api: MarsApi = window.api ?? connectWebApi((state) => (connection.value = state))

// How the page reaches main, for the status line: the desktop app's IPC is always open; web
// mode's WebSocket can drop and reconnects by itself.
import { readonly } from 'vue'
import { connection, mode } from '../api'

export function useConnection() {
  return { connection: readonly(connection), mode }
}

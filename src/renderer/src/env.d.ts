/// <reference types="vite/client" />
import type { MarsApi } from '@shared/ipc/api'

declare global {
  interface Window {
    /** Set by the Electron preload; in web mode the WebSocket client provides the same object. */
    api?: MarsApi
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

// The preload: exposes the narrow `window.api` (one method per use case) and nothing else.
// No Node API and no raw ipcRenderer ever reach the page.
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { createApi, type Invoke, type Subscribe } from '@shared/ipc/api'
import { RemoteError } from '@shared/ipc/errors'
import type { Envelope } from '@shared/ipc/contract'

const invoke: Invoke = async (channel, request) => {
  const envelope = (await ipcRenderer.invoke(channel, request)) as Envelope<never>
  if (!envelope.ok) throw new RemoteError(envelope.error)
  return envelope.value
}

const subscribe: Subscribe = (event, listener) => {
  const wrapped = (_e: unknown, payload: unknown) => listener(payload as never)
  ipcRenderer.on(event, wrapped)
  return () => ipcRenderer.removeListener(event, wrapped)
}

// The one global. `api.files.pathForFile` gives a dropped file's path (web pages cannot know it).
contextBridge.exposeInMainWorld('api', createApi(invoke, subscribe, { pathForFile: (file) => webUtils.getPathForFile(file) }))

// `window.api`: one method per use case, built over two primitives (invoke and subscribe) so
// the Electron preload and the web-mode WebSocket client expose exactly the same surface.
import type { Channel, EventName, EventPayload, RequestOf, ResponseOf } from './contract'

export type Invoke = <C extends Channel>(channel: C, request: RequestOf<C>) => Promise<ResponseOf<C>>
export type Subscribe = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => () => void

export function createApi(invoke: Invoke, subscribe: Subscribe) {
  return {
    system: {
      info: () => invoke('system:info', {}),
      onLog: (listener: (line: EventPayload<'logs:line'>) => void) => subscribe('logs:line', listener)
    },
    engine: {
      restart: () => invoke('engine:restart', {}),
      onStatus: (listener: (status: EventPayload<'engine:status'>) => void) => subscribe('engine:status', listener)
    },
    models: {
      list: () => invoke('models:list', {}),
      import: (request: RequestOf<'models:import'>) => invoke('models:import', request),
      remove: (id: number) => invoke('models:remove', { id }),
      exportOnnx: (request: RequestOf<'models:export-onnx'>) => invoke('models:export-onnx', request)
    },
    jobs: {
      list: () => invoke('jobs:list', {}),
      cancel: (jobId: string) => invoke('jobs:cancel', { jobId }),
      startDemo: (request: RequestOf<'jobs:start-demo'>) => invoke('jobs:start-demo', request),
      onProgress: (listener: (job: EventPayload<'jobs:progress'>) => void) => subscribe('jobs:progress', listener)
    }
  }
}

export type MarsApi = ReturnType<typeof createApi>

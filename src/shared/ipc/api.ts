// `window.api`: one method per use case, built over two primitives (invoke and subscribe) so
// the Electron preload and the web-mode WebSocket client expose exactly the same surface.
import type { Channel, EventName, EventPayload, RequestOf, ResponseOf } from './contract'

export type Invoke = <C extends Channel>(channel: C, request: RequestOf<C>) => Promise<ResponseOf<C>>
export type Subscribe = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => () => void

/** What only the desktop app can do in the page: a dropped file's path (a web page is never told it). */
export interface DesktopFiles {
  pathForFile(file: File): string
}

// `desktop` is the preload's; web mode passes none, so `api.files.pathForFile` is undefined there
// and the UI asks for a typed path instead.
export function createApi(invoke: Invoke, subscribe: Subscribe, desktop?: DesktopFiles) {
  return {
    files: {
      pathForFile: desktop ? (file: File) => desktop.pathForFile(file) : undefined
    },
    system: {
      info: () => invoke('system:info', {}),
      onLog: (listener: (line: EventPayload<'logs:line'>) => void) => subscribe('logs:line', listener)
    },
    engine: {
      restart: () => invoke('engine:restart', {}),
      settings: () => invoke('engine:settings', {}),
      setBackend: (tfBackend: RequestOf<'engine:set-backend'>['tfBackend']) => invoke('engine:set-backend', { tfBackend }),
      onStatus: (listener: (status: EventPayload<'engine:status'>) => void) => subscribe('engine:status', listener)
    },
    models: {
      list: () => invoke('models:list', {}),
      import: (request: RequestOf<'models:import'>) => invoke('models:import', request),
      remove: (id: number) => invoke('models:remove', { id }),
      exportOnnx: (request: RequestOf<'models:export-onnx'>) => invoke('models:export-onnx', request)
    },
    reconstruction: {
      recipes: () => invoke('reconstruction:recipes', {}),
      saveRecipe: (recipe: RequestOf<'reconstruction:save-recipe'>['recipe']) => invoke('reconstruction:save-recipe', { recipe }),
      deleteRecipe: (name: string) => invoke('reconstruction:delete-recipe', { name }),
      start: (request: RequestOf<'reconstruction:start'>) => invoke('reconstruction:start', request),
      list: () => invoke('reconstruction:list', {}),
      get: (id: number) => invoke('reconstruction:get', { id }),
      galleryTile: (studyId: number, index: number) => invoke('reconstruction:gallery-tile', { studyId, index }),
      remove: (id: number) => invoke('reconstruction:remove', { id })
    },
    runs: {
      start: (config: RequestOf<'runs:start'>['config']) => invoke('runs:start', { config }),
      /** The run's memory estimate on the engine's backend (null: the model is a file not imported yet). */
      estimate: (config: RequestOf<'runs:estimate'>['config']) => invoke('runs:estimate', { config }),
      list: () => invoke('runs:list', {}),
      get: (id: number) => invoke('runs:get', { id }),
      pause: (id: number) => invoke('runs:pause', { id }),
      cancel: (id: number) => invoke('runs:cancel', { id }),
      resume: (id: number) => invoke('runs:resume', { id }),
      delete: (id: number) => invoke('runs:delete', { id }),
      annotate: (request: RequestOf<'runs:annotate'>) => invoke('runs:annotate', request),
      series: (request: RequestOf<'runs:series'>) => invoke('runs:series', request),
      onMetrics: (listener: (m: EventPayload<'runs:metrics'>) => void) => subscribe('runs:metrics', listener),
      onStatus: (listener: (s: EventPayload<'runs:status'>) => void) => subscribe('runs:status', listener),
      onDeleted: (listener: (d: EventPayload<'runs:deleted'>) => void) => subscribe('runs:deleted', listener)
    },
    inference: {
      candidates: () => invoke('inference:candidates', {}),
      start: (request: RequestOf<'inference:start'>) => invoke('inference:start', request),
      list: () => invoke('inference:list', {}),
      get: (id: number) => invoke('inference:get', { id }),
      image: (id: number, index: number, maxSide?: number) => invoke('inference:image', { id, index, ...(maxSide ? { maxSide } : {}) }),
      remove: (id: number) => invoke('inference:remove', { id }),
      heatmap: (request: RequestOf<'inference:heatmap'>) => invoke('inference:heatmap', request)
    },
    sweeps: {
      create: (spec: RequestOf<'sweeps:create'>['spec']) => invoke('sweeps:create', { spec }),
      list: () => invoke('sweeps:list', {}),
      get: (id: number) => invoke('sweeps:get', { id }),
      cancel: (id: number) => invoke('sweeps:cancel', { id }),
      onStatus: (listener: (s: EventPayload<'sweeps:status'>) => void) => subscribe('sweeps:status', listener)
    },
    backbones: {
      start: (request: RequestOf<'backbones:start'>) => invoke('backbones:start', request),
      list: () => invoke('backbones:list', {}),
      get: (id: number) => invoke('backbones:get', { id }),
      neighbours: (request: RequestOf<'backbones:neighbours'>) => invoke('backbones:neighbours', request),
      tileImage: (id: number, index: number, maxSide?: number) => invoke('backbones:tile-image', { id, index, ...(maxSide ? { maxSide } : {}) }),
      remove: (id: number) => invoke('backbones:remove', { id })
    },
    jobs: {
      list: () => invoke('jobs:list', {}),
      cancel: (jobId: string) => invoke('jobs:cancel', { jobId }),
      startDemo: (request: RequestOf<'jobs:start-demo'>) => invoke('jobs:start-demo', request),
      onProgress: (listener: (job: EventPayload<'jobs:progress'>) => void) => subscribe('jobs:progress', listener)
    },
    datasets: {
      list: () => invoke('datasets:list', {}),
      create: (request: RequestOf<'datasets:create'>) => invoke('datasets:create', request),
      update: (request: RequestOf<'datasets:update'>) => invoke('datasets:update', request),
      delete: (datasetId: number) => invoke('datasets:delete', { datasetId }),
      pickPaths: (kind: 'files' | 'folder') => invoke('datasets:pick-paths', { kind }),
      importPaths: (request: RequestOf<'datasets:import'>) => invoke('datasets:import', request),
      importFormat: (request: RequestOf<'datasets:import-format'>) => invoke('datasets:import-format', request),
      importClasses: (request: RequestOf<'datasets:import-classes'>) => invoke('datasets:import-classes', request),
      split: (request: RequestOf<'datasets:split'>) => invoke('datasets:split', request),
      leaks: (datasetId: number) => invoke('datasets:leaks', { datasetId }),
      freeze: (datasetId: number, note = '') => invoke('datasets:freeze', { datasetId, note }),
      versions: (datasetId: number) => invoke('datasets:versions', { datasetId }),
      exportVersion: (request: RequestOf<'datasets:export'>) => invoke('datasets:export', request),
      quality: (request: RequestOf<'datasets:quality'>) => invoke('datasets:quality', request),
      stats: (datasetId: number) => invoke('datasets:stats', { datasetId }),
      settings: () => invoke('datasets:settings-get', {}),
      saveSettings: (request: RequestOf<'datasets:settings-set'>) => invoke('datasets:settings-set', request),
      images: (request: RequestOf<'images:list'>) => invoke('images:list', request),
      region: (request: RequestOf<'images:region'>) => invoke('images:region', request),
      tiles: (request: RequestOf<'tiles:list'>) => invoke('tiles:list', request),
      thumbnails: (tileIds: number[]) => invoke('tiles:thumbnails', { tileIds }),
      tileImage: (tileId: number, maxSide?: number) => invoke('tiles:image', { tileId, maxSide }),
      gridTiles: (request: RequestOf<'tiles:grid'>) => invoke('tiles:grid', request),
      cutTile: (request: RequestOf<'tiles:cut'>) => invoke('tiles:cut', request),
      deleteTiles: (tileIds: number[]) => invoke('tiles:delete', { tileIds }),
      setSplit: (tileIds: number[], split: 'train' | 'valid' | 'test' | null) => invoke('tiles:set-split', { tileIds, split }),
      setLabel: (request: RequestOf<'labels:set'>) => invoke('labels:set', request),
      agreement: (datasetId: number) => invoke('labels:agreement', { datasetId }),
      keepAgreed: (datasetId: number) => invoke('labels:keep-agreed', { datasetId }),
      adjudicate: (request: RequestOf<'labels:adjudicate'>) => invoke('labels:adjudicate', request),
      annotations: (tileId: number) => invoke('annotations:list', { tileId }),
      saveAnnotations: (request: RequestOf<'annotations:save'>) => invoke('annotations:save', request)
    }
  }
}

export type MarsApi = ReturnType<typeof createApi>

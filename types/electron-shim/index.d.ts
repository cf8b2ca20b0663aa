// The slice of Electron's API that MarsFM uses, for type-checking on machines where the optional
// `electron` package (and its binary) could not be installed. Where Electron is installed,
// tsconfig's `paths` resolves its real typings first and this file is not used.
declare namespace Electron {
  interface WebContents {
    send(channel: string, ...args: unknown[]): void
    isDestroyed(): boolean
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void
    on(event: 'will-navigate', listener: (event: { preventDefault(): void }, url: string) => void): this
  }
  interface WebFrameMain {
    url: string
  }
  interface IpcMainInvokeEvent {
    sender: WebContents
    senderFrame: WebFrameMain | null
  }
  interface BrowserWindowOptions {
    width?: number
    height?: number
    minWidth?: number
    minHeight?: number
    title?: string
    show?: boolean
    backgroundColor?: string
    webPreferences?: {
      preload?: string
      contextIsolation?: boolean
      sandbox?: boolean
      nodeIntegration?: boolean
      webSecurity?: boolean
    }
  }
  class BrowserWindow {
    constructor(options: BrowserWindowOptions)
    webContents: WebContents
    loadFile(path: string): Promise<void>
    loadURL(url: string): Promise<void>
    once(event: 'ready-to-show', listener: () => void): this
    show(): void
    static getAllWindows(): BrowserWindow[]
  }
  interface UtilityProcess {
    pid: number | undefined
    stdout: NodeJS.ReadableStream | null
    stderr: NodeJS.ReadableStream | null
    postMessage(message: unknown): void
    on(event: 'message', listener: (message: unknown) => void): this
    on(event: 'exit', listener: (code: number) => void): this
    kill(): boolean
  }
  interface OpenDialogReturnValue {
    canceled: boolean
    filePaths: string[]
  }
}

declare module 'electron' {
  export const app: {
    whenReady(): Promise<void>
    on(event: 'window-all-closed' | 'before-quit' | 'activate', listener: (event: { preventDefault(): void }) => void): void
    quit(): void
    exit(code?: number): void
    getPath(name: 'userData' | 'home'): string
    isPackaged: boolean
  }
  export const BrowserWindow: typeof Electron.BrowserWindow
  export type BrowserWindow = Electron.BrowserWindow
  export const ipcMain: {
    handle(channel: string, listener: (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void
  }
  export const utilityProcess: {
    fork(modulePath: string, args?: string[], options?: { env?: NodeJS.ProcessEnv; stdio?: 'pipe' | 'inherit'; serviceName?: string }): Electron.UtilityProcess
  }
  export const dialog: {
    showOpenDialog(options: { properties?: string[]; filters?: { name: string; extensions: string[] }[] }): Promise<Electron.OpenDialogReturnValue>
  }
  export const shell: { openExternal(url: string): Promise<void> }
  export const contextBridge: { exposeInMainWorld(key: string, api: unknown): void }
  export const ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>
    on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void
    removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void
  }
  export const webUtils: { getPathForFile(file: unknown): string }
}

// The desktop app's main process: one window with an isolated, sandboxed renderer; the engine
// runs in a utilityProcess; services are the same ones web mode and the CLI use.
import { app, BrowserWindow, shell } from 'electron'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createAppContext, type AppContext } from './app/context'
import { registerElectronIpc } from './electron/ipc'
import { utilityLauncher } from './electron/launcher'
import { electronPathPicker } from './electron/path-picker'

const here = dirname(fileURLToPath(import.meta.url))
const rendererIndex = join(here, '..', 'renderer', 'index.html')
const devServer = process.env.ELECTRON_RENDERER_URL

function isTrustedUrl(url: string): boolean {
  if (devServer && url.startsWith(devServer)) return true
  return url.startsWith(pathToFileURL(join(here, '..', 'renderer')).href)
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 640,
    title: 'MarsFM Workstation',
    show: false,
    backgroundColor: '#16181d',
    webPreferences: {
      preload: join(here, '..', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  })
  win.once('ready-to-show', () => win.show())
  // Links open in the user's browser; the app window never navigates away from the app.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault()
  })
  if (devServer) void win.loadURL(devServer)
  else void win.loadFile(rendererIndex)
  return win
}

let ctx: AppContext | null = null

app.whenReady().then(async () => {
  ctx = await createAppContext({ mode: 'desktop', launcher: utilityLauncher, engineEntry: join(here, 'engine.js'), pathPicker: electronPathPicker })
  registerElectronIpc(ctx, isTrustedUrl)
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

let quitting = false
app.on('before-quit', (event) => {
  if (quitting || !ctx) return
  event.preventDefault()
  quitting = true
  void ctx.close().finally(() => app.exit(0))
})

// The only code that touches ipcMain: every contract channel is routed through the shared
// Router, after checking that the call comes from our own page.
import { BrowserWindow, ipcMain } from 'electron'
import { channels } from '@shared/ipc/contract'
import type { AppContext } from '../app/types'

export function registerElectronIpc(ctx: AppContext, isTrustedUrl: (url: string) => boolean): void {
  for (const channel of Object.keys(channels)) {
    ipcMain.handle(channel, async (event, payload) => {
      const url = event.senderFrame?.url ?? ''
      if (!isTrustedUrl(url)) {
        ctx.log.write('warn', 'ipc', `refused ${channel} from untrusted frame ${url}`)
        return { ok: false, error: { name: 'SecurityError', message: 'call refused: sender is not the MarsFM window' } }
      }
      return ctx.router.dispatch(channel, payload)
    })
  }
  ctx.bus.subscribe((event, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.webContents.isDestroyed()) win.webContents.send(event, payload)
    }
  })
}

// The desktop app's path picker: Electron's native open dialog.
import { dialog } from 'electron'
import type { PathPicker } from '../datasets/path-picker'

export const electronPathPicker: PathPicker = {
  async pick(kind) {
    const result = await dialog.showOpenDialog({
      properties: kind === 'folder' ? ['openDirectory'] : ['openFile', 'multiSelections'],
      filters: kind === 'folder' ? [] : [{ name: 'Images', extensions: ['jpg', 'jpeg', 'png', 'tif', 'tiff'] }]
    })
    return result.canceled ? [] : result.filePaths
  }
}

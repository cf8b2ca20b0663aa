// Choosing files to import. The desktop app answers with Electron's open dialog (only the
// Electron main process has one); web mode and the CLI have none, and the UI offers a path
// box instead. The picker only returns paths; reading them is still an explicit import.
import type { AppContext } from '../app/types'

export interface PathPicker {
  pick(kind: 'files' | 'folder'): Promise<string[]>
}

const pickers = new WeakMap<AppContext, PathPicker>()

export function setPathPicker(ctx: AppContext, picker: PathPicker): void {
  pickers.set(ctx, picker)
}

export function pathPickerOf(ctx: AppContext): PathPicker | undefined {
  return pickers.get(ctx)
}

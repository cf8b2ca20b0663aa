// Choosing files to import. The desktop app answers with Electron's open dialog (only the
// Electron main process has one, and passes it to createAppContext); web mode and the CLI have
// none, and the UI offers a path box instead. The picker only returns paths; reading them is
// still an explicit import.

export interface PathPicker {
  pick(kind: 'files' | 'folder'): Promise<string[]>
}

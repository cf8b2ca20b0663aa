// The paths of files dropped on the window. The desktop app knows each file's path
// (`api.files.pathForFile`); a browser never tells, so web mode reads only what a file manager's
// drag carries as text (file:// URLs, absolute paths) and otherwise asks for a typed path.
import { api } from '../api'

/** Whether a dropped file reveals its path (the desktop app). */
export const dropRevealsPaths = api.files.pathForFile !== undefined

/** The paths of dropped files; none in web mode. */
export function pathsOfFiles(files: Iterable<File>): string[] {
  const pathForFile = api.files.pathForFile
  return pathForFile ? [...files].map((f) => pathForFile(f)) : []
}

/** Every path a drop carries: the files' own (desktop), else its file:// URLs and absolute paths. */
export function pathsOfDrop(dt: DataTransfer): string[] {
  if (dropRevealsPaths) return pathsOfFiles(Array.from(dt.files))
  const found: string[] = []
  const uris = dt.getData('text/uri-list') || dt.getData('text/plain')
  for (const line of uris.split(/\r?\n/)) {
    const t = line.trim()
    if (t.startsWith('file://')) found.push(decodeURIComponent(new URL(t).pathname))
    else if (t.startsWith('/')) found.push(t)
  }
  return found
}

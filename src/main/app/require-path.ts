// A path the user named must exist and be of the right kind; when it cannot be read, say why
// (a symbolic link loop, a permission problem), not "not found".
import { statSync } from 'node:fs'
import { describeIoError, ioErrorCode } from '@shared/io-errors'

export function requirePath(path: string, what: string, kind?: 'file' | 'folder'): void {
  let info
  try {
    info = statSync(path)
  } catch (err) {
    if (ioErrorCode(err) === 'ENOENT') throw new Error(`${what} not found: ${path}`)
    throw new Error(`${what}: ${describeIoError(err, 'reading', path)}`)
  }
  if (kind === 'file' && !info.isFile()) throw new Error(`${what} is not a file: ${path}`)
  if (kind === 'folder' && !info.isDirectory()) throw new Error(`${what} not found: ${path} is not a folder`)
}

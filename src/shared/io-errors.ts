// File-system errors in words: what went wrong, while doing what, to which path. A full disk must
// not read as "could not be decoded", nor a symbolic link loop as "not found".

// `at` is " <path>" or "" (when the path is printed beside the reason already).
const WORDS: Record<string, (action: string, at: string) => string> = {
  ENOENT: (_a, at) => (at ? `${at.trim()} does not exist` : 'does not exist'),
  ELOOP: (_a, at) => `symbolic link loop${at ? ` at${at}` : ''}`,
  ENOSPC: (a, at) => `no space left on the device while ${a}${at}`,
  EDQUOT: (a, at) => `disk quota exceeded while ${a}${at}`,
  EFBIG: (a, at) => `file too large for the device while ${a}${at}`,
  EACCES: (a, at) => `permission denied while ${a}${at}`,
  EPERM: (a, at) => `operation not permitted while ${a}${at}`,
  EROFS: (a, at) => `read-only file system while ${a}${at}`,
  EISDIR: (_a, at) => (at ? `${at.trim()} is a folder, not a file` : 'is a folder, not a file'),
  ENOTDIR: (_a, at) => `a part of the path${at} is not a folder`,
  ENAMETOOLONG: () => 'the path is too long',
  EIO: (a, at) => `input/output error while ${a}${at}`,
  EMFILE: (a, at) => `too many open files while ${a}${at}`,
  ENFILE: (a, at) => `too many open files while ${a}${at}`
}

/** The code of a Node file-system error (or SQLite's SQLITE_FULL: a full disk under the ledger). */
export function ioErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Whether the error comes from the file system rather than from the file's content. */
export function isIoError(err: unknown): boolean {
  const code = ioErrorCode(err)
  return !!code && (code in WORDS || code === 'SQLITE_FULL' || code === 'SQLITE_IOERR' || /^E[A-Z]+$/.test(code))
}

function words(err: unknown, action: string, at: string): string {
  const code = ioErrorCode(err)
  if (code === 'SQLITE_FULL') return WORDS.ENOSPC!(action, at)
  if (code && WORDS[code]) return WORDS[code]!(action, at)
  return `${code ?? (err as Error)?.message ?? String(err)} while ${action}${at}`
}

/** "no space left on the device while copying /x/a.png", "symbolic link loop at /x/l", … */
export function describeIoError(err: unknown, action: string, path: string): string {
  return words(err, action, ` ${path}`)
}

/** The same without the path, for lists that print the path beside the reason. */
export function ioReason(err: unknown, action: string): string {
  return words(err, action, '')
}

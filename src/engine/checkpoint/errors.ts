// The one error type every checkpoint reader throws, with a machine-readable code so the UI
// can tell "re-download the file" apart from "this file is hostile" or "wrong model".

export type CheckpointErrorCode =
  | 'truncated'
  | 'corrupt'
  | 'not-a-checkpoint'
  | 'unsupported-format'
  | 'unsupported-byteorder'
  | 'unsafe-global'
  | 'unsupported-opcode'
  | 'unsupported-dtype'
  | 'no-state-dict'
  | 'wrong-shape'
  | 'missing-weights'
  | 'bad-config'
  | 'too-large'
  | 'non-finite'

export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode

  constructor(code: CheckpointErrorCode, message: string) {
    super(message)
    this.name = 'CheckpointError'
    this.code = code
  }
}

export function isCheckpointError(e: unknown, code?: CheckpointErrorCode): e is CheckpointError {
  return e instanceof CheckpointError && (code === undefined || e.code === code)
}

/**
 * Prefixes a reader's error with the file it is about (once), so every message the user sees
 * names the file as well as the tensor or field.
 */
export function withFileName(e: unknown, file: string): unknown {
  if (!(e instanceof Error) || e.message.startsWith(`${file}: `)) return e
  if (e instanceof CheckpointError) {
    const named = new CheckpointError(e.code, `${file}: ${e.message}`)
    named.stack = e.stack
    return named
  }
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new CheckpointError('not-a-checkpoint', `${file}: no such file`)
  if (code === 'EISDIR') return new CheckpointError('not-a-checkpoint', `${file}: is a folder, not a checkpoint file`)
  return e
}

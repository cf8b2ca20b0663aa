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

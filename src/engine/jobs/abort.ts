// One way for a long job to stop at a safe point: the abort's reason if it gave one, else a
// CancelledError (main reports it as a cancel, not a failure).
import { CancelledError } from '@shared/ipc/errors'

export function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError()
}

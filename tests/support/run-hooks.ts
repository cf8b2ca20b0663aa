// RunHooks for tests that drive runTraining in-process: never pauses, and records the log lines and
// every metrics event's metrics (training steps and evaluations, in order).
import type { RunHooks } from '@engine/training/runner'

export function recordingHooks(backend: string): { hooks: RunHooks; logs: string[]; metrics: Record<string, number>[] } {
  const logs: string[] = []
  const metrics: Record<string, number>[] = []
  const hooks: RunHooks = {
    signal: new AbortController().signal,
    shouldPause: () => false,
    emit: (event, payload) => {
      if (event === 'metrics') metrics.push((payload as { metrics: Record<string, number> }).metrics)
    },
    progress: () => {},
    log: (_level, message) => logs.push(message),
    backend,
    device: 'test'
  }
  return { hooks, logs, metrics }
}

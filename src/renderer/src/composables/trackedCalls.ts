// Every call a store makes to main has an explicit state (`idle | loading | done | error`, with the
// message), so a view can show progress and failure of exactly the action it started.
import { reactive, type Ref } from 'vue'

export type CallState = 'idle' | 'loading' | 'done' | 'error'

export interface CallStatus {
  state: CallState
  error: string | null
}

/**
 * How a call uses the store's shared `error` (the one message a view shows above its content):
 * - `replace`: cleared when the call starts, set when it fails (a new action hides an old failure);
 * - `report`: set when it fails, left alone otherwise (background refreshes);
 * - `own`: never touched (the failure lives only in the call's status).
 */
export type ErrorUse = 'replace' | 'report' | 'own'

export function trackedCalls<Name extends string>(names: readonly Name[], sharedError?: Ref<string | null>) {
  const calls = reactive(Object.fromEntries(names.map((n) => [n, { state: 'idle', error: null } as CallStatus]))) as Record<Name, CallStatus>
  // The latest start of each call: an older one that ends later does not overwrite its state.
  const latest = new Map<Name, number>()
  let counter = 0

  /** Runs `fn` as call `name`; its failure becomes state and message, and the result null. */
  async function track<T>(name: Name, fn: () => Promise<T>, use: ErrorUse = 'replace'): Promise<T | null> {
    const call = calls[name]
    const id = ++counter
    latest.set(name, id)
    call.state = 'loading'
    call.error = null
    if (use === 'replace' && sharedError) sharedError.value = null
    try {
      const value = await fn()
      if (latest.get(name) === id) call.state = 'done'
      return value
    } catch (err) {
      const message = (err as Error).message
      if (latest.get(name) === id) {
        call.state = 'error'
        call.error = message
      }
      if (use !== 'own' && sharedError) sharedError.value = message
      return null
    }
  }

  return { calls, track }
}

// A call with an explicit state, so every view can show loading and failure the same way.
import { ref, type Ref } from 'vue'

export type TaskState = 'idle' | 'loading' | 'done' | 'error'

export function useTask<A extends unknown[], T>(fn: (...args: A) => Promise<T>) {
  const state = ref<TaskState>('idle')
  const data = ref<T | null>(null) as Ref<T | null>
  const error = ref<string | null>(null)
  async function run(...args: A): Promise<T | null> {
    state.value = 'loading'
    error.value = null
    try {
      data.value = await fn(...args)
      state.value = 'done'
      return data.value
    } catch (err) {
      error.value = (err as Error).message
      state.value = 'error'
      return null
    }
  }
  return { state, data, error, run }
}

/** Runs `fn`, putting its failure message into `error` instead of throwing (stores use it for calls). */
export async function guarded<T>(error: Ref<string | null>, fn: () => Promise<T>): Promise<T | null> {
  error.value = null
  try {
    return await fn()
  } catch (err) {
    error.value = (err as Error).message
    return null
  }
}

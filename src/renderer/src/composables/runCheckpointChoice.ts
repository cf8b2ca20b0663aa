// The run and checkpoint a form classifies with: the first run when none (or a vanished one) is
// chosen, and that run's best checkpoint (else its first) when the chosen one is not the run's.
// Shared by the Inference and heat-map forms; returns the chosen run.
import { computed, watch, type ComputedRef } from 'vue'
import type { InferenceCandidate } from '@shared/ipc/schemas/inference'

export function useRunCheckpointChoice(
  candidates: () => InferenceCandidate[],
  form: { runId: number | null; checkpointId: number | null }
): ComputedRef<InferenceCandidate | null> {
  const run = computed(() => candidates().find((c) => c.runId === form.runId) ?? null)
  watch(
    candidates,
    (list) => {
      if (form.runId === null || !list.some((c) => c.runId === form.runId)) form.runId = list[0]?.runId ?? null
    },
    { immediate: true }
  )
  watch(
    run,
    (r) => {
      if (!r) form.checkpointId = null
      else if (!r.checkpoints.some((c) => c.id === form.checkpointId)) form.checkpointId = (r.checkpoints.find((c) => c.kind === 'best') ?? r.checkpoints[0])?.id ?? null
    },
    { immediate: true }
  )
  return run
}

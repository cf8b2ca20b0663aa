// Partial fine-tuning's one setting, checked where a run is started (main, before it is recorded)
// and in the engine: how many leading encoder blocks stay frozen (and run in ONNX Runtime).
import type { RunConfig } from '../ipc/schemas/runs'

/** Why `config.freezeBlocks` cannot run on a backbone of `depth` blocks; null when it can. */
export function freezeBlocksProblem(config: Pick<RunConfig, 'task' | 'freezeBackbone' | 'freezeBlocks'>, depth: number): string | null {
  const k = config.freezeBlocks ?? 0
  if (k === 0) return null
  if (config.task !== 'classification') return `freezeBlocks is for classification runs (a ${config.task} run trains every block it reads)`
  if (config.freezeBackbone) return 'freezeBlocks and freezeBackbone go one at a time (freezeBlocks = depth trains the head alone)'
  if (k > depth) return `freezeBlocks ${k} is out of range: this model has ${depth} encoder blocks (0..${depth}; ${depth} trains the head only)`
  return null
}

/** The Training form's words for K of `depth`. */
export function freezeBlocksSummary(k: number, depth: number | null): string {
  if (k <= 0) return 'every block trains'
  if (depth !== null && k >= depth) return 'head only (every block and the final norm frozen)'
  return depth !== null ? `blocks ${k}..${depth - 1}, the final norm and the head train` : `blocks ${k} onwards, the final norm and the head train`
}

// What a model file says about how it was pre-trained. `marsfm pretrain --out` and training
// checkpoints write a JSON sidecar next to the .safetensors (the run's config under `run` or
// `config`); a fine-tune that does not choose a per-tile contrast gets the one the backbone was
// pre-trained with, so the demo model (pre-trained on standardised tiles) is fine-tuned on what it saw.
import { existsSync, readFileSync } from 'node:fs'

export type TileNorm = 'none' | 'standardize'

/** The per-tile contrast the model at `path` was pre-trained with, or null when nothing says. */
export function pretrainedTileNorm(path: string | undefined): TileNorm | null {
  if (!path || !/\.safetensors$/i.test(path)) return null
  const sidecar = path.replace(/\.safetensors$/i, '.json')
  if (!existsSync(sidecar)) return null
  try {
    const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as { run?: { preprocessing?: { tileNorm?: unknown } }; config?: { preprocessing?: { tileNorm?: unknown } } }
    const value = meta.run?.preprocessing?.tileNorm ?? meta.config?.preprocessing?.tileNorm
    return value === 'none' || value === 'standardize' ? value : null
  } catch {
    return null // an unreadable sidecar says nothing; the model file itself is checked when loaded
  }
}

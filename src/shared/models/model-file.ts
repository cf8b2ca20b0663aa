// The JSON the app writes beside a model it exports as safetensors (`marsfm-model/1`: `marsfm
// pretrain --out` / `--export-run`, the engine's `training-export` job). Besides the architecture
// (`config`) it records the model's family and its input statistics in that family's own form, so
// the file re-imports as what it is:
//   Prithvi families: `stats` = { bands, mean, std } on the HLS reflectance scale (as their yaml);
//   the MAE family:   `stats` = { scale: '0-1', mean, std }, one value per input channel (as its JSON).
// Files written before the family was recorded have no `family` and HLS-form `stats` even for an
// MAE model (whose mean / std then live only in `config`); readers fall back to those.
import type { BandStats } from '../bands'
import { isMaeConfig, MAE_FAMILY_ID, type ModelConfig } from './mae'
import { prithviMae } from './prithvi-mae'

export const MODEL_FILE_FORMAT = 'marsfm-model/1'

/** The MAE family's input statistics: per channel, on the 0-1 pixel scale. */
export interface UnitScaleStats {
  scale: '0-1'
  mean: number[]
  std: number[]
}

export type ModelFileStats = BandStats | UnitScaleStats

/** The family id and the statistics, in the family's own form, for a model file's JSON. */
export function modelFileFamily(cfg: ModelConfig, stats: BandStats | undefined): { family: string; stats?: ModelFileStats } {
  if (isMaeConfig(cfg)) return { family: MAE_FAMILY_ID, stats: { scale: '0-1', mean: [...cfg.mean], std: [...cfg.std] } }
  return { family: prithviMae.id, ...(stats ? { stats } : {}) }
}

export function isUnitScaleStats(v: unknown): v is UnitScaleStats {
  return typeof v === 'object' && v !== null && (v as { scale?: unknown }).scale === '0-1'
}

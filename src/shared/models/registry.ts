// The model families the app knows. A new family (Prithvi-EO-2.0, the facebookresearch MAE
// layout) is one module implementing ModelFamily, added to this list.
import type { ModelFamily } from './family'
import { facebookMae, isMaeConfig, type ModelConfig } from './mae'
import { prithviMae } from './prithvi-mae'

export const MODEL_FAMILIES = [prithviMae, facebookMae] as const

export type RegisteredFamily = (typeof MODEL_FAMILIES)[number]

export function modelFamily(id: string): RegisteredFamily {
  const family = MODEL_FAMILIES.find((f) => f.id === id)
  if (!family) throw new Error(`unknown model family "${id}" (known: ${MODEL_FAMILIES.map((f) => f.id).join(', ')})`)
  return family
}

/** The family spec a config belongs to (the MAE layout carries `family: 'mae'`; Prithvi v1 none). */
export function familyOf(cfg: ModelConfig): ModelFamily<ModelConfig> {
  return (isMaeConfig(cfg) ? facebookMae : prithviMae) as ModelFamily<ModelConfig>
}

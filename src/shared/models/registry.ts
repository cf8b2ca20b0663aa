// The model families the app knows. A new family (Prithvi-EO-2.0, the facebookresearch MAE
// layout) is one module implementing ModelFamily, added to this list.
import { prithviMae } from './prithvi-mae'

export const MODEL_FAMILIES = [prithviMae] as const

export type RegisteredFamily = (typeof MODEL_FAMILIES)[number]

export function modelFamily(id: string): RegisteredFamily {
  const family = MODEL_FAMILIES.find((f) => f.id === id)
  if (!family) throw new Error(`unknown model family "${id}" (known: ${MODEL_FAMILIES.map((f) => f.id).join(', ')})`)
  return family
}

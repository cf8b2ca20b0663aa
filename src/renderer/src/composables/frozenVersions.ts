// Every frozen dataset version, labelled for a picker (studies and inference read from them).
import { api } from '../api'

export interface VersionOption {
  id: number
  label: string
}

/** Empty when datasets cannot be listed: a folder source always works instead. */
export async function frozenVersionOptions(): Promise<VersionOption[]> {
  try {
    const out: VersionOption[] = []
    for (const d of await api.datasets.list()) {
      if (!d.versions) continue
      for (const v of await api.datasets.versions(d.id)) out.push({ id: v.id, label: `${d.name} v${v.version} (${v.tiles} tiles)` })
    }
    return out
  } catch {
    return []
  }
}

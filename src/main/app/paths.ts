// Where the workstation keeps its data. One folder for every mode (desktop, web, CLI) so they
// share one ledger; MARSFM_HOME overrides it (tests use temporary folders).
import { homedir } from 'node:os'
import { join } from 'node:path'

export const APP_FOLDER = 'marsfm-workstation'

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.MARSFM_HOME) return env.MARSFM_HOME
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_FOLDER)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_FOLDER)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_FOLDER)
}

/** A reconstruction study's gallery PNGs. */
export function studyDir(dataDir: string, id: number): string {
  return join(dataDir, 'studies', String(id))
}

/** Exported ONNX graphs, named by the weights' hash (reconstruction, inference, embeddings). */
export function onnxCacheDir(dataDir: string): string {
  return join(dataDir, 'onnx-cache')
}

/** Embedding caches, one sub-folder per backbone weights, architecture and preprocessing. */
export function embeddingStoreRoot(dataDir: string): string {
  return join(dataDir, 'embeddings')
}

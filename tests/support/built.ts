// Integration and end-to-end tests run the built bundles (what users run), not the sources.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

export const ROOT = resolve(__dirname, '..', '..')
export const ENGINE_ENTRY = resolve(ROOT, 'out/main/engine.js')
export const WEB_ENTRY = resolve(ROOT, 'out/main/web.js')
export const CLI_ENTRY = resolve(ROOT, 'bin/marsfm.js')
export const RENDERER_DIR = resolve(ROOT, 'out/renderer')
export const SHARED_DATA = resolve(ROOT, '..', 'shared', 'data')

export function requireBuild(): void {
  if (!existsSync(ENGINE_ENTRY) || !existsSync(WEB_ENTRY)) {
    throw new Error('out/ is missing: run `npm run build` (npm test does it for you)')
  }
}

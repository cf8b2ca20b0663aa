#!/usr/bin/env node
// Launcher for the `marsfm` command: runs the CLI bundle that `npm run build` (and `npm ci`, via
// the prepare script) writes to out/main/cli.js.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  process.stderr.write('marsfm: the CLI is not built yet; run `npm run build` in the MarsFM Workstation folder.\n')
  process.exit(1)
}
await import(pathToFileURL(cli).href)

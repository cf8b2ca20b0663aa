// `npm start`: the desktop app where Electron is installed; otherwise one clear line on what to do.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { spawn, spawnSync } from 'node:child_process'

let electron = null
try {
  electron = createRequire(import.meta.url)('electron')
} catch {
  electron = null
}
if (typeof electron !== 'string' || !existsSync(electron)) {
  console.error(
    'MarsFM: Electron is not installed here (its binary could not be downloaded), so the desktop app cannot start. ' +
      'Run `npm run web` for the same workstation in your browser, or `npm install electron` on a machine with internet.'
  )
  process.exit(1)
}
if (!existsSync('out/main/index.js')) {
  const r = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
// The ledger's SQLite addon must match Electron's ABI (see scripts/electron-native.mjs).
const native = spawnSync(process.execPath, ['scripts/electron-native.mjs'], { stdio: 'inherit' })
if (native.status !== 0) process.exit(native.status ?? 1)
const { electronSqliteBinding } = await import('./electron-native.mjs')
const child = spawn(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'preview'], {
  stdio: 'inherit',
  env: { ...process.env, MARSFM_SQLITE_BINDING: electronSqliteBinding() }
})
child.on('exit', (code) => process.exit(code ?? 0))

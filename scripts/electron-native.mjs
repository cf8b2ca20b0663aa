// Electron runs its own Node ABI, so better-sqlite3's binary built for Node cannot load in the
// desktop app. Rather than rebuilding in place (which would break web mode, the CLI and tests),
// this fetches (or compiles) an Electron build of the addon into its own folder; the desktop
// main process points better-sqlite3 at it (MARSFM_SQLITE_BINDING). Needs internet or a toolchain.
import { createRequire } from 'node:module'
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'

const require = createRequire(import.meta.url)
const electronVersion = require('electron/package.json').version
const source = dirname(require.resolve('better-sqlite3/package.json'))
const work = resolve('node_modules', '.marsfm-electron', `better-sqlite3-electron-${electronVersion}`)
const binding = join(work, 'build', 'Release', 'better_sqlite3.node')

export function electronSqliteBinding() {
  return binding
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  if (existsSync(binding)) {
    console.log(`better-sqlite3 for Electron ${electronVersion}: ${binding}`)
    process.exit(0)
  }
  rmSync(work, { recursive: true, force: true })
  mkdirSync(dirname(work), { recursive: true })
  cpSync(source, work, { recursive: true, filter: (p) => !p.includes(`${join('build', 'Release')}`) })
  const args = ['--runtime=electron', `--target=${electronVersion}`, '--arch', process.arch]
  let r = spawnSync(process.execPath, [require.resolve('prebuild-install/bin.js'), ...args], { cwd: work, stdio: 'inherit' })
  if (r.status !== 0 || !existsSync(binding)) {
    console.log('no prebuilt better-sqlite3 for this Electron; compiling with node-gyp')
    r = spawnSync('npx', ['node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'], {
      cwd: work,
      stdio: 'inherit'
    })
  }
  if (!existsSync(binding)) {
    console.error('could not build better-sqlite3 for Electron: the desktop app cannot open its ledger (web mode still works)')
    process.exit(1)
  }
  console.log(`better-sqlite3 for Electron ${electronVersion}: ${binding}`)
}

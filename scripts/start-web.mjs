// `npm run web`: build if needed, then serve the workstation on 127.0.0.1 with a per-launch token.
import { existsSync } from 'node:fs'
import { spawnSync, spawn } from 'node:child_process'

if (!existsSync('out/main/web.js') || process.argv.includes('--build')) {
  const r = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const child = spawn(process.execPath, ['out/main/web.js'], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code) => process.exit(code ?? 0))

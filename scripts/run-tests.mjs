// `npm test`: build what users run, then the unit, integration and end-to-end suites (vitest).
// Integration and e2e tests exercise the built bundles: a real engine child, real SQLite files,
// real ONNX Runtime, and Debian's Chromium driving web mode.
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Dawn's Vulkan loader (the WebGPU tests) wants a private runtime folder; CI shells have none.
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = join(tmpdir(), `marsfm-xdg-${process.getuid?.() ?? 'user'}`)
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 })
}

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: false })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const extra = process.argv.slice(2)
if (!process.env.MARSFM_SKIP_BUILD) run(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'])
run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...extra])

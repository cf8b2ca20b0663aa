// Build for the three halves of the app. The "main" build also emits the engine child,
// the web-mode server and the CLI: they are Node programs that share main's services.
import { resolve } from 'node:path'
import { createRequire } from 'node:module'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

// electron-vite reads the Electron version to pick its output format. Where the optional
// `electron` package could not be installed (no binary download here) we state the version
// we target, so `npm run build` works on machines without Electron.
const require = createRequire(import.meta.url)
try {
  require.resolve('electron/package.json')
} catch {
  process.env.ELECTRON_MAJOR_VER ??= '39'
}

const alias = {
  '@shared': resolve('src/shared'),
  '@engine': resolve('src/engine'),
  '@main': resolve('src/main')
}

export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          engine: resolve('src/engine/child.ts'),
          web: resolve('src/main/web/start.ts'),
          cli: resolve('src/main/cli/marsfm.ts')
        }
      }
    }
  },
  preload: {
    resolve: { alias },
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        // A sandboxed preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve('src/renderer'),
    resolve: { alias: { ...alias, '@renderer': resolve('src/renderer/src') } },
    plugins: [vue()],
    build: {
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } }
    }
  }
})

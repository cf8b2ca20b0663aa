import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

const alias = {
  '@shared': resolve('src/shared'),
  '@engine': resolve('src/engine'),
  '@main': resolve('src/main')
}

// Four suites: unit (pure code, fast), integration (real SQLite files, real engine child,
// real ONNX Runtime), hostile (the bad-input corpus), e2e (web mode driven through Debian's Chromium).
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      { resolve: { alias }, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000 } },
      {
        resolve: { alias },
        test: { name: 'integration', include: ['tests/integration/**/*.test.ts'], environment: 'node', testTimeout: 180_000, hookTimeout: 180_000, poolOptions: { forks: { singleFork: true } } }
      },
      {
        resolve: { alias },
        test: { name: 'hostile', include: ['tests/hostile/**/*.test.ts'], environment: 'node', testTimeout: 180_000, hookTimeout: 180_000, poolOptions: { forks: { singleFork: true } } }
      },
      {
        resolve: { alias },
        test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], environment: 'node', testTimeout: 300_000, hookTimeout: 180_000, poolOptions: { forks: { singleFork: true } } }
      }
    ]
  }
})

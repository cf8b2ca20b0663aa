// src/shared runs in the Node engine and the browser renderer: no platform APIs allowed.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const roots = ['src/shared/imputation', 'src/shared/stats', 'src/shared/models', 'src/shared/random.ts', 'src/shared/bands.ts']
const forbidden = [/from ['"]node:/, /from ['"](fs|path|os|crypto|electron)['"]/, /\bBuffer\b/, /\bprocess\./, /\b(window|document|navigator)\./, /\brequire\(/, /from ['"][^'"]*engine\//]

function files(path: string): string[] {
  return statSync(path).isDirectory() ? readdirSync(path).flatMap((f) => files(join(path, f))) : [path]
}

describe('shared imputation/stats modules', () => {
  it.each(roots.flatMap(files))('%s imports no Node, DOM, Electron or engine code', (file) => {
    const text = readFileSync(file, 'utf8')
    for (const pattern of forbidden) expect(text, `${file} matches ${pattern}`).not.toMatch(pattern)
    expect(text.split('\n')[0]).toMatch(/^\/\/ /)
  })
})

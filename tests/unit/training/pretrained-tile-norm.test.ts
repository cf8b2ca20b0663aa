// A fine-tune that does not choose a per-tile contrast takes the one its backbone was pre-trained
// with, read from the JSON sidecar that `marsfm pretrain --out` and training checkpoints write.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { pretrainedTileNorm } from '@main/models/pretraining'

const dir = mkdtempSync(join(tmpdir(), 'marsfm-tilenorm-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function model(name: string, sidecar?: string): string {
  const path = join(dir, `${name}.safetensors`)
  writeFileSync(path, '')
  if (sidecar !== undefined) writeFileSync(join(dir, `${name}.json`), sidecar)
  return path
}

describe('pretrainedTileNorm', () => {
  it('reads an exported model (run config under `run`) and a training checkpoint (under `config`)', () => {
    expect(pretrainedTileNorm(model('exported', JSON.stringify({ run: { preprocessing: { tileNorm: 'standardize' } } })))).toBe('standardize')
    expect(pretrainedTileNorm(model('checkpoint', JSON.stringify({ config: { preprocessing: { recipe: 'means', tileNorm: 'none' } } })))).toBe('none')
  })

  it('says nothing when there is no sidecar, it is unreadable, or it names no known value', () => {
    expect(pretrainedTileNorm(model('bare'))).toBeNull()
    expect(pretrainedTileNorm(model('broken', '{"run": '))).toBeNull()
    expect(pretrainedTileNorm(model('older', JSON.stringify({ run: { preprocessing: { recipe: 'postnorm-dup' } } })))).toBeNull()
    expect(pretrainedTileNorm(model('odd', JSON.stringify({ run: { preprocessing: { tileNorm: 'histogram' } } })))).toBeNull()
    expect(pretrainedTileNorm(join(dir, 'Prithvi_100M.pt'))).toBeNull()
    expect(pretrainedTileNorm(undefined)).toBeNull()
  })
})

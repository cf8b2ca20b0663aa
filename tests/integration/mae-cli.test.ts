// `marsfm reconstruct --checkpoint <MAE>.pth --config <MAE>.json --methods native` on the
// facebookresearch-MAE fixture (tests/fixtures/mae, written by a PyTorch re-implementation of MOMO's
// models/mae.py): the losses are the official code's, by ONNX Runtime and by TensorFlow.js, the
// study records the family and its preprocessing, the model imports with `marsfm model import`, and
// the encoder-only checkpoint is refused for reconstruction with the reason.
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { CLI_ENTRY, ROOT, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const FIX = resolve(ROOT, 'tests/fixtures/mae')
const expected = JSON.parse(readFileSync(join(FIX, 'tiny_expected.json'), 'utf8')) as { mae: { loss: number; per_tile_loss: number[] } }
const homes: { remove(): void }[] = []
afterAll(() => homes.splice(0).forEach((h) => h.remove()))

function marsfm(args: string[], home?: string) {
  requireBuild()
  let dir = home
  if (!dir) {
    const h = tempHome()
    homes.push(h)
    dir = h.dir
  }
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: dir }, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr, home: dir }
}

const TILES = [join(FIX, 'tile_rgb.png'), join(FIX, 'tile_grey.png')]

describe('marsfm and the facebookresearch MAE family', () => {
  it.each(['ort', 'tfjs'])('reconstruct --methods native gives the official loss per tile (%s)', (backend) => {
    const r = marsfm(['reconstruct', '--checkpoint', join(FIX, 'tiny_mae.pth'), '--config', join(FIX, 'tiny_mae.json'), '--methods', 'native', '--mask-noise', join(FIX, 'noise.json'), '--backend', backend, '--json', '-', '--images', ...TILES])
    expect(r.err).not.toMatch(/error/i)
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as { methods: string[]; images: { methods: Record<string, { model_loss: number }> }[] }
    expect(out.methods).toEqual(['native'])
    const losses = out.images.map((i) => i.methods.native!.model_loss)
    expect(losses).toHaveLength(2)
    losses.forEach((l, i) => expect(Math.abs(l - expected.mae.per_tile_loss[i]!)).toBeLessThanOrEqual(1e-4))
    // The study records the family and the preprocessing it used.
    const db = new Database(join(r.home, 'ledger.sqlite'), { readonly: true })
    try {
      const row = db.prepare('SELECT config_json FROM reconstruction_studies ORDER BY id DESC LIMIT 1').get() as { config_json: string }
      const config = JSON.parse(row.config_json) as { family: string; preprocessing: string }
      expect(config.family).toBe('mae')
      expect(config.preprocessing).toBe('native: 0-1 scale, grey replicated to RGB, mean 0.5006/0.5006/0.5006 std 0.1664/0.1664/0.1664')
    } finally {
      db.close()
    }
  })

  it('native is the default method for an MAE model; the recipes are refused with the reason', () => {
    const r = marsfm(['reconstruct', '--checkpoint', join(FIX, 'tiny_mae.pth'), '--config', join(FIX, 'tiny_mae.json'), '--json', '-', '--images', TILES[0]!])
    expect(r.code).toBe(0)
    expect((JSON.parse(r.out) as { methods: string[] }).methods).toEqual(['native'])
    const bad = marsfm(['reconstruct', '--checkpoint', join(FIX, 'tiny_mae.pth'), '--config', join(FIX, 'tiny_mae.json'), '--methods', 'means', '--images', TILES[0]!])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toContain('its study method is "native"')
  })

  it('imports with marsfm model import; the encoder-only checkpoint refuses reconstruction and says why', () => {
    const imported = marsfm(['model', 'import', join(FIX, 'tiny_mae_encoder.pth'), '--config', join(FIX, 'tiny_mae.json'), '--json'])
    expect(imported.err).toBe('')
    expect(imported.code).toBe(0)
    const record = JSON.parse(imported.out) as { config: { family: string; in_chans: number } }
    expect(record.config).toMatchObject({ family: 'mae', in_chans: 3 })
    const r = marsfm(['reconstruct', '--checkpoint', join(FIX, 'tiny_mae_encoder.pth'), '--config', join(FIX, 'tiny_mae.json'), '--images', TILES[0]!], imported.home)
    expect(r.code).not.toBe(0)
    expect(r.err).toContain("is encoder-only (no decoder weights, like MOMO's merged momo.pth): reconstruction needs the full masked autoencoder")
  })

  it('inspects (family, input, what was assumed) and exports the encoder to ONNX', () => {
    const inspected = marsfm(['model', 'inspect', join(FIX, 'tiny_mae_bare.pth')])
    expect(inspected.code).toBe(0)
    expect(inspected.out).toMatch(/family {8}mae: facebookresearch MAE/)
    expect(inspected.out).toMatch(/input {9}RGB \(grey tiles replicated\) on the 0-1 scale, mean 0\.5006\/0\.5006\/0\.5006/)
    // What was assumed is on the model card (the card's lines replace the notes they repeat).
    expect(inspected.out).toMatch(/assumed +head counts cannot be read from shapes/)
    const out = join(inspected.home, 'encoder.onnx')
    const exported = marsfm(['model', 'export-onnx', join(FIX, 'tiny_mae.pth'), '--config', join(FIX, 'tiny_mae.json'), '--graph', 'encoder', '--out', out], inspected.home)
    expect(exported.code, exported.err).toBe(0)
    expect(exported.out).toMatch(/inputs {2}pixels\[N,3,32,32\]/) // [N, C, H, W], as MOMO/MAE users feed it
    expect(exported.out).toMatch(/outputs features\[N,17,32\]/)
  })
})

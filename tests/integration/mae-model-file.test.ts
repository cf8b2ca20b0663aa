// A facebookresearch-MAE model saved by the app re-imports as what it is: a tiny MAE from the
// fixtures (tests/fixtures/mae) with statistics of its own (not MOMO's, so a fall-back to the
// assumed ones shows), imported, run through `marsfm pretrain` at a negligible learning rate and
// exported with `--out` (safetensors + its marsfm-model/1 JSON), then imported again. Family and
// mean / std come back from the file, the card says so, and reconstruction losses (CLI, ONNX
// Runtime) and encoder embeddings of the exported model equal the original's within 1e-5. A finished
// fine-tuning run exports its kept checkpoint's encoder the same way (`--export-run`), encoder-only,
// and `pretrain --freeze-encoder` gives such a file a decoder while its features stay the same.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertUsable, loadCheckpoint } from '@engine/checkpoint'
import { modelRgb } from '@engine/inference/images'
import { exportPrithviOnnx } from '@engine/onnx/export-prithvi'
import { pixelsShape } from '@engine/onnx/input-layout'
import { createSession, run } from '@engine/onnx/runtime'
import { isMaeConfig } from '@shared/models/mae'
import { maeNativeInput } from '@shared/models/mae-input'
import { CLI_ENTRY, ROOT, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'

const FIX = resolve(ROOT, 'tests/fixtures/mae')
const TOL = 1e-5
const MEAN = [0.45, 0.5, 0.55]
const STD = [0.2, 0.22, 0.24]

const home = tempHome('marsfm-mae-file-')
const tiles = join(home.dir, 'tiles')
const configPath = join(home.dir, 'tiny-own-stats.json')
const out = join(home.dir, 'exported', 'tiny-mae.safetensors')
const TILE_FILES = ['tile_rgb.png', 'tile_grey.png']
const folder = join(home.dir, 'imagefolder')
const encoderOut = join(home.dir, 'exported', 'fine-tuned-encoder.safetensors')

beforeAll(() => {
  requireBuild()
  const config = JSON.parse(readFileSync(join(FIX, 'tiny_mae.json'), 'utf8')) as Record<string, unknown>
  writeFileSync(configPath, JSON.stringify({ ...config, mean: MEAN, std: STD }))
  mkdirSync(tiles)
  mkdirSync(join(home.dir, 'exported'))
  for (const split of ['train', 'valid'])
    for (const [c, f] of TILE_FILES.entries()) {
      mkdirSync(join(folder, split, `${c}_${f.split('.')[0]}`), { recursive: true })
      for (let i = 0; i < 2; i++) copyFileSync(join(FIX, f), join(folder, split, `${c}_${f.split('.')[0]}`, `${i}-${f}`))
    }
  // Enough tiles for a training and a validation share: copies of the two fixture tiles.
  for (let i = 0; i < 4; i++) for (const f of TILE_FILES) copyFileSync(join(FIX, f), join(tiles, `${i}-${f}`))
})
afterAll(() => home.remove())

const marsfm = (args: string[]) => spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home.dir }, encoding: 'utf8', timeout: 170_000 })

interface Record_ {
  id: number
  config: { family?: string; mean?: number[]; std?: number[] }
  card: { config: string; stats: string; inferred: string[]; assumed: string[] } | null
}

function lossesOf(checkpoint: string, extra: string[]): number[] {
  const images = TILE_FILES.map((f) => join(FIX, f))
  const r = marsfm(['reconstruct', '--checkpoint', checkpoint, ...extra, '--mask-noise', join(FIX, 'noise.json'), '--backend', 'ort', '--device', 'cpu', '--json', '-', '--images', ...images])
  expect(r.status, r.stderr).toBe(0)
  const study = JSON.parse(r.stdout) as { methods: string[]; images: { methods: Record<string, { model_loss: number }> }[] }
  expect(study.methods).toEqual(['native'])
  return study.images.map((i) => i.methods.native!.model_loss)
}

async function embeddings(checkpoint: string, opts: { configPath?: string }): Promise<{ features: Float32Array; mean: number[]; std: number[] }> {
  const loaded = await loadCheckpoint(checkpoint, opts)
  assertUsable(loaded)
  const cfg = loaded.config
  if (!isMaeConfig(cfg)) throw new Error(`${checkpoint} did not load as an MAE-family model`)
  const S = cfg.img_size
  const plane = cfg.in_chans * S * S
  const x = new Float32Array(TILE_FILES.length * plane)
  for (const [i, f] of TILE_FILES.entries()) maeNativeInput(await modelRgb({ path: join(FIX, f), name: f, label: null }, S), S, cfg, x, i * plane)
  const session = await createSession(exportPrithviOnnx(cfg, loaded.weights, 'encoder'), { device: 'cpu', intraOpThreads: 1 })
  try {
    const out = await run(session, { pixels: { data: x, shape: pixelsShape(session, TILE_FILES.length, cfg.in_chans, S) } }, ['features'])
    return { features: out.features!.data, mean: cfg.mean, std: cfg.std }
  } finally {
    await session.release()
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('an MAE-family model saved by the app re-imports with its family and statistics', () => {
  let original: Record_

  it('imports the fixture with its own statistics, pre-trains one step and exports it with --out', () => {
    const imported = marsfm(['model', 'import', join(FIX, 'tiny_mae.pth'), '--config', configPath, '--name', 'tiny own stats', '--json'])
    expect(imported.status, imported.stderr).toBe(0)
    original = JSON.parse(imported.stdout) as Record_
    expect(original.config).toMatchObject({ family: 'mae', mean: MEAN, std: STD })

    // lr 1e-12: one AdamW step moves no float32 weight, so the export computes what the original does.
    const r = marsfm(['pretrain', '--data', tiles, '--model', String(original.id), '--steps', '1', '--batch', '2', '--lr', '1e-12', '--weight-decay', '0', '--warmup', '0', '--eval-every', '1', '--log-every', '1', '--name', 'mae round trip', '--out', out])
    expect(r.status, r.stderr).toBe(0)
    const meta = JSON.parse(readFileSync(out.replace(/\.safetensors$/, '.json'), 'utf8')) as Record<string, unknown>
    expect(meta).toMatchObject({ format: 'marsfm-model/1', family: 'mae', config: { family: 'mae', mean: MEAN, std: STD }, stats: { scale: '0-1', mean: MEAN, std: STD } })
  })

  it('re-imports with the family and mean / std from the file, and the card says so', () => {
    const again = marsfm(['model', 'import', out, '--name', 'exported', '--json'])
    expect(again.status, again.stderr).toBe(0)
    const record = JSON.parse(again.stdout) as Record_
    expect(record.id).not.toBe(original.id)
    expect(record.config).toMatchObject({ family: 'mae', mean: MEAN, std: STD, img_size: 32, num_heads: 4, decoder_num_heads: 2 })
    expect(record.card).toMatchObject({ config: 'file', stats: 'file', assumed: [] })
    expect(record.card!.inferred.join('\n')).toContain('tiny-mae.json (written by MarsFM with the model)')
    const shown = marsfm(['model', 'show', String(record.id)])
    expect(shown.status, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(/statistics +native input on the 0-1 scale: mean 0\.45 \/ 0\.5 \/ 0\.55, std 0\.2 \/ 0\.22 \/ 0\.24 \(from its config file\)/)
    expect(shown.stdout).not.toMatch(/assumed/)
    // Named explicitly with --config, the JSON reads the same.
    const named = marsfm(['model', 'inspect', out, '--config', out.replace(/\.safetensors$/, '.json'), '--json'])
    expect(named.status, named.stderr).toBe(0)
    expect((JSON.parse(named.stdout) as Record_).config).toMatchObject({ family: 'mae', mean: MEAN, std: STD })
  })

  it('reconstructs with the same losses as the original (ONNX Runtime)', () => {
    const before = lossesOf(join(FIX, 'tiny_mae.pth'), ['--config', configPath])
    const after = lossesOf(out, [])
    expect(after).toHaveLength(2)
    expect(maxDiff(after, before)).toBeLessThanOrEqual(TOL)
  })

  it('embeds with the same features as the original', async () => {
    const before = await embeddings(join(FIX, 'tiny_mae.pth'), { configPath })
    const after = await embeddings(out, {})
    expect(after.mean).toEqual(MEAN)
    expect(after.std).toEqual(STD)
    expect(after.features.length).toBe(2 * 17 * 32)
    expect(maxDiff(after.features, before.features)).toBeLessThanOrEqual(TOL)
  })

  it('exports a finished fine-tuning run\'s kept encoder (--export-run), encoder-only, with the same features', async () => {
    const runJson = join(home.dir, 'classification.json')
    writeFileSync(
      runJson,
      JSON.stringify({
        task: 'classification',
        name: 'mae fine-tune export',
        model: { id: original.id },
        data: { kind: 'folder', path: folder, layout: 'imagefolder' },
        steps: 1,
        batchSize: 2,
        maskRatio: 0,
        dropout: 0,
        optimizer: { name: 'adamw', lr: 1e-12, weightDecay: 0 },
        schedule: { name: 'constant', warmupSteps: 0 },
        eval: { everySteps: 1, maxImages: 0 }
      })
    )
    const trained = marsfm(['train', '--config', runJson, '--json'])
    expect(trained.status, trained.stderr).toBe(0)
    const runId = (JSON.parse(trained.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as { runId: number }).runId
    const r = marsfm(['pretrain', '--export-run', String(runId), '--out', encoderOut])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/encoder of the best checkpoint at step 1/)
    const meta = JSON.parse(readFileSync(encoderOut.replace(/\.safetensors$/, '.json'), 'utf8')) as Record<string, unknown>
    expect(meta).toMatchObject({ family: 'mae', task: 'classification', stats: { scale: '0-1', mean: MEAN, std: STD } })
    const imported = marsfm(['model', 'import', encoderOut, '--name', 'fine-tuned encoder', '--json'])
    expect(imported.status, imported.stderr).toBe(0)
    const inspected = marsfm(['model', 'inspect', encoderOut, '--json'])
    expect(inspected.status, inspected.stderr).toBe(0)
    expect(JSON.parse(inspected.stdout)).toMatchObject({ hasDecoder: false, config: { family: 'mae' } })
    const before = await embeddings(join(FIX, 'tiny_mae.pth'), { configPath })
    const after = await embeddings(encoderOut, {})
    expect(maxDiff(after.features, before.features)).toBeLessThanOrEqual(TOL)
    // Without a decoder, reconstruction is refused with the reason.
    const rec = marsfm(['reconstruct', '--checkpoint', encoderOut, '--methods', 'native', '--json', '-', '--images', join(FIX, TILE_FILES[0]!)])
    expect(rec.status).not.toBe(0)
    expect(rec.stderr).toMatch(/decoder|encoder-only/)
  })

  it('gives the encoder-only export a decoder (pretrain --freeze-encoder) without changing its features, and it reconstructs', async () => {
    const fitted = join(home.dir, 'exported', 'decoder-fitted.safetensors')
    const r = marsfm(['pretrain', '--data', tiles, '--model', encoderOut, '--freeze-encoder', '--steps', '3', '--batch', '2', '--lr', '1e-3', '--warmup', '0', '--eval-every', '3', '--log-every', '1', '--name', 'decoder fit', '--out', fitted])
    expect(r.status, r.stderr).toBe(0)
    const inspected = marsfm(['model', 'inspect', fitted, '--json'])
    expect(JSON.parse(inspected.stdout)).toMatchObject({ hasDecoder: true, config: { family: 'mae', mean: MEAN, std: STD } })
    // The encoder did not move (the features are the original's); the decoder did (lr 1e-3, 3 steps).
    const before = await embeddings(join(FIX, 'tiny_mae.pth'), { configPath })
    const after = await embeddings(fitted, {})
    expect(maxDiff(after.features, before.features)).toBeLessThanOrEqual(TOL)
    const losses = lossesOf(fitted, [])
    expect(losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true)
    expect(maxDiff(losses, lossesOf(join(FIX, 'tiny_mae.pth'), ['--config', configPath]))).toBeGreaterThan(TOL)
  })

  it('continues a model at another input size only when --img-size says so', () => {
    const resized = join(home.dir, 'exported', 'resized.safetensors')
    const r = marsfm(['pretrain', '--data', tiles, '--model', out, '--img-size', '48', '--steps', '1', '--batch', '2', '--eval-every', '1', '--log-every', '1', '--name', 'resized', '--out', resized])
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(readFileSync(resized.replace(/\.safetensors$/, '.json'), 'utf8'))).toMatchObject({ config: { family: 'mae', img_size: 48, patch_size: 8 } })
  })

  it('refuses to export a run that has not finished, naming its state', () => {
    const r = marsfm(['pretrain', '--export-run', '999', '--out', join(home.dir, 'x.safetensors')])
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/999/)
  })
})

// The Node side of bench/reconstruction.mjs (run through vite-node): writes a Prithvi-100M-sized
// checkpoint with seeded random weights (never committed; kept in the bench's temp folder), cuts
// N real HiRISE tiles, dumps their pixels and masks for the PyTorch side, and times the study.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { prithvi100m } from '@engine/model/config'
import { randomWeights } from '@engine/model/params'
import { writeSafetensors } from '@engine/checkpoint'
import { cutTiles, decodeImage, listImages } from '@engine/reconstruction/images'
import { tileNoise } from '@engine/reconstruction/noise'
import { runStudy } from '@engine/reconstruction/study'
import { parseEngineJobParams } from '@shared/engine/parse'
import { loadTf } from '@engine/tf/backend'

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    tiles: { type: 'string', default: '24' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    backend: { type: 'string', default: 'ort' },
    images: { type: 'string', default: resolve('../shared/data/hirise-rgb') }
  }
})
const out = resolve(values.out ?? 'bench-out')
mkdirSync(out, { recursive: true })
const N = Number(values.tiles)
const cfg = prithvi100m()
const SEED = 0
const METHODS = ['means', 'prenorm-dup', 'postnorm-dup']

const checkpoint = join(out, 'prithvi100m-random.safetensors')
if (!existsSync(checkpoint)) {
  process.stderr.write('writing a Prithvi-100M-sized checkpoint with random weights…\n')
  await writeSafetensors(checkpoint, randomWeights(cfg, 1234, { decoder: true }))
}

// The 512² colour crops, tiled at native resolution into 224² tiles (2 × 2 per crop).
const images = listImages(values.images).filter((p) => /ESP_011472_1225_\d+_0\.jpg$/.test(p))
const tiles: Uint8Array[] = []
const refs: string[] = []
for (const path of images) {
  for (const t of cutTiles(path, await decodeImage(path), cfg.img_size, 'tile')) {
    if (tiles.length < N) {
      tiles.push(t.rgb.data as Uint8Array)
      refs.push(t.ref)
    }
  }
}
if (tiles.length < N) throw new Error(`only ${tiles.length} tiles available`)
const L = (cfg.img_size / cfg.patch_size) ** 2
const noise = new Float32Array(N * L)
for (let i = 0; i < N; i++) noise.set(tileNoise(L, SEED, i), i * L)
writeFileSync(join(out, 'tiles.u8'), Buffer.concat(tiles.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))))
writeFileSync(join(out, 'noise.f32'), Buffer.from(noise.buffer))

const params = {
  checkpoint,
  config: cfg,
  images,
  methods: METHODS,
  maskRatio: 0.5,
  seed: SEED,
  geometry: 'tile' as const,
  maxTiles: N,
  batchSize: Number(values.batch),
  galleryTiles: 0,
  backend: values.backend as 'ort' | 'tfjs',
  threads: Number(values.threads),
  cacheDir: join(out, 'onnx-cache'),
  bootstrapIterations: 1000
}
const tf = values.backend === 'tfjs' ? await loadTf() : undefined
// Warm-up: exports (or loads) the ONNX graph and opens the session; not timed.
const warm = await runStudy(parseEngineJobParams('reconstruction-study', { ...params, maxTiles: 1 }), tf ? { tf } : {})
const result = await runStudy(parseEngineJobParams('reconstruction-study', params), tf ? { tf } : {})
writeFileSync(
  join(out, 'node.json'),
  JSON.stringify({
    tiles: refs,
    backend: result.backend,
    warmupLoadSeconds: warm.timing.loadSeconds,
    loadSeconds: result.timing.loadSeconds,
    seconds: result.timing.seconds,
    tilesPerSecond: result.timing.tilesPerSecond,
    rows: result.rows.map((r) => ({ tile: r.tile, method: r.method, model_loss: r.modelLoss, rgb_loss: r.rgbLoss }))
  })
)

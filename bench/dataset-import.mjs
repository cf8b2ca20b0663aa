// Benchmark: dataset curation speed on the real data, through the built CLI (`npm run build`
// first), against raw sharp decoding of the same files in the same command:
//
//   node bench/dataset-import.mjs [--concurrency 6]
//
// 1. imports the whole HiRISE landmark set (~2,400 227×227 crops: hash, copy, thumbnail, tile
//    statistics, one tile each) and prints files/s and tiles/s;
// 2. tiles a 2000×2000 CTX image at 224 px (64 tiles) and prints tiles/s;
// each against a baseline of plain `sharp(file).raw()` decodes (whole files, or one extract per
// tile) at the same concurrency, and prints the ratio (MarsFM time / raw decode time).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import sharp from 'sharp'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DATA = resolve(ROOT, '..', 'shared', 'data')
const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '6' } } })
const concurrency = Number(values.concurrency)
const landmarks = join(DATA, 'hirise-landmarks-v1', 'map-proj')
const ctxImage = join(DATA, 'ctx-crater-catalogue', 'images', 'MC11E-A.png')
const home = mkdtempSync(join(tmpdir(), 'marsfm-bench-datasets-'))

function marsfm(...args) {
  const started = performance.now()
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'marsfm.js'), 'dataset', ...args, '--json'], { env: { ...process.env, MARSFM_HOME: home }, encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.status !== 0) throw new Error(`marsfm dataset ${args.join(' ')} exited with ${r.status}: ${r.stderr}`)
  return { seconds: (performance.now() - started) / 1000, json: JSON.parse(r.stdout) }
}

async function pool(items, fn) {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}

async function timed(fn) {
  const started = performance.now()
  await fn()
  return (performance.now() - started) / 1000
}

try {
  const files = readdirSync(landmarks).filter((f) => f.endsWith('.jpg')).map((f) => join(landmarks, f))
  const baseImport = await timed(() => pool(files, (f) => sharp(f).raw().toBuffer()))
  const imp = marsfm('import', 'landmarks', landmarks)
  const tilesMade = imp.json.tilesCreated
  console.log(`landmark import: ${imp.json.imported} files (${tilesMade} tiles) in ${imp.seconds.toFixed(2)} s (CLI start-up included)`)
  console.log(`  MarsFM: ${(imp.json.imported / imp.seconds).toFixed(0)} files/s, ${(tilesMade / imp.seconds).toFixed(0)} tiles/s`)
  console.log(`  baseline raw sharp decode of the same files: ${baseImport.toFixed(2)} s (${(files.length / baseImport).toFixed(0)} files/s)`)
  console.log(`  ratio MarsFM / raw decode: ${(imp.seconds / baseImport).toFixed(2)}×`)

  const rects = []
  for (let y = 0; y + 224 <= 2000; y += 224) for (let x = 0; x + 224 <= 2000; x += 224) rects.push({ left: x, top: y, width: 224, height: 224 })
  const baseTile = await timed(() => pool(rects, (r) => sharp(ctxImage).extract(r).raw().toBuffer()))
  marsfm('import', 'ctx', ctxImage)
  const tile = marsfm('tile', 'ctx', '--size', '224')
  console.log(`2000² CTX tile at 224: ${tile.json.tilesCreated} tiles in ${tile.json.seconds.toFixed(2)} s (${(tile.json.tilesCreated / tile.json.seconds).toFixed(0)} tiles/s, thumbnails and hashes included)`)
  console.log(`  baseline raw sharp extract per tile: ${baseTile.toFixed(2)} s (${(rects.length / baseTile).toFixed(0)} tiles/s)`)
  console.log(`  ratio MarsFM / raw extract: ${(tile.json.seconds / baseTile).toFixed(2)}×`)
} finally {
  rmSync(home, { recursive: true, force: true })
}

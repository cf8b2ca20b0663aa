// Writes a crater / no-crater ImageFolder cut from the CTX crater catalogue (../shared/data/
// ctx-crater-catalogue: eight 2000x2000 CTX tiles with consensus crater boxes), for a supervised
// stage before the landmark task (issue #11, item 7: re-making the demo model). CTX is another camera
// and another place than the HiRISE landmark tiles, so nothing of the landmark evaluation leaks in.
//
//   npx vite-node --config vitest.config.ts bench/ctx-crater-crops.ts -- OUT_FOLDER [--size 128] [--seed 0] [--valid-tile H]
//
// Positives: per consensus box of at least 16 px, three squares 1.6-3x the crater's size around it,
// shifted by up to 15 % (a crater framed as in a landmark tile). Negatives: three times as many
// squares of 30-200 px holding no crater centre larger than 12 % of their side. One tile (H by
// default) goes to valid/, the rest to train/. Crops are resized to --size and saved as PNG.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { SHARED_DATA } from '../tests/support/built'
import { streamRandom } from '../src/engine/training/rng'

const argv = process.argv.slice(2)
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback)
const out = argv.find((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1]!.startsWith('--')))
if (!out) throw new Error('usage: ctx-crater-crops.ts OUT_FOLDER [--size 128] [--seed 0] [--valid-tile H]')
const size = Number(opt('--size', '128'))
const seed = Number(opt('--seed', '0'))
const validTile = opt('--valid-tile', 'H')
const root = join(SHARED_DATA, 'ctx-crater-catalogue')

interface Box {
  cx: number
  cy: number
  side: number
}

/** Consensus boxes of one tile (Pascal-VOC XML, every <bndbox>). */
function boxes(xml: string): Box[] {
  const found: Box[] = []
  for (const m of xml.matchAll(/<bndbox>([\s\S]*?)<\/bndbox>/g)) {
    const v = (k: string) => Number(new RegExp(`<${k}>\\s*([\\d.]+)\\s*</${k}>`).exec(m[1]!)?.[1])
    const [x0, y0, x1, y1] = [v('xmin'), v('ymin'), v('xmax'), v('ymax')]
    if (![x0, y0, x1, y1].every(Number.isFinite)) continue
    found.push({ cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side: Math.max(x1 - x0, y1 - y0) })
  }
  return found
}

const counts: Record<string, number> = {}
const images = readdirSync(join(root, 'images'))
for (const file of readdirSync(join(root, 'annotations', 'clustered')).filter((f) => f.endsWith('.xml')).sort()) {
  const stem = file.replace(/\.xml$/, '')
  const tile = stem.split('-').pop()!
  const split = tile === validTile ? 'valid' : 'train'
  const image = images.find((f) => f.startsWith(stem))
  if (!image) throw new Error(`no image for ${file}`)
  const src = sharp(join(root, 'images', image)).greyscale()
  const { data, info } = await src.raw().toBuffer({ resolveWithObject: true })
  const all = boxes(readFileSync(join(root, 'annotations', 'clustered', file), 'utf8'))
  const big = all.filter((b) => b.side >= 16)
  const rng = streamRandom(seed, `ctx-crops ${stem}`)
  const uniform = (a: number, b: number) => a + (b - a) * rng()
  const crops: { label: string; x: number; y: number; side: number }[] = []
  for (const b of big)
    for (let k = 0; k < 3; k++) {
      const side = b.side * uniform(1.6, 3)
      const x = b.cx + uniform(-0.15, 0.15) * side - side / 2
      const y = b.cy + uniform(-0.15, 0.15) * side - side / 2
      if (x >= 0 && y >= 0 && x + side <= info.width && y + side <= info.height) crops.push({ label: '1_crater', x, y, side })
    }
  for (let tries = 0, n = 0; n < 3 * big.length && tries < 20000; tries++) {
    const side = uniform(30, 200)
    const x = uniform(0, info.width - side)
    const y = uniform(0, info.height - side)
    if (all.some((b) => b.cx > x && b.cx < x + side && b.cy > y && b.cy < y + side && b.side > 0.12 * side)) continue
    crops.push({ label: '0_other', x, y, side })
    n++
  }
  for (const [i, c] of crops.entries()) {
    const dir = join(out, split, c.label)
    mkdirSync(dir, { recursive: true })
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } })
      .extract({ left: Math.floor(c.x), top: Math.floor(c.y), width: Math.floor(c.side), height: Math.floor(c.side) })
      .resize(size, size, { kernel: 'linear', fit: 'fill' })
      .png()
      .toFile(join(dir, `${stem}-${String(i).padStart(5, '0')}.png`))
    counts[`${split}/${c.label}`] = (counts[`${split}/${c.label}`] ?? 0) + 1
  }
  console.log(`${stem}: ${big.length} craters >= 16 px of ${all.length}; ${crops.length} crops -> ${split}/`)
}
console.log(JSON.stringify(counts))

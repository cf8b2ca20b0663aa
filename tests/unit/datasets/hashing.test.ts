import { describe, expect, it } from 'vitest'
import { findNearDuplicates, greyThumbnail, hammingDistance, perceptualHash } from '../../../src/shared/datasets/phash'
import { classifyColour } from '../../../src/shared/datasets/colour'
import { canonicalJson, exportNames, hashableContent, type DatasetManifest, type ManifestTile } from '../../../src/shared/datasets/manifest'
import { agreementReport, cohenKappa, consensusLabel } from '../../../src/shared/datasets/agreement'
import { classFromFolder, folderFromClass } from '../../../src/shared/datasets/classes'

function picture(w: number, h: number, f: (x: number, y: number) => number): Uint8Array {
  const out = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = Math.max(0, Math.min(255, Math.round(f(x, y))))
  return out
}

describe('perceptual hash', () => {
  const a = picture(96, 96, (x, y) => 128 + 100 * Math.sin(x / 9) * Math.cos(y / 13))
  const brighter = picture(96, 96, (x, y) => 138 + 100 * Math.sin(x / 9) * Math.cos(y / 13))
  const other = picture(96, 96, (x, y) => (x * 7 + y * 3) % 256)

  it('barely moves for a brightness change and differs for another picture', () => {
    const h = perceptualHash(greyThumbnail(a, 96, 96, 1))
    expect(h).toMatch(/^[0-9a-f]{16}$/)
    expect(hammingDistance(h, perceptualHash(greyThumbnail(brighter, 96, 96, 1)))).toBeLessThanOrEqual(2)
    expect(hammingDistance(h, perceptualHash(greyThumbnail(other, 96, 96, 1)))).toBeGreaterThan(10)
  })

  it('finds near-duplicate pairs and marks those across splits', () => {
    const h1 = perceptualHash(greyThumbnail(a, 96, 96, 1))
    const h2 = perceptualHash(greyThumbnail(brighter, 96, 96, 1))
    const h3 = perceptualHash(greyThumbnail(other, 96, 96, 1))
    const pairs = findNearDuplicates([
      { id: 1, phash: h1, split: 'train' },
      { id: 2, phash: h2, split: 'valid' },
      { id: 3, phash: h3, split: 'train' }
    ])
    expect(pairs).toHaveLength(1)
    expect(pairs[0]).toMatchObject({ a: 1, b: 2, crossSplit: true })
  })
})

describe('colour check', () => {
  const rgb = (n: number, f: (i: number) => [number, number, number]) => {
    const out = new Uint8Array(n * 3)
    for (let i = 0; i < n; i++) out.set(f(i), i * 3)
    return out
  }
  it('flags greyscale stored as RGB, false colour, and passes natural Mars colour', () => {
    expect(classifyColour(rgb(100, (i) => [i, i, i]), 100, 3).colour).toBe('grey-as-rgb')
    expect(classifyColour(rgb(100, (i) => [60 + (i % 20), 40, 35]), 100, 3).colour).toBe('rgb')
    expect(classifyColour(rgb(100, () => [60, 62, 90]), 100, 3).colour).toBe('false-colour')
    expect(classifyColour(rgb(100, () => [73, 66, 46]), 100, 3).colour).toBe('false-colour')
    expect(classifyColour(new Uint8Array(10), 10, 1).colour).toBe('grey')
  })
})

describe('labels and agreement', () => {
  it('takes the majority and spots ties', () => {
    expect(consensusLabel([{ annotator: 'a', className: 'crater' }, { annotator: 'b', className: 'crater' }, { annotator: 'c', className: 'no-crater' }])).toBe('crater')
    expect(consensusLabel([{ annotator: 'a', className: 'crater' }, { annotator: 'b', className: 'no-crater' }])).toBeNull()
  })

  it("computes Cohen's kappa", () => {
    // 20 tiles: 15 agree; marginals 50/50 for both → kappa = (0.75 − 0.5) / 0.5 = 0.5
    const pairs: [string, string][] = [...Array(10)].map((_, i) => (i < 7 ? ['c', 'c'] : ['c', 'n']) as [string, string])
    pairs.push(...[...Array(10)].map((_, i) => (i < 8 ? ['n', 'n'] : ['n', 'c']) as [string, string]))
    expect(cohenKappa(pairs)).toBeCloseTo(0.5, 10)
    const report = agreementReport([[{ annotator: 'a', className: 'c' }, { annotator: 'b', className: 'c' }], [{ annotator: 'a', className: 'c' }, { annotator: 'b', className: 'n' }], [{ annotator: 'a', className: 'n' }]])
    expect(report).toMatchObject({ annotators: ['a', 'b'], multiLabelled: 2, agreed: 1, disagreed: 1 })
  })

  it('maps ImageFolder class folders both ways', () => {
    expect(classFromFolder('NoCrater')).toBe('no-crater')
    expect(classFromFolder('Crater')).toBe('crater')
    expect(folderFromClass('no-crater')).toBe('NoCrater')
    expect(classFromFolder(folderFromClass('dark-dune'))).toBe('dark-dune')
  })
})

describe('version manifests', () => {
  const tile = (id: number, x: number): ManifestTile => ({
    tileId: id,
    image: { sha256: 'ab'.repeat(32), ext: 'jpg', fileName: 'ESP_011472_1225_RED-0001.jpg', width: 1000, height: 1000, channels: 1 },
    x,
    y: 0,
    width: 224,
    height: 224,
    observationId: 'ESP_011472_1225',
    split: 'train',
    label: 'crater',
    labels: [{ annotator: 'a', className: 'crater' }],
    annotations: []
  })
  const manifest = (tiles: ManifestTile[]): DatasetManifest => ({ format: 'marsfm-dataset-manifest/1', dataset: { name: 'x', task: 'classification', classes: ['crater', 'no-crater'] }, tiles })

  it('hashes content, not row ids or order', () => {
    expect(hashableContent(manifest([tile(1, 0), tile(2, 224)]))).toBe(hashableContent(manifest([tile(9, 224), tile(8, 0)])))
    const relabelled = tile(2, 224)
    relabelled.split = 'valid'
    expect(hashableContent(manifest([tile(1, 0), relabelled]))).not.toBe(hashableContent(manifest([tile(1, 0), tile(2, 224)])))
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}')
  })

  it('gives tiles stable, unique export names that keep the observation id', () => {
    const names = exportNames([tile(1, 0), tile(2, 224), { ...tile(3, 0) }])
    expect(names.get(1)).toBe('ESP_011472_1225_RED-0001_x0_y0')
    expect(names.get(3)).toBe('ESP_011472_1225_RED-0001_x0_y0_2')
  })
})

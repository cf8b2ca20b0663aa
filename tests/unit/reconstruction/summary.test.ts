// Study aggregates, paired tests and CSV tables; the patch-layout losses against the shared
// maskedPatchLoss on [C, H, W] planes.
import { describe, expect, it } from 'vitest'
import { summariseStudy, perTile } from '@shared/reconstruction/summary'
import { aggregatesCsv, pairsCsv, resultsCsv } from '@shared/reconstruction/csv'
import type { ResultRow } from '@shared/ipc/schemas/reconstruction'
import { maskedPatchLoss, wilcoxonSignedRank } from '@shared/stats'
import { seededRandom } from '@shared/random'
import { patchifyBatch, sampleLosses, unpatchifySample } from '@engine/reconstruction/patches'

function rows(): ResultRow[] {
  const rng = seededRandom(1)
  const out: ResultRow[] = []
  for (let t = 0; t < 12; t++) {
    for (const seed of [0, 1]) {
      for (const [k, method] of ['means', 'postnorm-dup'].entries()) {
        const base = 0.06 - 0.01 * k + 0.005 * rng()
        out.push({ tile: `t${t}`, method, maskSeed: seed, modelLoss: base * 2, rgbLoss: base, displayMse: 10 + rng(), psnr: 30 + rng(), ssim: 0.8 + 0.1 * rng() })
      }
    }
  }
  return out
}

describe('summariseStudy', () => {
  it('averages masks per tile, then aggregates and tests pairs per tile', () => {
    const r = rows()
    const s = summariseStudy(r, ['means', 'postnorm-dup'], { iterations: 2000, seed: 5 })
    expect(s.tiles).toBe(12)
    expect(s.masksPerTile).toBe(2)
    const a = perTile(r, 'means', 'rgbLoss', [...new Set(r.map((x) => x.tile))])
    const b = perTile(r, 'postnorm-dup', 'rgbLoss', [...new Set(r.map((x) => x.tile))])
    const m = s.methods[0]!.metrics.rgbLoss
    expect(m.n).toBe(12)
    expect(m.mean).toBeCloseTo(a.reduce((x, y) => x + y, 0) / 12, 12)
    expect(m.lower).toBeLessThan(m.mean)
    expect(m.upper).toBeGreaterThan(m.mean)
    const pair = s.pairs.find((p) => p.metric === 'rgbLoss')!
    expect([pair.a, pair.b, pair.n]).toEqual(['means', 'postnorm-dup', 12])
    expect(pair.meanDiff).toBeGreaterThan(0.005)
    expect(pair.pValue).toBeCloseTo(wilcoxonSignedRank(a, b).pValue, 12)
    expect(summariseStudy(r, ['means', 'postnorm-dup'], { iterations: 2000, seed: 5 })).toEqual(s)
  })

  it('writes the three CSV tables with RFC 4180 quoting', () => {
    const r = rows()
    r[0]!.tile = 'a,"b"'
    const s = summariseStudy(r, ['means', 'postnorm-dup'], { iterations: 200 })
    const results = resultsCsv(r).split('\r\n')
    expect(results[0]).toBe('tile,method,mask_seed,model_loss,rgb_loss,display_mse,psnr,ssim')
    expect(results[1]!.startsWith('"a,""b""",means,0,')).toBe(true)
    expect(aggregatesCsv(s).split('\r\n')).toHaveLength(1 + 2 * 5 + 1)
    expect(pairsCsv(s).split('\r\n')[0]).toBe('method_a,method_b,metric,tiles,mean_diff,ci_lower,ci_upper,wilcoxon_w,z,p_value,test')
  })
})

describe('patch layout', () => {
  const layout = { size: 16, patch: 4, channels: 6 }
  const L = 16
  const P = 4 * 4 * 6

  it('patchify and unpatchify are inverse; sampleLosses equals maskedPatchLoss on planes', () => {
    const rng = seededRandom(9)
    const n = 2
    const pixels = Float32Array.from({ length: n * 6 * 256 }, () => rng() * 2 - 1)
    const target = patchifyBatch(pixels, n, layout)
    expect(unpatchifySample(target, 1, layout)).toEqual(pixels.subarray(6 * 256))
    const pred = Float32Array.from({ length: n * L * P }, () => rng())
    const mask = Float32Array.from({ length: n * L }, (_, i) => (i % 3 === 0 ? 1 : 0))
    const got = sampleLosses(pred, target, mask, 1, layout)
    const planeT = pixels.subarray(6 * 256)
    const planeP = unpatchifySample(pred, 1, layout)
    const maskS = mask.subarray(L)
    expect(got.model).toBeCloseTo(maskedPatchLoss(planeT, planeP, maskS, 4, 16, 16), 6)
    expect(got.rgb).toBeCloseTo(maskedPatchLoss(planeT, planeP, maskS, 4, 16, 16, [0, 1, 2]), 6)
  })
})

// Probes on synthetic embeddings whose answer is known: a logistic model's true slope, separable
// blobs, label noise, observation-confounded labels, and principal axes of a known spread.
import { describe, expect, it } from 'vitest'
import { seededNormal, seededRandom } from '@shared/random'
import {
  compareProbes,
  crossValidate,
  embeddingMatrix,
  fitLogistic,
  groupedFolds,
  knnPredict,
  mcnemarExact,
  nearest,
  predictLogistic,
  principalMap,
  probeScores,
  unitRows
} from '@shared/probe'

/** Two Gaussian classes in `dim` dimensions whose means differ by `gap` along the first axis. */
function blobs(n: number, dim: number, gap: number, seed: number, observations = 20) {
  const z = seededNormal(seed)
  const u = seededRandom(seed + 1)
  const labels: number[] = []
  const groups: string[] = []
  const rows = Array.from({ length: n }, (_, i) => {
    const y = u() < 0.3 ? 1 : 0 // imbalanced: 30 % positives
    labels.push(y)
    groups.push(`ESP_${String(i % observations).padStart(6, '0')}_1234`)
    return Array.from({ length: dim }, (_, j) => z() + (j === 0 ? gap * y : 0))
  })
  return { x: embeddingMatrix(rows), labels, groups }
}

describe('grouped folds', () => {
  it('keeps every observation in one fold and balances the fold sizes', () => {
    const groups = Array.from({ length: 300 }, (_, i) => `obs${i % 17}`)
    const { foldOf, k } = groupedFolds(groups, 5, 3)
    expect(k).toBe(5)
    const foldOfGroup = new Map<string, number>()
    groups.forEach((g, i) => {
      if (foldOfGroup.has(g)) expect(foldOf[i]).toBe(foldOfGroup.get(g))
      foldOfGroup.set(g, foldOf[i]!)
    })
    const sizes = [0, 1, 2, 3, 4].map((f) => foldOf.filter((x) => x === f).length)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(18) // at most one group apart
    expect(groupedFolds(groups, 5, 3).foldOf).toEqual(foldOf) // reproducible
    expect(groupedFolds(groups, 5, 4).foldOf).not.toEqual(foldOf)
  })

  it('uses fewer folds than asked when there are fewer observations, and refuses one', () => {
    expect(groupedFolds(['a', 'b', 'a', 'c'], 5, 0).k).toBe(3)
    expect(() => groupedFolds(['a', 'a', 'a'], 5, 0)).toThrow(/at least 2 observations; the tiles come from 1/)
  })
})

describe('logistic probe', () => {
  it('recovers the slope of data drawn from a logistic model', () => {
    const z = seededNormal(11)
    const u = seededRandom(12)
    const xs: number[][] = []
    const ys: number[] = []
    for (let i = 0; i < 20000; i++) {
      const x = 1.5 * z() + 0.3
      xs.push([x])
      ys.push(u() < 1 / (1 + Math.exp(-(2 * x - 0.5))) ? 1 : 0)
    }
    const m = fitLogistic(embeddingMatrix(xs), ys, 2, { l2: 0, classWeight: 'none' })
    expect(m.converged).toBe(true)
    // Softmax weights are identified up to a shift: the slope is the difference of the two columns,
    // in standardised units (× the feature's standard deviation).
    const slope = (m.weights[1]! - m.weights[0]!) / m.scale[0]!
    const intercept = m.weights[3]! - m.weights[2]! - slope * m.mean[0]!
    expect(slope).toBeGreaterThan(1.85)
    expect(slope).toBeLessThan(2.15)
    expect(intercept).toBeGreaterThan(-0.65)
    expect(intercept).toBeLessThan(-0.35)
  })

  it('separates blobs out of fold, and scores label noise at chance', () => {
    const { x, labels, groups } = blobs(400, 16, 4, 5)
    const oof = crossValidate(x, labels, groups, 2, { kind: 'logistic' }, { seed: 1, folds: 5 })
    const s = probeScores(oof.probabilities, labels, groups, 2, 1, { iterations: 300, seed: 2 })
    expect(s.metrics.balancedAccuracy).toBeGreaterThan(0.95)
    expect(s.metrics.auc).toBeGreaterThan(0.98)
    expect(s.intervals.balancedAccuracy.lower).toBeLessThanOrEqual(s.metrics.balancedAccuracy!)
    expect(s.intervals.balancedAccuracy.upper).toBeGreaterThanOrEqual(s.metrics.balancedAccuracy!)
    expect(s.observations).toBe(20)

    const noise = blobs(400, 16, 0, 6)
    const oofNoise = crossValidate(noise.x, noise.labels, noise.groups, 2, { kind: 'logistic' }, { seed: 1 })
    const sn = probeScores(oofNoise.probabilities, noise.labels, noise.groups, 2, 1, { iterations: 300 })
    expect(Math.abs(sn.metrics.balancedAccuracy! - 0.5)).toBeLessThan(0.1)
    expect(sn.intervals.auc!.lower).toBeLessThan(0.5 + 0.02)
  })

  it('balances the classes: the minority class is found, not swamped', () => {
    const { x, labels, groups } = blobs(600, 8, 1.5, 9)
    const run = (classWeight: 'balanced' | 'none') =>
      probeScores(crossValidate(x, labels, groups, 2, { kind: 'logistic', classWeight }, { seed: 0 }).probabilities, labels, groups, 2, 1, { iterations: 50 })
    const balanced = run('balanced')
    const plain = run('none')
    expect(balanced.metrics.recall).toBeGreaterThan(plain.metrics.recall) // positive-class recall
    expect(balanced.metrics.balancedAccuracy).toBeGreaterThanOrEqual(plain.metrics.balancedAccuracy! - 0.01)
  })

  it('refuses labels outside the classes and mismatched rows', () => {
    const x = embeddingMatrix([[1], [2]])
    expect(() => fitLogistic(x, [0, 2], 2)).toThrow(/label 2 of row 1/)
    expect(() => fitLogistic(x, [0], 2)).toThrow(/2 embeddings but 1 labels/)
    expect(() => embeddingMatrix([[1, 2], [3]])).toThrow(/embedding 1 has 1 features/)
    expect(() => embeddingMatrix([[1, NaN]])).toThrow(/non-finite/)
    const m = fitLogistic(x, [0, 1], 2)
    expect(() => predictLogistic(m, embeddingMatrix([[1, 2]]))).toThrow(/fitted on 1 features/)
  })
})

describe('kNN probe and neighbours', () => {
  it('finds the nearest rows by cosine similarity, highest first', () => {
    const m = unitRows(embeddingMatrix([[1, 0], [0, 1], [1, 1], [-1, 0], [2, 0.1]]))
    const nb = nearest(m, [1, 0], 3)
    expect(nb.map((n) => n.index)).toEqual([0, 4, 2])
    expect(nb[0]!.similarity).toBeCloseTo(1, 6)
    expect(nearest(m, [1, 0], 2, 0).map((n) => n.index)).toEqual([4, 2])
  })

  it('votes with balanced weights so a rare class can win', () => {
    // Query sits between 2 rare-class rows and 3 common-class rows (of 10 vs 2 in training).
    const train = unitRows(embeddingMatrix([[1, 0.1], [1, 0.12], [1, -0.1], [1, -0.12], [1, -0.11], ...Array.from({ length: 7 }, () => [-1, 0])]))
    const labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    const q = unitRows(embeddingMatrix([[1, 0]]))
    const uniform = knnPredict(train, labels, q, 2, { k: 5, weighting: 'uniform' })
    const balanced = knnPredict(train, labels, q, 2, { k: 5 })
    expect(uniform[1]).toBeCloseTo(0.4, 9)
    expect(balanced[1]).toBeGreaterThan(0.5)
  })

  it('is not fooled by observation identity: grouped folds score confounded labels at chance', () => {
    // Each observation has its own signature direction and one class for all its tiles, drawn at
    // random: a probe can only "learn" the observation, which grouped folds never reward.
    const z = seededNormal(21)
    const u = seededRandom(22)
    const obsClass = Array.from({ length: 24 }, () => (u() < 0.5 ? 1 : 0))
    const signature = Array.from({ length: 24 }, () => Array.from({ length: 12 }, () => z()))
    const rows: number[][] = []
    const labels: number[] = []
    const groups: string[] = []
    for (let i = 0; i < 480; i++) {
      const o = i % 24
      rows.push(signature[o]!.map((s) => s + 0.1 * z()))
      labels.push(obsClass[o]!)
      groups.push(`obs${o}`)
    }
    const x = embeddingMatrix(rows)
    const oof = crossValidate(x, labels, groups, 2, { kind: 'knn', k: 5 }, { seed: 3 })
    const grouped = probeScores(oof.probabilities, labels, groups, 2, 1, { iterations: 200 })
    expect(grouped.metrics.balancedAccuracy!).toBeLessThan(0.75)
    // The same probe scored with one tile per "observation" (folds that split observations) looks perfect.
    const oofLeaky = crossValidate(x, labels, groups.map((_, i) => `tile${i}`), 2, { kind: 'knn', k: 5 }, { seed: 3 })
    const leaky = probeScores(oofLeaky.probabilities, labels, groups, 2, 1, { iterations: 10 })
    expect(leaky.metrics.balancedAccuracy!).toBeGreaterThan(0.98)
  })
})

describe('paired comparison', () => {
  it('exact McNemar p-values', () => {
    expect(mcnemarExact(0, 0)).toBe(1)
    expect(mcnemarExact(0, 5)).toBeCloseTo(2 / 32, 12)
    expect(mcnemarExact(4, 4)).toBe(1)
    expect(mcnemarExact(1, 9)).toBeCloseTo((2 * 11) / 1024, 12)
    expect(mcnemarExact(500, 560)).toBeGreaterThan(0.05)
    expect(mcnemarExact(400, 600)).toBeLessThan(1e-9)
  })

  it('finds an informative backbone better than a random one, and not the reverse', () => {
    const { x, labels, groups } = blobs(400, 8, 3, 31, 25)
    const z = seededNormal(32)
    const random = embeddingMatrix(Array.from({ length: 400 }, () => Array.from({ length: 8 }, () => z())))
    const good = crossValidate(x, labels, groups, 2, { kind: 'logistic' }, { seed: 7 })
    const bad = crossValidate(random, labels, groups, 2, { kind: 'logistic' }, { seed: 7 })
    const c = compareProbes(good.probabilities, bad.probabilities, labels, groups, 2, 1, { iterations: 400, seed: 1 })
    expect(c.balancedAccuracy.difference).toBeGreaterThan(0.3)
    expect(c.balancedAccuracy.interval.lower).toBeGreaterThan(0)
    expect(c.balancedAccuracy.p).toBeLessThan(0.01)
    expect(c.auc!.difference).toBeGreaterThan(0.3)
    expect(c.mcnemar.onlyA).toBeGreaterThan(c.mcnemar.onlyB)
    const self = compareProbes(good.probabilities, good.probabilities, labels, groups, 2, 1, { iterations: 100 })
    expect(self.balancedAccuracy.difference).toBe(0)
    expect(self.balancedAccuracy.p).toBe(1)
  })
})

describe('principal map', () => {
  it('lays the widest spread on the first axis and reports the variance shares', () => {
    const z = seededNormal(41)
    const a: number[] = []
    const rows = Array.from({ length: 500 }, () => {
      const s = 3 * z()
      const t = z()
      a.push(s)
      // Spread 3 along (1,1,0,0)/√2, 1 along (0,0,1,0), a little noise everywhere.
      return [s / Math.SQRT2 + 0.05 * z(), s / Math.SQRT2 + 0.05 * z(), t + 0.05 * z(), 0.05 * z()]
    })
    const m = principalMap(embeddingMatrix(rows))
    expect(m.explained[0]).toBeGreaterThan(0.85)
    expect(m.explained[1]).toBeGreaterThan(0.07)
    expect(m.explained[0] + m.explained[1]).toBeLessThanOrEqual(1 + 1e-9)
    // The first coordinate is the hidden factor s (up to sign and centring): correlation ≈ ±1.
    const first = Array.from({ length: 500 }, (_, i) => m.coords[i * 2]!)
    const meanOf = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length
    const [ma, mf] = [meanOf(a), meanOf(first)]
    let sab = 0, saa = 0, sff = 0
    for (let i = 0; i < 500; i++) {
      sab += (a[i]! - ma) * (first[i]! - mf)
      saa += (a[i]! - ma) ** 2
      sff += (first[i]! - mf) ** 2
    }
    expect(Math.abs(sab / Math.sqrt(saa * sff))).toBeGreaterThan(0.999)
    const again = principalMap(embeddingMatrix(rows))
    expect(again.coords).toEqual(m.coords)
  })
})

// The standard normal distribution's tails, via a double-precision complementary error function.
//
// erfc(x) for x ≥ 0: below 1 as 1 − erf(x) from the all-positive series
//   erf(x) = 2/√π · e^(−x²) · Σ_n 2^n x^(2n+1) / (1·3·…·(2n+1))
// (no cancellation inside the sum; erfc ≥ 0.157 there, so 1 − erf costs under one digit),
// from 1 upward from the Laplace continued fraction
//   erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
// evaluated by the modified Lentz method (≤ ~200 terms at x = 1, fewer beyond). Checked
// against Python's math.erfc: ≤ 4e-15 relative error on [0, 6] (switching at 3 instead
// would cost 1e-11 relative from cancellation in 1 − erf).

/** Complementary error function erfc(x) = 1 − erf(x). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN
  if (x < 0) return 2 - erfc(-x)
  if (x < 1) return 1 - erfSeries(x)
  return erfcContinuedFraction(x)
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2)
}

/** Two-sided p-value of a standard normal statistic, P(|Z| ≥ |z|). */
export function normalTwoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2)
}

function erfSeries(x: number): number {
  const x2 = x * x
  let term = x
  let sum = x
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1)
    sum += term
    if (term < sum * 1e-17) break
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum
}

function erfcContinuedFraction(x: number): number {
  // f = x + a1/(x + a2/(x + …)) with a_k = k/2.
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let k = 1; k < 2000; k++) {
    const a = k / 2
    d = x + a * d
    d = d === 0 ? tiny : d
    c = x + a / c
    c = c === 0 ? tiny : c
    d = 1 / d
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f
}

// Downsampling a long metric series for a chart: largest-triangle-three-buckets (LTTB, Steinarsson
// 2013). It keeps the first and last points and, per bucket, the point that spans the largest
// triangle with its neighbours, so spikes and the curve's shape survive where averaging or
// every-k-th sampling would flatten or miss them. Pure; the ledger's series call uses it.

export interface Series {
  steps: number[]
  values: number[]
}

/** At most `maxPoints` points of the series (unchanged when it is already that short). */
export function downsampleLttb(series: Series, maxPoints: number): Series {
  const { steps, values } = series
  const n = steps.length
  if (maxPoints < 3) throw new Error(`maxPoints must be at least 3 (got ${maxPoints})`)
  if (n <= maxPoints) return { steps: steps.slice(), values: values.slice() }
  const outSteps = [steps[0]!]
  const outValues = [values[0]!]
  // The n - 2 inner points fall into maxPoints - 2 buckets.
  const every = (n - 2) / (maxPoints - 2)
  let a = 0
  for (let b = 0; b < maxPoints - 2; b++) {
    // The next bucket's mean is the triangle's third corner.
    const nextStart = Math.floor((b + 1) * every) + 1
    const nextEnd = Math.min(Math.floor((b + 2) * every) + 1, n)
    let cx = 0
    let cy = 0
    for (let i = nextStart; i < nextEnd; i++) {
      cx += steps[i]!
      cy += values[i]!
    }
    const count = nextEnd - nextStart
    cx /= count
    cy /= count
    const start = Math.floor(b * every) + 1
    const end = Math.floor((b + 1) * every) + 1
    const ax = steps[a]!
    const ay = values[a]!
    let best = start
    let bestArea = -1
    for (let i = start; i < end; i++) {
      const area = Math.abs((ax - cx) * (values[i]! - ay) - (ax - steps[i]!) * (cy - ay))
      if (area > bestArea) {
        bestArea = area
        best = i
      }
    }
    outSteps.push(steps[best]!)
    outValues.push(values[best]!)
    a = best
  }
  outSteps.push(steps[n - 1]!)
  outValues.push(values[n - 1]!)
  return { steps: outSteps, values: outValues }
}

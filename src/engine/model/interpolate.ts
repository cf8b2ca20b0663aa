// Bicubic resampling of a stack of 2-D grids, as torch.nn.functional.interpolate(mode='bicubic',
// align_corners=True) computes it: Keys' cubic convolution with A = -0.75, source coordinate
// dst * (in - 1) / (out - 1), neighbours outside the grid clamped to the border. Used to resize
// EO-2.0's position tables to another token grid the way TerraTorch does.

/** Keys' cubic convolution parameter PyTorch uses. */
const A = -0.75

// The four weights of the neighbours at offsets -1, 0, 1, 2 for a fractional position t in [0, 1).
function cubicWeights(t: number): [number, number, number, number] {
  const near = (x: number): number => ((A + 2) * x - (A + 3)) * x * x + 1 // |x| <= 1
  const far = (x: number): number => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A // 1 < |x| < 2
  return [far(t + 1), near(t), near(1 - t), far(2 - t)]
}

interface Taps {
  index: Int32Array // [out, 4]: clamped source indices
  weight: Float64Array // [out, 4]
}

function taps(inSize: number, outSize: number): Taps {
  // align_corners: the end points map onto each other; a single output samples the first input.
  const scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0
  const index = new Int32Array(outSize * 4)
  const weight = new Float64Array(outSize * 4)
  for (let o = 0; o < outSize; o++) {
    const real = scale * o
    const base = Math.floor(real)
    const w = cubicWeights(real - base)
    for (let k = 0; k < 4; k++) {
      index[o * 4 + k] = Math.min(Math.max(base - 1 + k, 0), inSize - 1)
      weight[o * 4 + k] = w[k]!
    }
  }
  return { index, weight }
}

/**
 * Resizes `channels` grids of `inH` x `inW` values (row-major, [C, inH, inW]) to `outH` x `outW`
 * ([C, outH, outW], float32).
 */
export function bicubicResize(data: ArrayLike<number>, channels: number, inH: number, inW: number, outH: number, outW: number): Float32Array {
  if (data.length !== channels * inH * inW) throw new Error(`bicubicResize: ${data.length} values do not fill [${channels}, ${inH}, ${inW}]`)
  for (const [name, v] of [['inH', inH], ['inW', inW], ['outH', outH], ['outW', outW]] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`bicubicResize: ${name} must be a positive integer, got ${v}`)
  }
  const ty = taps(inH, outH)
  const tx = taps(inW, outW)
  const out = new Float32Array(channels * outH * outW)
  for (let c = 0; c < channels; c++) {
    const plane = c * inH * inW
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let sum = 0
        for (let ky = 0; ky < 4; ky++) {
          const row = plane + ty.index[oy * 4 + ky]! * inW
          let across = 0
          for (let kx = 0; kx < 4; kx++) across += tx.weight[ox * 4 + kx]! * data[row + tx.index[ox * 4 + kx]!]!
          sum += ty.weight[oy * 4 + ky]! * across
        }
        out[(c * outH + oy) * outW + ox] = sum
      }
    }
  }
  return out
}

// Strided views to dense row-major arrays: transposes, offsets, broadcast, bounds.

import { describe, expect, it } from 'vitest'
import { isContiguous, materialize } from '@engine/checkpoint/strided'

const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i)
const opts = { name: 't', mayAlias: false }

describe('materialize', () => {
  it('copies a transposed matrix into row-major order', () => {
    // storage holds a 2×3 matrix; the view is its 3×2 transpose (stride (1, 3)).
    expect(Array.from(materialize(iota(6), 0, [3, 2], [1, 3], opts))).toEqual([0, 3, 1, 4, 2, 5])
  })

  it('honours storage offsets, steps and broadcast (stride 0)', () => {
    expect(Array.from(materialize(iota(10), 3, [4], [1], opts))).toEqual([3, 4, 5, 6])
    expect(Array.from(materialize(iota(10), 1, [3], [3], opts))).toEqual([1, 4, 7])
    expect(Array.from(materialize(iota(4), 2, [2, 2], [0, 1], opts))).toEqual([2, 3, 2, 3])
    expect(Array.from(materialize(iota(4), 3, [], [], opts))).toEqual([3])
  })

  it('walks a permuted 4-D view', () => {
    // base [2,3,4] row-major, viewed as permute(2,0,1) → shape [4,2,3], stride [1,12,4].
    const out = materialize(iota(24), 0, [4, 2, 3], [1, 12, 4], opts)
    const want: number[] = []
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(i * 12 + j * 4 + k)
    expect(Array.from(out)).toEqual(want)
    expect(Array.from(materialize(iota(24), 0, [1, 4, 2, 3], [99, 1, 12, 4], opts))).toEqual(want)
  })

  it('aliases the storage only when allowed and the view is all of it', () => {
    const s = iota(6)
    expect(materialize(s, 0, [2, 3], [3, 1], { name: 't', mayAlias: true })).toBe(s)
    expect(materialize(s, 0, [2, 3], [3, 1], opts)).not.toBe(s)
    expect(materialize(s, 0, [1, 1, 6], [6, 6, 1], { name: 't', mayAlias: true })).toBe(s)
  })

  it('refuses a view that reaches past its storage', () => {
    expect(() => materialize(iota(6), 1, [2, 3], [3, 1], opts)).toThrow(/reaches element 6 of a storage with 6 elements/)
  })

  it('treats size-1 dims as contiguous whatever their stride', () => {
    expect(isContiguous([1, 1, 32], [1, 1, 1])).toBe(true)
    expect(isContiguous([32, 32], [1, 32])).toBe(false)
    expect(materialize(iota(3), 0, [0, 3], [3, 1], opts).length).toBe(0)
  })
})

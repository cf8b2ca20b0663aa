// Class mappings at import and how a tile's label is decided when annotators differ.
import { describe, expect, it } from 'vitest'
import { appliedMapping, describeMapping, mapClass, mappedClasses, parseMapJson } from '@shared/datasets/class-mapping'
import { resolveLabel, type OriginLabel } from '@shared/datasets/agreement'

const found = [
  { name: 'other', count: 10 },
  { name: 'crater', count: 3 },
  { name: 'dark-dune', count: 2 },
  { name: 'edge', count: 5 }
]

describe('class mapping', () => {
  it('keeps, merges into crater vs rest, remaps and drops', () => {
    expect(found.map((c) => mapClass({ mode: 'keep' }, c.name))).toEqual(['other', 'crater', 'dark-dune', 'edge'])
    expect(found.map((c) => mapClass({ mode: 'crater-vs-rest', drop: ['edge'] }, c.name))).toEqual(['no-crater', 'crater', 'no-crater', null])
    expect(mapClass({ mode: 'crater-vs-rest' }, 'no-crater')).toBe('no-crater') // a negated crater is the rest
    expect(found.map((c) => mapClass({ mode: 'custom', map: { 'dark-dune': 'dune', edge: null } }, c.name))).toEqual(['other', 'crater', 'dune', null])
    expect(mappedClasses({ mode: 'crater-vs-rest', drop: ['edge'] }, found)).toEqual([
      { name: 'no-crater', count: 12 },
      { name: 'crater', count: 3 }
    ])
  })

  it('records every source class with its target and count', () => {
    const m = appliedMapping({ mode: 'crater-vs-rest', drop: ['edge'] }, found, 'landmarks', '/l.txt', 't')
    expect(m).toEqual({ format: 'landmarks', source: '/l.txt', mode: 'crater-vs-rest', drop: ['edge'], map: { other: 'no-crater', crater: 'crater', 'dark-dune': 'no-crater', edge: null }, counts: { other: 10, crater: 3, 'dark-dune': 2, edge: 5 }, at: 't' })
    expect(describeMapping(m)).toBe('crater-vs-rest: other → no-crater, crater, dark-dune → no-crater; dropped edge')
  })

  it('reads a map file and names what is wrong with a bad one', () => {
    const ok = (s: string) => /^[a-z0-9]+(-[a-z0-9]+)*$/.test(s)
    expect(parseMapJson('{"dark-dune": "dune", "edge": null}', ok)).toEqual({ map: { 'dark-dune': 'dune', edge: null } })
    expect(parseMapJson('[1]', ok)).toMatchObject({ problem: /JSON object/ })
    expect(parseMapJson('{"b": "x", "a": 3}', ok)).toMatchObject({ problem: /entry 2: the target must be a class name or null/ })
    expect(parseMapJson('{"a": "Big One"}', ok)).toMatchObject({ problem: /not a usable class name/ })
    expect(parseMapJson('{', ok)).toMatchObject({ problem: /not JSON/ })
  })
})

describe('deciding a label', () => {
  const imported: OriginLabel = { annotator: 'landmarks', className: 'no-crater', origin: 'import' }
  const alice: OriginLabel = { annotator: 'alice', className: 'crater', origin: 'manual' }
  const bob: OriginLabel = { annotator: 'bob', className: 'no-crater', origin: 'manual' }
  const lead: OriginLabel = { annotator: 'lead', className: 'no-crater', origin: 'adjudication' }

  it('a correction of an imported label wins under correction-wins, never a silent tie', () => {
    expect(resolveLabel([], 'correction-wins')).toEqual({ label: null, status: 'unlabelled' })
    expect(resolveLabel([imported], 'correction-wins')).toEqual({ label: 'no-crater', status: 'agreed' })
    expect(resolveLabel([alice, imported], 'correction-wins')).toEqual({ label: 'crater', status: 'corrected' })
    // Two people who disagree about an imported label: a conflict, listed for adjudication.
    expect(resolveLabel([alice, bob, imported], 'correction-wins')).toEqual({ label: null, status: 'conflict' })
  })

  it('goes to adjudication under adjudicate; an adjudication decides', () => {
    expect(resolveLabel([alice, imported], 'adjudicate')).toEqual({ label: null, status: 'conflict' })
    expect(resolveLabel([alice, bob, imported], 'adjudicate')).toEqual({ label: 'no-crater', status: 'majority' })
    expect(resolveLabel([alice, imported, lead], 'adjudicate')).toEqual({ label: 'no-crater', status: 'adjudicated' })
    expect(resolveLabel([alice, imported, lead], 'correction-wins')).toEqual({ label: 'no-crater', status: 'adjudicated' })
  })
})

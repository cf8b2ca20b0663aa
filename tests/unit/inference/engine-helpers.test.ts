// The inference engine's pure helpers: logits to probabilities (sigmoid for a binary run's one
// logit, softmax otherwise), class-name matching, and how a folder is listed (ImageFolder → labels).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { probabilitiesFromLogits, classifierWeights } from '@engine/inference/runners'
import { classIndex, listFolder } from '@engine/inference/images'

describe('probabilitiesFromLogits', () => {
  it('binary: [1 − σ(z), σ(z)] per image', () => {
    const p = probabilitiesFromLogits(Float32Array.from([0, 2, -30]), 3, 2)
    expect(p[0]).toEqual([0.5, 0.5])
    expect(p[1]![1]).toBeCloseTo(1 / (1 + Math.exp(-2)), 7)
    expect(p[2]![0]! + p[2]![1]!).toBeCloseTo(1, 12)
    expect(p[2]![1]).toBeGreaterThan(0)
  })

  it('more classes: a numerically stable softmax per row', () => {
    const p = probabilitiesFromLogits(Float32Array.from([1, 2, 3, 1000, 1000, 0]), 2, 3)
    const e = [Math.exp(-2), Math.exp(-1), 1]
    const s = e[0]! + e[1]! + e[2]!
    p[0]!.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / s, 7))
    expect(p[1]![0]).toBeCloseTo(0.5, 7)
    expect(p[1]![2]).toBeCloseTo(0, 7)
  })
})

describe('classifierWeights', () => {
  it('renames the head for the ONNX exporter and refuses a checkpoint without one', () => {
    const w = { shape: [1, 4], data: new Float32Array(4) }
    const b = { shape: [1], data: new Float32Array(1) }
    const out = classifierWeights(new Map([['cls_token', w]]), new Map([['head.weight', w], ['head.bias', b]]))
    expect([...out.keys()]).toEqual(['cls_token', 'classifier.weight', 'classifier.bias'])
    expect(() => classifierWeights(new Map(), new Map())).toThrow(/no classification head/)
  })
})

describe('listing images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'marsfm-infer-list-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('matches class names exactly or by canonical name', () => {
    expect(classIndex(['NoCrater', 'Crater'], 'crater')).toBe(1)
    expect(classIndex(['0_other', '1_crater'], '1-crater')).toBe(1)
    expect(classIndex(['0_other', '1_crater'], 'crater')).toBe(-1)
  })

  it('labels images in class folders, keeps loose images unlabelled, ignores other folders', () => {
    for (const d of ['Crater', 'NoCrater', 'misc']) mkdirSync(join(dir, d))
    for (const f of ['Crater/b.jpg', 'Crater/a.png', 'NoCrater/c.jpg', 'misc/d.jpg', 'e.jpg', 'notes.txt']) writeFileSync(join(dir, f), '')
    const items = listFolder(dir, ['no-crater', 'crater'])
    expect(items.map((i) => [i.name, i.label])).toEqual([
      ['Crater/a.png', 'Crater'],
      ['Crater/b.jpg', 'Crater'],
      ['NoCrater/c.jpg', 'NoCrater'],
      ['e.jpg', null]
    ])
  })

  it('says what it expected in a folder without images', () => {
    const empty = join(dir, 'misc', 'empty')
    mkdirSync(empty)
    expect(() => listFolder(empty, ['other', 'crater'])).toThrow(/no images .*class folders named as the run's classes \(other, crater\)/)
    expect(() => listFolder(join(dir, 'nope'), ['a', 'b'])).toThrow(/folder not found/)
  })
})

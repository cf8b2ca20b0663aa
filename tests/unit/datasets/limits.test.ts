// Hostile sizes in the pure dataset code: user-sized point lists and XML that would overflow the
// stack, character references past Unicode. Each must give a result or a specific error.
import { describe, expect, it } from 'vitest'
import { boundingBox, clipGeometry, type Point } from '../../../src/shared/datasets/geometry'
import { rasteriseMask, maskPixelCount } from '../../../src/shared/datasets/rasterise'
import { parseXml, XmlError } from '../../../src/shared/datasets/formats/xml'
import { parseVoc } from '../../../src/shared/datasets/formats/voc'
import { FormatError } from '../../../src/shared/datasets/formats/format-error'
import { describeIoError, ioReason } from '../../../src/shared/io-errors'

/** A closed ring of n points around (cx, cy). */
function ring(n: number, cx: number, cy: number, r: number): Point[] {
  return Array.from({ length: n }, (_, i) => [cx + r * Math.cos((2 * Math.PI * i) / n), cy + r * Math.sin((2 * Math.PI * i) / n)] as Point)
}

describe('geometry on 200,000 points', () => {
  const points = ring(200_000, 50, 40, 20)
  it('gives the bounding box without spreading the list onto the stack', () => {
    const b = boundingBox({ kind: 'polygon', points })
    expect(b.x).toBeCloseTo(30, 6)
    expect(b.y).toBeCloseTo(20, 6)
    expect(b.w).toBeCloseTo(40, 6)
    expect(b.h).toBeCloseTo(40, 6)
  })
  it('rasterises and clips it', () => {
    const mask = rasteriseMask([{ kind: 'polygon', points }], 100, 80)
    // π r² ≈ 1256.6 pixels, sampled at pixel centres.
    expect(Math.abs(maskPixelCount(mask) - Math.PI * 400)).toBeLessThan(40)
    expect(clipGeometry({ kind: 'polygon', points }, 100, 80)).not.toBeNull()
  })
})

describe('XML reader limits', () => {
  it('refuses a character reference past U+10FFFF as bad XML, not a RangeError', () => {
    expect(() => parseXml('<a>&#x110000;</a>')).toThrow(XmlError)
    expect(() => parseXml('<a>&#x110000;</a>')).toThrow(/a character reference is not a valid XML character at line 1/)
    expect(() => parseXml('<a k="&#0;"/>')).toThrow(XmlError)
    expect(() => parseXml('<a>&#xD800;</a>')).toThrow(XmlError)
    expect(parseXml('<a>&#x10FFFF;&#65;</a>').text).toBe('\u{10FFFF}A')
  })
  it('reads 200,000 nested elements without overflowing the stack: a depth error', () => {
    const deep = `${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}`
    expect(() => parseXml(deep)).toThrow(/nested deeper than 256 levels/)
    expect(() => parseVoc(`<annotation>${deep}</annotation>`, 'deep.xml')).toThrow(FormatError)
    // 200 levels is fine, and comes back whole.
    let el = parseXml(`${'<a>'.repeat(200)}x${'</a>'.repeat(200)}`)
    let depth = 1
    while (el.children.length) {
      el = el.children[0]!
      depth++
    }
    expect([depth, el.text]).toEqual([200, 'x'])
  })
  it('still reports unclosed and mismatched elements where they are, without echoing their names', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/a closing tag does not match its opening tag at line 1/)
    expect(() => parseXml('<a><b>')).toThrow(/an element is not closed/)
  })
})

describe('file-system errors in words', () => {
  const e = (code: string) => Object.assign(new Error(code), { code })
  it('names a full disk, a link loop and a missing file as what they are', () => {
    expect(describeIoError(e('ENOSPC'), 'copying', '/d/a.png')).toBe('no space left on the device while copying /d/a.png')
    expect(describeIoError(e('ELOOP'), 'reading', '/d/l')).toBe('symbolic link loop at /d/l')
    expect(describeIoError(e('SQLITE_FULL'), 'recording', '/d/a.png')).toBe('no space left on the device while recording /d/a.png')
    expect(ioReason(e('ENOENT'), 'reading it')).toBe('does not exist')
    expect(ioReason(e('EACCES'), 'reading it')).toBe('permission denied while reading it')
  })
})

// The one CSV writer: RFC 4180 quoting and CRLF records, checked against hostile cells and against
// a strict RFC 4180 reader written here, so every cell written reads back exactly.
import { describe, expect, it } from 'vitest'
import { csvCell, toCsv, CSV_LINE_END } from '@shared/csv/write'
import { predictionsCsv } from '@shared/inference/csv'

/** A strict RFC 4180 reader: CRLF-terminated records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let i = 0
  while (i < text.length) {
    let field = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        const q = text.indexOf('"', i)
        if (q < 0) throw new Error('unterminated quoted field')
        field += text.slice(i, q)
        if (text[q + 1] === '"') {
          field += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
    } else {
      const m = /[,\r\n"]/.exec(text.slice(i))
      const end = m ? i + m.index : text.length
      if (text[end] === '"') throw new Error(`a quote inside an unquoted field at ${end}`)
      if (text[end] === '\n') throw new Error(`a bare LF at ${end}`)
      field = text.slice(i, end)
      i = end
    }
    row.push(field)
    if (text[i] === ',') i++
    else if (text.startsWith('\r\n', i)) {
      rows.push(row)
      row = []
      i += 2
    } else throw new Error(`expected , or CRLF at ${i}`)
  }
  if (row.length) throw new Error('the last record has no CRLF')
  return rows
}

describe('csvCell', () => {
  it('leaves plain text and numbers as they are', () => {
    expect(csvCell('crater')).toBe('crater')
    expect(csvCell(0.125)).toBe('0.125')
    expect(csvCell(-3)).toBe('-3')
    expect(csvCell(true)).toBe('true')
  })

  it('writes null, undefined, NaN and infinities as empty fields', () => {
    for (const v of [null, undefined, NaN, Infinity, -Infinity]) expect(csvCell(v)).toBe('')
  })

  it('quotes commas, quotes, CR and LF, doubling the quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('"')).toBe('""""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('cr\ronly')).toBe('"cr\ronly"')
    expect(csvCell('crlf\r\nend')).toBe('"crlf\r\nend"')
  })

  it('keeps a leading = + - @ as it is (no formula guard: no export had one, and names must round-trip)', () => {
    for (const v of ['=1+1', '+1', '-1_crater.png', '@SUM(A1)', '=HYPERLINK("x")']) {
      const out = csvCell(v)
      expect(out.startsWith("'")).toBe(false)
      expect(parseCsv(out + CSV_LINE_END)).toEqual([[v]])
    }
  })
})

describe('toCsv', () => {
  it('ends every record with CRLF, the last one included', () => {
    expect(toCsv([['a', 'b'], [1, 2]])).toBe('a,b\r\n1,2\r\n')
    expect(toCsv([['only']])).toBe('only\r\n')
  })

  it('hostile cells read back exactly with a strict RFC 4180 reader', () => {
    const hostile = ['', ',', '""', '"quoted"', 'a,"b",c', '\n', '\r', '\r\n', 'line1\r\nline2,x', ' spaced ', '=cmd|" /C calc"!A0', '+-@', 'ünïcödé 🚀', '\t tab']
    const rows = [hostile, hostile.slice().reverse()]
    expect(parseCsv(toCsv(rows))).toEqual(rows)
  })

  it('keeps the number of fields per record when cells hold separators', () => {
    const text = toCsv([['h1', 'h2', 'h3'], ['a,b', 'c\r\nd', 'e"f']])
    expect(parseCsv(text).map((r) => r.length)).toEqual([3, 3])
  })

  it('is what the inference export writes (one writer for every export)', () => {
    const rows = [{ path: '/d/x,"y"\n.jpg', name: '=x', probabilities: [0.25, 0.75], predicted: 1, label: 1 }]
    const text = predictionsCsv(rows, ['other', 'crater'])
    expect(parseCsv(text)).toEqual([
      ['name', 'path', 'p_other', 'p_crater', 'predicted', 'true', 'correct'],
      ['=x', '/d/x,"y"\n.jpg', '0.25', '0.75', 'crater', 'crater', '1']
    ])
  })
})

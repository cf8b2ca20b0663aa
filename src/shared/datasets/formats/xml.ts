// A small, strict XML reader for Pascal VOC files: elements, attributes, text, comments,
// processing instructions, CDATA and the five predefined entities (plus numeric ones).
// No DTDs and no external entities, so nothing in a file can make it read anything else.

export interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  text: string
}

export class XmlError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(`${message} at line ${line}, column ${column}`)
    this.name = 'XmlError'
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

export function parseXml(source: string): XmlElement {
  let pos = 0
  const fail = (message: string): never => {
    const before = source.slice(0, pos).split('\n')
    throw new XmlError(message, before.length, before[before.length - 1]!.length + 1)
  }
  const decode = (raw: string): string =>
    raw.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (_whole, ref: string) => {
      if (ref[0] === '#') return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10))
      const v = ENTITIES[ref]
      if (v === undefined) fail('unknown entity')
      return v!
    })
  const skipMisc = () => {
    for (;;) {
      while (pos < source.length && /\s/.test(source[pos]!)) pos++
      if (source.startsWith('<?', pos)) {
        const end = source.indexOf('?>', pos)
        if (end < 0) fail('unterminated processing instruction')
        pos = end + 2
      } else if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos)
        if (end < 0) fail('unterminated comment')
        pos = end + 3
      } else if (source.startsWith('<!DOCTYPE', pos)) {
        fail('DOCTYPE declarations are not accepted')
      } else return
    }
  }
  const name = (): string => {
    const m = /^[A-Za-z_:][\w.:-]*/.exec(source.slice(pos, pos + 200))
    if (!m) fail('expected a name')
    pos += m![0].length
    return m![0]
  }
  const element = (): XmlElement => {
    if (source[pos] !== '<') fail('expected "<"')
    pos++
    const el: XmlElement = { name: name(), attributes: {}, children: [], text: '' }
    for (;;) {
      while (/\s/.test(source[pos] ?? '')) pos++
      if (source.startsWith('/>', pos)) {
        pos += 2
        return el
      }
      if (source[pos] === '>') {
        pos++
        break
      }
      if (pos >= source.length) fail('unterminated tag')
      const attr = name()
      while (/\s/.test(source[pos] ?? '')) pos++
      if (source[pos] !== '=') fail('an attribute has no value')
      pos++
      while (/\s/.test(source[pos] ?? '')) pos++
      const quote = source[pos]
      if (quote !== '"' && quote !== "'") fail('an attribute value must be quoted')
      const end = source.indexOf(quote!, pos + 1)
      if (end < 0) fail('unterminated attribute value')
      el.attributes[attr] = decode(source.slice(pos + 1, end))
      pos = end + 1
    }
    for (;;) {
      if (pos >= source.length) fail('an element is not closed')
      if (source.startsWith('</', pos)) {
        pos += 2
        const closing = name()
        if (closing !== el.name) fail('a closing tag does not match its opening tag')
        while (/\s/.test(source[pos] ?? '')) pos++
        if (source[pos] !== '>') fail('expected ">" after a closing tag')
        pos++
        return el
      }
      if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos)
        if (end < 0) fail('unterminated comment')
        pos = end + 3
      } else if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos)
        if (end < 0) fail('unterminated CDATA section')
        el.text += source.slice(pos + 9, end)
        pos = end + 3
      } else if (source.startsWith('<?', pos)) {
        const end = source.indexOf('?>', pos)
        if (end < 0) fail('unterminated processing instruction')
        pos = end + 2
      } else if (source[pos] === '<') {
        el.children.push(element())
      } else {
        const end = source.indexOf('<', pos)
        const stop = end < 0 ? source.length : end
        el.text += decode(source.slice(pos, stop))
        pos = stop
      }
    }
  }
  if (source.charCodeAt(0) === 0xfeff) pos = 1
  skipMisc()
  if (pos >= source.length) fail('no root element')
  const root = element()
  skipMisc()
  if (pos < source.length) fail('content after the root element')
  return root
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name)
}

export function childText(el: XmlElement, name: string): string | undefined {
  return child(el, name)?.text.trim()
}

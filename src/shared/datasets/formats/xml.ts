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

/** A VOC file is 4 levels deep; anything far deeper is not an annotation. */
const MAX_DEPTH = 256

/** XML 1.0's Char production: what a character reference may name. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
}

export function parseXml(source: string): XmlElement {
  let pos = 0
  const fail = (message: string): never => {
    const before = source.slice(0, pos).split('\n')
    throw new XmlError(message, before.length, before[before.length - 1]!.length + 1)
  }
  const decode = (raw: string): string =>
    raw.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (_whole, ref: string) => {
      if (ref[0] === '#') {
        const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
        // String.fromCodePoint throws a RangeError past U+10FFFF: check first, fail as bad XML.
        if (!isXmlChar(cp)) fail('a character reference is not a valid XML character')
        return String.fromCodePoint(cp)
      }
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
  // Iterative, with an explicit stack: 200,000 nested elements must give an error, not overflow
  // the call stack (which escapes every handler as a RangeError).
  const openTag = (): { el: XmlElement; selfClosing: boolean } => {
    if (source[pos] !== '<') fail('expected "<"')
    pos++
    const el: XmlElement = { name: name(), attributes: {}, children: [], text: '' }
    for (;;) {
      while (/\s/.test(source[pos] ?? '')) pos++
      if (source.startsWith('/>', pos)) {
        pos += 2
        return { el, selfClosing: true }
      }
      if (source[pos] === '>') {
        pos++
        return { el, selfClosing: false }
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
  }
  const element = (): XmlElement => {
    const first = openTag()
    if (first.selfClosing) return first.el
    const stack: XmlElement[] = [first.el]
    for (;;) {
      const el = stack[stack.length - 1]!
      if (pos >= source.length) fail('an element is not closed')
      if (source.startsWith('</', pos)) {
        pos += 2
        const closing = name()
        if (closing !== el.name) fail('a closing tag does not match its opening tag')
        while (/\s/.test(source[pos] ?? '')) pos++
        if (source[pos] !== '>') fail('expected ">" after a closing tag')
        pos++
        stack.pop()
        if (!stack.length) return el
      } else if (source.startsWith('<!--', pos)) {
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
        const next = openTag()
        el.children.push(next.el)
        if (!next.selfClosing) {
          if (stack.length >= MAX_DEPTH) fail(`elements nested deeper than ${MAX_DEPTH} levels`)
          stack.push(next.el)
        }
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

// Bad IPC payloads generated from the contract itself: for every channel, whole payloads of the
// wrong kind, and for every field of its request schema, values that field must refuse (wrong
// types, ±Infinity, negative and absurd ids, oversized strings and arrays, NUL in paths,
// prototype-pollution keys). Each case says which field the error has to name.
import { channels, type Channel } from '@shared/ipc/contract'

export interface PayloadCase {
  channel: Channel
  name: string
  /** JSON text of the payload (may hold 1e999, or an own `__proto__` key). */
  text: string
  /** What the error must name: a field, or `(payload)` for the whole payload. */
  names: string
}

type Def = { type: string; innerType?: { def: Def }; shape?: Record<string, { def: Def }> }
const defOf = (s: unknown): Def => (s as { def: Def }).def

/** The field's own kind, under optional / default / nullable wrappers. */
export function fieldKind(schema: unknown): string {
  let def = defOf(schema)
  while (def.innerType && ['optional', 'default', 'nullable', 'prefault', 'readonly'].includes(def.type)) def = def.innerType.def
  return def.type
}

export function fieldsOf(channel: Channel): [string, string][] {
  const shape = (channels[channel].request as unknown as { shape: Record<string, unknown> }).shape
  return Object.entries(shape).map(([k, v]) => [k, fieldKind(v)])
}

const json = JSON.stringify
const BIG_STRING = 'x'.repeat(200_000)

/** Values a field of this kind must refuse, as JSON text. */
export function badValues(field: string, kind: string): { label: string; text: string }[] {
  const out: { label: string; text: string }[] = [
    { label: 'object', text: '{"nested":{"deep":[1,2,3]}}' },
    { label: '__proto__ object', text: '{"__proto__":{"polluted":true}}' }
  ]
  const idLike = /(^id$|Id$|Ids$)/.test(field)
  switch (kind) {
    case 'number':
      out.push({ label: 'numeric string', text: '"1"' }, { label: 'Infinity', text: '1e999' }, { label: '-Infinity', text: '-1e999' }, { label: 'boolean', text: 'true' })
      if (idLike) out.push({ label: 'negative id', text: '-1' }, { label: 'zero id', text: '0' }, { label: 'fractional id', text: '1.5' }, { label: 'absurd id', text: '1e300' }, { label: 'unsafe integer id', text: String(2 ** 60) })
      break
    case 'string':
      out.push({ label: 'number', text: '12345' }, { label: 'array', text: '["a"]' }, { label: 'oversized string', text: json(BIG_STRING) })
      // Names end up in terminal tables: ANSI escapes and newlines are refused.
      if (/name$/i.test(field)) out.push({ label: 'ANSI escape', text: json('\u001b[2J\u001b[31mred') }, { label: 'newline', text: json('two\nlines') }, { label: 'bidi override', text: json('abc\u202etxt.exe') })
      if (/path|dir/i.test(field)) out.push({ label: 'path with NUL', text: json('/tmp/a\u0000b') }, { label: 'relative path', text: json('../../etc/passwd') })
      break
    case 'enum':
      out.push({ label: 'unknown option', text: '"no-such-option"' }, { label: 'number', text: '7' }, { label: 'oversized string', text: json(BIG_STRING) })
      break
    case 'boolean':
      out.push({ label: 'string', text: '"yes"' }, { label: 'number', text: '1' })
      break
    case 'array':
      out.push({ label: 'string', text: '"a"' }, { label: 'array of objects', text: '[{"__proto__":{"polluted":true}}]' })
      if (idLike) out.push({ label: 'oversized id array', text: json(Array.from({ length: 100_001 }, (_, i) => i + 1)) }, { label: 'negative ids', text: '[-1,-2]' })
      else out.push({ label: 'oversized array', text: json(Array.from({ length: 100_001 }, () => BIG_STRING.slice(0, 8))) })
      break
    case 'union': // e.g. 'best' | 'last' | a checkpoint id, or one of several source objects
      out.push({ label: 'unknown option', text: '"no-such-option"' }, { label: '-Infinity', text: '-1e999' }, { label: 'array', text: '[]' })
      break
    default: // object, literal…
      out.push({ label: 'number', text: '42' }, { label: 'string', text: '"a"' }, { label: 'array', text: '[]' })
  }
  return out
}

/** Every generated case for every channel of the contract. */
export function payloadCases(): PayloadCase[] {
  const cases: PayloadCase[] = []
  for (const channel of Object.keys(channels) as Channel[]) {
    // The whole payload of the wrong kind. (`null` and `{}` are not here: an empty request is valid
    // for channels without fields, and engine:restart would restart the engine.)
    for (const [label, text] of [
      ['number payload', '42'],
      ['string payload', '"call"'],
      ['array payload', '[]'],
      ['boolean payload', 'true'],
      ['Infinity payload', '1e999']
    ] as const) {
      cases.push({ channel, name: label, text, names: '(payload)' })
    }
    const fields = fieldsOf(channel)
    const strict = (channels[channel].request as unknown as { def: { catchall?: { def: { type: string } } } }).def.catchall?.def.type === 'never'
    if (strict) {
      cases.push({ channel, name: 'unknown key', text: '{"zzUnknownKey":1}', names: 'zzUnknownKey' })
      cases.push({ channel, name: '__proto__ key', text: '{"__proto__":{"polluted":true}}', names: '__proto__' })
      cases.push({ channel, name: 'constructor.prototype key', text: '{"constructor":{"prototype":{"polluted":true}}}', names: 'constructor' })
    }
    // One bad field at a time, the other fields absent: the error must name the bad one.
    for (const [field, kind] of fields) {
      for (const bad of badValues(field, kind)) cases.push({ channel, name: `${field}: ${bad.label}`, text: `{${json(field)}:${bad.text}}`, names: field })
    }
  }
  return cases
}

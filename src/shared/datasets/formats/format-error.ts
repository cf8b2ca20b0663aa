// A malformed annotation file: says which file, where, and what is wrong, so the user can fix it.
// Messages name the file, the line / column or field, and what is wrong: never the file's text,
// so pointing an import at a file that is not annotations (/etc/shadow) reveals nothing of it.
export class FormatError extends Error {
  constructor(
    readonly format: 'coco' | 'yolo' | 'voc' | 'xml' | 'imagefolder' | 'landmarks',
    readonly file: string,
    detail: string
  ) {
    super(`${file}: ${detail}`)
    this.name = 'FormatError'
  }
}

/**
 * Where a JSON document stops being valid, from JSON.parse's error, without the snippet of the
 * text V8 puts in some messages ("Unexpected token 'r', "root:x:0:0"... is not valid JSON").
 */
export function jsonSyntaxDetail(source: string, err: unknown): string {
  const message = err instanceof Error ? err.message : ''
  const at = /at position (\d+)/.exec(message)
  const offset = at ? Number(at[1]) : /Unexpected end of JSON input/.test(message) ? source.length : null
  if (offset === null) return 'not valid JSON'
  const before = source.slice(0, offset).split('\n')
  return `not valid JSON at line ${before.length}, column ${before[before.length - 1]!.length + 1}`
}

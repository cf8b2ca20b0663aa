// User text (model and dataset names, file names, paths, reasons) printed by the CLI: control
// characters are shown escaped, so a name cannot move the cursor, recolour or clear a terminal,
// or break a table row with a newline.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
// The same set less newline and tab, for whole lines of output (multi-line help, JSON).
const CONTROL_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

function escape(c: string): string {
  if (c === '\n') return '\\n'
  if (c === '\r') return '\\r'
  if (c === '\t') return '\\t'
  // \uXXXX is also a valid escape inside a JSON string, so --json output stays parseable.
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** One field of a table row: every control character escaped. */
export function printable(text: string): string {
  return text.replace(CONTROL, escape)
}

/** A line (or lines) of output: control characters other than newline and tab escaped. */
export function printableLines(text: string): string {
  return text.replace(CONTROL_IN_LINES, escape)
}

/** A plain-text table: columns padded to their widest cell, every cell printable. */
export function table(head: string[], rows: string[][]): string {
  const cells = [head, ...rows].map((r) => r.map((c) => printable(c)))
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')
}

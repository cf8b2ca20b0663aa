// The one CSV writer of every export (experiments, inference predictions, reconstruction tables):
// RFC 4180, so CRLF after every record, the last included, and a field quoted (its quotes doubled)
// when it holds a comma, a quote, CR or LF. Empty fields for null, undefined and non-finite numbers
// (a blank cell, not "NaN", is what a spreadsheet reads as missing).
//
// Cells are written as they are: no formula-injection guard (a leading = + - @ is kept), because
// names and paths such as "-1_crater.png" must round-trip exactly and no export had one.

export type CsvCell = string | number | boolean | null | undefined

export const CSV_LINE_END = '\r\n'

export function csvCell(v: CsvCell): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v ?? '')
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** Records (the header first, if any) as CSV text. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',') + CSV_LINE_END).join('')
}

// Turns a zod validation failure into a short message a user can act on: one line per field
// ("rows[].modelLoss: expected number, received NaN (12 times)") instead of zod's JSON dump.

export interface IssueLike {
  path: readonly PropertyKey[]
  message: string
}

const MAX_LINES = 8

/** True for a ZodError (zod 3 and 4 both carry `issues` with array paths). */
export function isZodLike(err: unknown): err is Error & { issues: IssueLike[] } {
  if (!(err instanceof Error) || !Array.isArray((err as { issues?: unknown }).issues)) return false
  return (err as unknown as { issues: unknown[] }).issues.every((i) => typeof i === 'object' && i !== null && Array.isArray((i as IssueLike).path) && typeof (i as IssueLike).message === 'string')
}

// Array indices fold into `[]`, so 90 failures over rows 0..29 read as three fields.
function fieldOf(path: readonly PropertyKey[]): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? '[]' : `${out ? '.' : ''}${String(p)}`
  return out || '(root)'
}

function shorten(message: string): string {
  return message.replace(/^Invalid input: /, '').split('\n')[0]!.slice(0, 200)
}

/** One line per distinct field and message; at most a few lines, then a count of the rest. */
export function formatIssues(issues: readonly IssueLike[]): string {
  const groups = new Map<string, number>()
  for (const i of issues) {
    const line = `${fieldOf(i.path)}: ${shorten(i.message)}`
    groups.set(line, (groups.get(line) ?? 0) + 1)
  }
  const lines = [...groups].map(([line, n]) => (n > 1 ? `${line} (${n} times)` : line))
  if (lines.length <= MAX_LINES) return lines.join('\n')
  return [...lines.slice(0, MAX_LINES), `… and ${lines.length - MAX_LINES} more field(s)`].join('\n')
}

/** The error's message for a person: zod failures formatted, anything else as is. */
export function readableMessage(err: unknown, what = 'invalid data'): string {
  if (isZodLike(err)) return `${what}:\n${formatIssues(err.issues)}`
  return err instanceof Error ? err.message : String(err)
}

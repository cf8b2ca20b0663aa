// What a CLI command is: a name, a one-line summary, a usage text and a run function that
// returns the process exit code. Usage errors exit 2, failures 1, success 0; an import that
// partly failed exits 3.
import type { z } from 'zod'
import type { AppContext } from '../app/types'

export interface CliIo {
  out(text: string): void
  err(text: string): void
}

export interface Command {
  name: string
  summary: string
  usage: string
  /** Whether the command needs the engine child (model maths); others run without starting it. May depend on the arguments. */
  needsEngine: boolean | ((args: string[]) => boolean)
  run(args: string[], ctx: AppContext, io: CliIo): Promise<number>
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/**
 * Parses what the options add up to with the contract's schema; a rejected value is a usage error
 * that names the option (`flags` maps request fields to options), not a dump of zod's issues.
 */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, flags: Record<string, string>): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const parts = r.error.issues.slice(0, 5).map((i) => {
    const key = i.path.map(String).join('.')
    // `''` names the option when the schema is for one value (a name, not a request object).
    return `${flags[key] ?? flags[String(i.path[0])] ?? (key || 'value')}: ${i.message}`
  })
  throw new UsageError(parts.join('; '))
}

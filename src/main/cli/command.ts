// What a CLI command is: a name, a one-line summary, a usage text and a run function that
// returns the process exit code. Usage errors exit 2, failures 1, success 0; an import that
// partly failed exits 3.
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

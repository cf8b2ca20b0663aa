// `marsfm`: the workstation's services from a shell, for scripting, servers and batch work.
import { createAppContext } from '../app/context'
import { APP_VERSION } from '../app/version'
import { commands } from './commands'
import { UsageError, type CliIo } from './command'
import { readableMessage } from '@shared/ipc/zod-message'
import { printable, printableLines } from './text'

// Every line goes out with control characters escaped (a backstop: tables escape their fields).
const io: CliIo = {
  out: (text) => process.stdout.write(`${printableLines(text)}\n`),
  err: (text) => process.stderr.write(`${printableLines(text)}\n`)
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'usage: marsfm <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'marsfm <command> --help' for a command's options. Data folder: $MARSFM_HOME or the app's user-data folder."
  ].join('\n')
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(help())
    return name ? 0 : 2
  }
  if (name === '--version' || name === 'version') {
    io.out(APP_VERSION)
    return 0
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    io.err(`marsfm: unknown command '${printable(name)}'\n\n${help()}`)
    return 2
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`usage: ${command.usage}\n\n${command.summary}`)
    return 0
  }
  let ctx: Awaited<ReturnType<typeof createAppContext>> | null = null
  try {
    const startEngine = typeof command.needsEngine === 'function' ? command.needsEngine(args) : command.needsEngine
    // On demand: options are checked first, so a usage error never waits for an engine start.
    ctx = await createAppContext({ mode: 'cli', startEngine: startEngine ? 'on-demand' : false, echoLog: process.env.MARSFM_VERBOSE === '1' })
    return await command.run(args, ctx, io)
  } catch (err) {
    const e = err as Error & { code?: string }
    if (err instanceof UsageError || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      io.err(`marsfm ${name}: ${printable(e.message)}\nusage: ${command.usage}`)
      return 2
    }
    // Never zod's JSON dump: one line per field; a path or name with a newline in it is shown escaped.
    io.err(`marsfm ${name}: ${printable(readableMessage(e))}`)
    return 1
  } finally {
    await ctx?.close()
  }
}

// A reader that goes away (`marsfm model list | head -1`) is not a failure of the command.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    io.err(`marsfm: ${err.message}`)
    process.exit(1)
  }
)

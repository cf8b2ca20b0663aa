// How main starts the engine: Electron's utilityProcess inside the desktop app, a Node
// child_process in web mode, the CLI and tests. Both look the same to the supervisor.
import { fork } from 'node:child_process'
import type { Readable } from 'node:stream'
import type { FromEngine, ToEngine } from '@shared/engine/protocol'

export interface EngineProcess {
  pid: number | undefined
  post(message: ToEngine): void
  onMessage(listener: (message: FromEngine) => void): void
  onExit(listener: (code: number | null, signal: string | null) => void): void
  stdout: Readable | null
  stderr: Readable | null
  kill(signal?: NodeJS.Signals): void
}

export type EngineLauncher = (entry: string, env: NodeJS.ProcessEnv) => EngineProcess

export const nodeLauncher: EngineLauncher = (entry, env) => {
  const child = fork(entry, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' })
  return {
    get pid() {
      return child.pid
    },
    post: (message) => {
      if (child.connected) child.send(message)
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as FromEngine)),
    onExit: (listener) => child.on('exit', (code, signal) => listener(code, signal)),
    stdout: child.stdout,
    stderr: child.stderr,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal)
    }
  }
}

// Starts the engine with Electron's utilityProcess (a Node child managed by Electron itself).
import { utilityProcess } from 'electron'
import type { FromEngine } from '@shared/engine/protocol'
import type { EngineLauncher } from '../engine/transport'

export const utilityLauncher: EngineLauncher = (entry, env) => {
  const child = utilityProcess.fork(entry, [], { env, stdio: 'pipe', serviceName: 'MarsFM engine' })
  return {
    get pid() {
      return child.pid
    },
    post: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', (m) => listener(m as FromEngine)),
    onExit: (listener) => child.on('exit', (code) => listener(code, null)),
    stdout: child.stdout as never,
    stderr: child.stderr as never,
    kill: () => {
      child.kill()
    }
  }
}

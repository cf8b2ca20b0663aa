// Short request/response calls the engine answers (as opposed to jobs, which stream progress).
import type { TfHandle } from './tf/handle'

type Method = (tf: TfHandle, params: unknown) => Promise<unknown> | unknown

const methods: Record<string, Method> = {
  ping: () => ({ pong: true, pid: process.pid }),
  memory: (tf) => ({ ...tf.tf.memory(), rssBytes: process.memoryUsage().rss }),
  'onnx-info': async () => {
    const { onnxRuntimeInfo } = await import('./onnx/info')
    return onnxRuntimeInfo()
  }
}

export function registerMethod(name: string, method: Method): void {
  if (methods[name]) throw new Error(`engine method "${name}" registered twice`)
  methods[name] = method
}

export async function engineMethod(tf: TfHandle, name: string, params: unknown): Promise<unknown> {
  const method = Object.prototype.hasOwnProperty.call(methods, name) ? methods[name] : undefined
  if (!method) throw new Error(`the engine has no method "${name}"`)
  return method(tf, params)
}

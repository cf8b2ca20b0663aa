// `marsfm info [--json]`: what the workstation runs on.
import { parseArgs } from 'node:util'
import type { Command } from '../command'
import { systemInfo } from '../../services/system'
import type { GpuAdapterInfo } from '@shared/ipc/schemas/system'

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`
}

function gpuRows(gpu: GpuAdapterInfo | null): [string, string][] {
  if (!gpu) return [['WebGPU adapter', 'none found']]
  const on = Object.entries(gpu.features).filter(([, v]) => v).map(([k]) => k)
  return [
    ['WebGPU adapter', `${gpu.description || gpu.device} — ${[gpu.vendor, gpu.architecture].filter((s) => s && s !== 'software').join(', ')}, ${gpu.nativeApi}${gpu.software ? ', software (never picked automatically)' : ''}`],
    ['  limits', `maxBufferSize ${mib(gpu.limits.maxBufferSize)}, maxStorageBufferBindingSize ${mib(gpu.limits.maxStorageBufferBindingSize)}`],
    ['  features', on.length ? on.join(', ') : 'none of shaderF16, subgroups, timestampQuery'],
    ['  Dawn (webgpu package)', gpu.dawn]
  ]
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'show the engine backend, ONNX Runtime, data folder and ledger',
  usage: 'marsfm info [--json]',
  needsEngine: true,
  async run(args, ctx, io) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true })
    await ctx.engine.whenReady()
    const info = await systemInfo(ctx)
    if (values.json) {
      io.out(JSON.stringify(info, null, 2))
      return 0
    }
    const rows: [string, string][] = [
      ['MarsFM Workstation', info.appVersion],
      ['Platform', `${info.platform} ${info.arch}, ${info.cpus} cores`],
      ['Node', info.versions.node ?? ''],
      ['TensorFlow.js backend', `${info.engine.backend} (${info.engine.device})`],
      ['Backends tried', info.engine.triedBackends.map((t) => (t.error ? `${t.backend}: ${t.error}` : `${t.backend}: ok`)).join('; ')],
      ...info.engine.triedBackends.filter((t) => t.error && t.hint).map((t): [string, string] => [`  to use ${t.backend}`, t.hint!]),
      ...gpuRows(info.engine.gpu),
      ['ONNX Runtime', `${info.onnxruntime.version} [${info.onnxruntime.executionProviders.join(', ')}]`],
      ['Data folder', info.dataDir],
      ['Ledger', `${info.ledger.path} (${info.ledger.sizeBytes} bytes, schema ${info.ledger.schemaVersion})`]
    ]
    const width = Math.max(...rows.map(([k]) => k.length))
    for (const [k, v] of rows) io.out(`${k.padEnd(width)}  ${v}`)
    return 0
  }
}

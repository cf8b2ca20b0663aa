// `marsfm info [--json]`: what the workstation runs on.
import { parseArgs } from 'node:util'
import type { Command } from '../command'
import { systemInfo } from '../../services/system'

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
      ['ONNX Runtime', `${info.onnxruntime.version} [${info.onnxruntime.executionProviders.join(', ')}]`],
      ['Data folder', info.dataDir],
      ['Ledger', `${info.ledger.path} (${info.ledger.sizeBytes} bytes, schema ${info.ledger.schemaVersion})`]
    ]
    const width = Math.max(...rows.map(([k]) => k.length))
    for (const [k, v] of rows) io.out(`${k.padEnd(width)}  ${v}`)
    return 0
  }
}

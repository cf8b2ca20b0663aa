// System service: what the workstation runs on (engine backend, ONNX Runtime, data folder, ledger).
import { cpus, totalmem } from 'node:os'
import type { AppContext } from '../app/context'
import type { SystemInfo } from '@shared/ipc/schemas/system'

interface OnnxInfo {
  version: string
  executionProviders: string[]
  cuda: boolean
}

export async function systemInfo(ctx: AppContext): Promise<SystemInfo> {
  let onnxruntime: OnnxInfo = { version: 'unknown', executionProviders: [], cuda: false }
  if (ctx.engine.getStatus().state === 'ready') {
    try {
      onnxruntime = await ctx.engine.call<OnnxInfo>('onnx-info', {}, 15_000)
    } catch (err) {
      ctx.log.write('warn', 'system', `could not read ONNX Runtime info: ${(err as Error).message}`)
    }
  }
  const versions: Record<string, string> = { node: process.versions.node, v8: process.versions.v8 }
  if (process.versions.electron) versions.electron = process.versions.electron
  if (process.versions.chrome) versions.chrome = process.versions.chrome
  return {
    appVersion: ctx.appVersion,
    mode: ctx.mode,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    memoryBytes: totalmem(),
    versions,
    engine: ctx.engine.getStatus(),
    onnxruntime,
    dataDir: ctx.dataDir,
    ledger: { path: ctx.ledger.path, sizeBytes: ctx.ledger.sizeBytes(), schemaVersion: ctx.ledger.schemaVersion }
  }
}

export function registerSystemService(ctx: AppContext): void {
  ctx.router.handle('system:info', () => systemInfo(ctx))
  ctx.router.handle('engine:restart', async () => {
    ctx.log.write('info', 'engine', 'restart requested by the user')
    await ctx.engine.restart()
    return { ok: true as const }
  })
}

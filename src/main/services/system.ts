// System service: what the workstation runs on (engine backend, ONNX Runtime, data folder, ledger).
import { cpus, totalmem } from 'node:os'
import type { AppContext } from '../app/types'
import type { EngineSettings, SystemInfo, TfBackendChoice } from '@shared/ipc/schemas/system'
import { getSetting, setSetting } from '../settings/settings'
import { TF_BACKEND_SETTING } from '../settings/keys'

export { TF_BACKEND_SETTING }

function engineSettings(ctx: AppContext): EngineSettings {
  return { tfBackend: getSetting<TfBackendChoice>(ctx.ledger.db, TF_BACKEND_SETTING, 'auto'), envOverride: process.env.MARSFM_TF_BACKEND ?? null }
}

interface OnnxInfo {
  version: string
  executionProviders: string[]
  cuda: boolean
  webgpu: boolean
}

export async function systemInfo(ctx: AppContext): Promise<SystemInfo> {
  let onnxruntime: OnnxInfo = { version: 'unknown', executionProviders: [], cuda: false, webgpu: false }
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
  ctx.router.handle('engine:settings', () => engineSettings(ctx))
  ctx.router.handle('engine:set-backend', async ({ tfBackend }) => {
    setSetting(ctx.ledger.db, TF_BACKEND_SETTING, tfBackend)
    if (!process.env.MARSFM_TF_BACKEND) {
      ctx.engine.setEnv({ MARSFM_TF_BACKEND: tfBackend === 'auto' ? '' : tfBackend })
      ctx.log.write('info', 'engine', `TensorFlow.js backend set to ${tfBackend}; restarting the engine`)
      // An unavailable backend fails the restart; the status and log say why.
      await ctx.engine.restart().catch((err: Error) => ctx.log.write('error', 'engine', err.message))
    }
    return engineSettings(ctx)
  })
}

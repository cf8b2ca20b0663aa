// Runs the Prithvi MAE on a batch with a given noise and returns pred, mask and target in the
// patch layout. ONNX Runtime is the default: the MAE graph is exported once from the loaded
// checkpoint with the study's mask ratio and cached under the data folder, keyed by the model's
// SHA-256 and the ratio. TensorFlow.js is the fallback and agrees within 1e-4.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Tf } from '../tf/backend'
import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import { PrithviMAE } from '../model/prithvi'
import { isMaeConfig } from '@shared/models/mae'
import { normalisePatches } from '@shared/models/mae-input'
import { canonicalJson } from '@shared/datasets/manifest'
import { createHash } from 'node:crypto'
import { exportOnnxFile } from '../onnx/export-file'
import { createSession, run, sessionNotes, type Device, type OnnxSession } from '../onnx/runtime'
import { pixelsShape } from '../onnx/input-layout'
import { patchifyBatch, type PatchLayout } from './patches'

export interface MaeOutputs {
  /** [N, L, P] */
  pred: Float32Array
  /** [N, L], 1 = removed */
  mask: Float32Array
  /** [N, L, P] */
  target: Float32Array
}

export interface MaeRunner {
  readonly name: 'ort' | 'tfjs'
  readonly device: string
  readonly notes: string[]
  /** ORT only: the device asked for, and why 'auto' stayed on the CPU. */
  readonly requested?: Device
  readonly fallback?: string
  /** pixels [N, C, 1, H, W], noise [N, L]. */
  run(pixels: Float32Array, n: number, noise: Float32Array): Promise<MaeOutputs>
  dispose(): Promise<void>
}

export function layoutOf(cfg: PrithviConfig): PatchLayout {
  return { size: cfg.img_size, patch: cfg.patch_size, channels: cfg.in_chans }
}

/** Where the exported MAE of a model and mask ratio is cached. */
export function cachedMaePath(cacheDir: string, sha256: string, cfg: PrithviConfig, maskRatio: number): string {
  // The MAE layout's JSON config (eps, norm_pix_loss) can change the graph of the same weights.
  const variant = isMaeConfig(cfg) ? `-${createHash('sha256').update(canonicalJson(cfg)).digest('hex').slice(0, 12)}` : ''
  return join(cacheDir, `mae-${sha256}-r${maskRatio}-${cfg.img_size}px${variant}.onnx`)
}

export interface OrtRunnerOptions {
  cacheDir: string
  sha256: string
  cfg: PrithviConfig
  maskRatio: number
  /** Called only when the graph is not cached yet. */
  weights: () => Promise<WeightMap>
  intraOpThreads?: number
  /** ONNX Runtime's device (default 'auto'). */
  device?: Device
}

export async function createOrtRunner(opts: OrtRunnerOptions): Promise<MaeRunner> {
  const path = cachedMaePath(opts.cacheDir, opts.sha256, opts.cfg, opts.maskRatio)
  const notes: string[] = []
  if (!existsSync(path)) {
    exportOnnxFile(opts.cfg, await opts.weights(), 'mae', path, { maskRatio: opts.maskRatio })
    notes.push(`exported the MAE graph to ${path}`)
  } else notes.push(`reused the cached MAE graph ${path}`)
  const requested = opts.device ?? 'auto'
  // One session for the whole study: the weights are uploaded to the device once, not per batch.
  const session: OnnxSession = await createSession(path, { device: requested, keepWarm: true, ...(opts.intraOpThreads ? { intraOpThreads: opts.intraOpThreads } : {}) })
  notes.push(...sessionNotes(session))
  const { in_chans: C, img_size: S } = opts.cfg
  const L = (S / opts.cfg.patch_size) ** 2
  return {
    name: 'ort',
    device: session.device,
    notes,
    requested,
    ...(session.fallbackReason ? { fallback: session.fallbackReason } : {}),
    async run(pixels, n, noise) {
      // ONNX Runtime's CPU kernels divide by the batch size: an empty batch would kill the engine (SIGFPE).
      if (n < 1) throw new Error('internal error: an empty batch was sent to the MAE')
      const out = await run(session, { pixels: { data: pixels, shape: pixelsShape(session, n, C, S) }, noise: { data: noise, shape: [n, L] } }, ['pred', 'mask', 'target'])
      return { pred: out.pred!.data, mask: out.mask!.data, target: out.target!.data }
    },
    dispose: () => session.release()
  }
}

export function createTfjsRunner(tf: Tf, backend: string, cfg: PrithviConfig, weights: WeightMap, maskRatio: number): MaeRunner {
  const model = PrithviMAE.fromWeights(tf, cfg, weights, { decoder: true })
  const layout = layoutOf(cfg)
  const { in_chans: C, img_size: S } = cfg
  return {
    name: 'tfjs',
    device: backend,
    notes: [],
    async run(pixels, n, noise) {
      const x = tf.tensor5d(pixels, [n, C, 1, S, S])
      try {
        const out = model.forwardMae(x, maskRatio, noise)
        try {
          const [pred, mask] = await Promise.all([out.pred.data() as Promise<Float32Array>, out.mask.data() as Promise<Float32Array>])
          const target = patchifyBatch(pixels, n, layout)
          const P = cfg.patch_size * cfg.patch_size * C
          return { pred, mask, target: cfg.norm_pix_loss ? normalisePatches(target, n, (S / cfg.patch_size) ** 2, P) : target }
        } finally {
          for (const t of [out.loss, out.pred, out.mask, out.idsRestore]) t.dispose()
        }
      } finally {
        x.dispose()
      }
    },
    async dispose() {
      model.dispose()
    }
  }
}

// The classifier of a training checkpoint as logits [N, outputs] for model inputs [N, 6, 1, S, S].
// ONNX Runtime runs the exported 'classifier' graph (encoder → CLS token → linear), which fits a
// head with CLS pooling; the graph is exported once per checkpoint content and cached as
// onnx-cache/classifier-<sha256>-s<step>-<S>px.onnx. TensorFlow.js runs the model and the training
// code's own `classifierForward` in eval mode (no masking, no dropout) for any pooling.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Tf } from '../tf/backend'
import { classifierGraphName } from '@shared/inference/graph-cache'
import type { PrithviConfig } from '../model/config'
import type { WeightMap } from '../model/weights'
import { PrithviMAE } from '../model/prithvi'
import { exportOnnxFile } from '../onnx/export-file'
import { createSession, run, sessionNotes, type Device, type OnnxSession } from '../onnx/runtime'
import { pixelsShape } from '../onnx/input-layout'
import { classifierForward, classifierSpecs, HeadParams } from '../training/heads'
import { DIHEDRAL_VIEWS, orientPlanes } from '../training/data'
import { adapterLabel, probeWebGpu } from '../gpu/adapter'
import type { OrtPrecision } from '@shared/ipc/schemas/device'

export interface ClassifierRunner {
  readonly name: 'ort' | 'tfjs'
  readonly device: string
  readonly notes: string[]
  readonly precision?: OrtPrecision
  /** ORT only: the device asked for, and why 'auto' stayed on the CPU. */
  readonly requested?: Device
  readonly fallback?: string
  /** Logits [n, outputs] (binary runs: one logit). */
  run(pixels: Float32Array, n: number): Promise<Float32Array>
  dispose(): Promise<void>
}

export function cachedClassifierPath(cacheDir: string, sha256: string, step: number, cfg: PrithviConfig, precision: OrtPrecision = 'fp32'): string {
  const name = classifierGraphName(sha256, step, cfg.img_size)
  return join(cacheDir, precision === 'fp16' ? name.replace(/\.onnx$/, '-fp16.onnx') : name)
}

/** Backbone + head under the names the ONNX exporter reads (`classifier.weight` [K, D], `classifier.bias`). */
export function classifierWeights(backbone: WeightMap, head: WeightMap): WeightMap {
  const w = head.get('head.weight')
  const b = head.get('head.bias')
  if (!w || !b) throw new Error('the checkpoint has no classification head (head.weight, head.bias)')
  return new Map([...backbone, ['classifier.weight', w], ['classifier.bias', b]])
}

/** fp16 runs only where the WebGPU adapter computes in float16 (the shader-f16 feature). */
async function assertFp16(device: Device): Promise<void> {
  if (device !== 'webgpu' && device !== 'auto') throw new Error(`--precision fp16 runs on WebGPU; device ${device} cannot run it`)
  const probe = await probeWebGpu()
  if (!probe.available) throw new Error(`--precision fp16 needs a WebGPU adapter: ${probe.reason} (${probe.hint})`)
  if (!probe.adapter.features.shaderF16) throw new Error(`--precision fp16 needs the shader-f16 feature, which ${adapterLabel(probe.adapter)} lacks: use fp32`)
}

export interface OrtClassifierOptions {
  cacheDir: string
  sha256: string
  step: number
  cfg: PrithviConfig
  /** Called only when the graph is not cached yet. */
  weights: () => WeightMap
  intraOpThreads?: number
  /** ONNX Runtime's device (default 'auto'). */
  device?: Device
  /** 'fp16': float16 weights and arithmetic; needs a WebGPU session on an adapter with shader-f16. */
  precision?: OrtPrecision
}

export async function createOrtClassifier(o: OrtClassifierOptions): Promise<ClassifierRunner> {
  const precision = o.precision ?? 'fp32'
  const requested = o.device ?? 'auto'
  if (precision === 'fp16') await assertFp16(requested)
  const path = cachedClassifierPath(o.cacheDir, o.sha256, o.step, o.cfg, precision)
  const notes: string[] = []
  if (!existsSync(path)) {
    exportOnnxFile(o.cfg, o.weights(), 'classifier', path, { precision })
    notes.push(`exported the classifier graph to ${path}`)
  } else notes.push(`reused the cached classifier graph ${path}`)
  // One session for the whole job: the weights are uploaded to the device once, not per batch.
  const session: OnnxSession = await createSession(path, { device: requested, keepWarm: true, ...(o.intraOpThreads ? { intraOpThreads: o.intraOpThreads } : {}) })
  notes.push(...sessionNotes(session))
  if (precision === 'fp16') {
    if (session.device !== 'webgpu') {
      await session.release()
      throw new Error(`--precision fp16 needs a WebGPU session; device ${requested} ran on the ${session.device}${session.fallbackReason ? ` (${session.fallbackReason})` : ''}`)
    }
    notes.push('fp16 classifier graph: float16 weights and arithmetic')
  }
  const { in_chans: C, img_size: S } = o.cfg
  return {
    name: 'ort',
    device: session.device,
    notes,
    requested,
    precision,
    ...(session.fallbackReason ? { fallback: session.fallbackReason } : {}),
    async run(pixels, n) {
      const out = await run(session, { pixels: { data: pixels, shape: pixelsShape(session, n, C, S) } }, ['logits'])
      return out.logits!.data
    },
    dispose: () => session.release()
  }
}

export interface TfjsClassifierOptions {
  cfg: PrithviConfig
  backbone: WeightMap
  head: WeightMap
  numClasses: number
  pool: 'cls' | 'mean'
}

export function createTfjsClassifier(tf: Tf, backend: string, o: TfjsClassifierOptions): ClassifierRunner {
  const model = PrithviMAE.fromWeights(tf, o.cfg, o.backbone, { decoder: false, seed: 0 })
  const head = new HeadParams(tf, classifierSpecs(o.cfg.embed_dim, o.numClasses), () => 0)
  try {
    head.load(o.head)
  } catch (err) {
    head.dispose()
    model.dispose()
    throw err
  }
  const { in_chans: C, img_size: S } = o.cfg
  const L = model.numPatches
  return {
    name: 'tfjs',
    device: backend,
    notes: [],
    async run(pixels, n) {
      // Ascending noise keeps every token in its place (mask ratio 0 keeps them all anyway).
      const noise = new Float32Array(n * L)
      for (let i = 0; i < noise.length; i++) noise[i] = i % L
      const logits = tf.tidy(() => {
        const { latent } = model.forwardEncoder(tf.tensor(pixels, [n, C, 1, S, S], 'float32'), 0, noise)
        return classifierForward(tf, head, latent, undefined, o.pool)
      })
      try {
        return (await logits.data()) as Float32Array
      } finally {
        logits.dispose()
      }
    },
    async dispose() {
      head.dispose()
      model.dispose()
    }
  }
}

/**
 * The run's test-time augmentation around a runner (RunConfig.tta): 'dihedral' scores each image in
 * its 8 orientations and averages the logits, as the run's evaluation did, so inference gives the
 * numbers the run reported. 'none' returns the runner itself.
 */
export function withTestTimeAugmentation(runner: ClassifierRunner, s: number, tta: 'none' | 'dihedral'): ClassifierRunner {
  if (tta === 'none') return runner
  return {
    ...runner,
    notes: [...runner.notes, `test-time augmentation: the logits of ${DIHEDRAL_VIEWS.length} orientations averaged per image (as the run was evaluated)`],
    async run(pixels, n) {
      let sum: Float32Array | undefined
      for (const view of DIHEDRAL_VIEWS) {
        const logits = await runner.run(orientPlanes(pixels, s, view.flipH, view.quarter), n)
        if (!sum) sum = Float32Array.from(logits)
        else for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + logits[i]!
      }
      for (let i = 0; i < sum!.length; i++) sum![i] = sum![i]! / DIHEDRAL_VIEWS.length
      return sum!
    },
    dispose: () => runner.dispose()
  }
}

/** Class probabilities [n, K] from logits: a sigmoid for a binary run's one logit ([1 − p, p]), else a softmax. */
export function probabilitiesFromLogits(logits: Float32Array, n: number, numClasses: number): number[][] {
  const out: number[][] = []
  if (numClasses === 2) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-logits[i]!))
      out.push([1 - p, p])
    }
    return out
  }
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.subarray(i * numClasses, (i + 1) * numClasses))
    const max = Math.max(...row)
    const e = row.map((v) => Math.exp(v - max))
    const sum = e.reduce((a, b) => a + b, 0)
    out.push(e.map((v) => v / sum))
  }
  return out
}

// The training memory estimate: its parameter counts against the model's own parameter specs, the
// per-block arithmetic by hand, the measured calibration points (wasm heap peaks, within 15 %), and
// the verdicts against wasm's heap and a WebGPU adapter's buffer limits.
import { describe, expect, it } from 'vitest'
import {
  CALIBRATION,
  checkTrainingMemory,
  estimateTrainingMemory,
  FIXED_OVERHEAD_BYTES,
  formatBytes,
  largestBatch,
  memoryLimit,
  parameterCounts,
  WASM_HEAP_BYTES,
  type MemoryArch
} from '@shared/training/memory'
import { paramSpecs } from '@engine/model/params'
import { prithvi100m, prithviTiny } from '@engine/model/config'
import { classifierSpecs, segmentationSpecs } from '@engine/training/heads'
import { isFrozenParameter } from '@engine/training/frozen-prefix'

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)
const MiB = 2 ** 20

describe('parameter counts', () => {
  it('match the model and head parameter specs the trainer builds', () => {
    for (const cfg of [prithvi100m(), prithviTiny(), prithvi100m({ embed_dim: 384, depth: 6, num_heads: 6, mlp_ratio: 3 })]) {
      const enc = paramSpecs(cfg, { decoder: false }).reduce((a, s) => a + size(s.torchShape), 0)
      const full = paramSpecs(cfg, { decoder: true }).reduce((a, s) => a + size(s.torchShape), 0)
      expect(parameterCounts(cfg, { task: 'classification', numClasses: 2 }).backbone).toBe(enc)
      expect(parameterCounts(cfg, { task: 'pretrain' }).backbone).toBe(full)
      expect(parameterCounts(cfg, { task: 'classification', numClasses: 5 }).head).toBe(classifierSpecs(cfg.embed_dim, 5).reduce((a, s) => a + size(s.torchShape), 0))
    }
    const cfg = prithvi100m()
    const seg = { neckDim: 256, headChannels: 128, numClasses: 3, auxHead: true }
    const specs = segmentationSpecs({ embedDim: cfg.embed_dim, ...seg }).filter((s) => !s.buffer)
    expect(parameterCounts(cfg, { task: 'segmentation', segmentation: seg }).head).toBe(specs.reduce((a, s) => a + size(s.torchShape), 0))
  })

  it('Prithvi-100M has 86.2 M encoder parameters', () => {
    expect(parameterCounts(prithvi100m(), { task: 'classification' }).backbone).toBe(86_237_184)
  })
})

describe('arithmetic', () => {
  // One block, no decoder, no masking: everything below is counted by hand from the header's table.
  const arch: MemoryArch = { img_size: 32, patch_size: 16, in_chans: 6, embed_dim: 8, depth: 1, num_heads: 2, mlp_ratio: 4, decoder_embed_dim: 8, decoder_depth: 1, decoder_num_heads: 2 }

  it('counts weights, Adam state, gradients and the activations of one block', () => {
    const e = estimateTrainingMemory(arch, { task: 'classification', batchSize: 3, maskRatio: 0, numClasses: 2 })
    const L = 4 // (32 / 16)²
    const S = 1 + L
    const P = 16 * 16 * 6
    const params = P * 8 + 8 + 8 + (12 * 64 + 13 * 8) + 16 + (8 + 1)
    expect(e.parameters).toBe(params)
    expect(e.bytes.weights).toBe((params + L * 8) * 4)
    expect(e.bytes.optimizer).toBe(2 * params * 4)
    expect(e.bytes.gradients).toBe(params * 4)
    const T = 3 * S
    const block = 37 * T * 8 + 7 * T * 32 + 3 * 3 * 2 * S * S
    const act = 3 * 6 * 32 * 32 * 3 + 3 * L * P + 3 * 3 * L * 8 + block + 5 * T * 8
    expect(e.bytes.activations).toBe(act * 4)
    expect(e.bytes.total).toBe(e.bytes.weights + e.bytes.optimizer + e.bytes.gradients + e.bytes.activations + FIXED_OVERHEAD_BYTES)
  })

  it('micro-batches shrink the activations and keep a second gradient copy', () => {
    const whole = estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 16, maskRatio: 0.375 })
    const micro = estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 16, microBatch: 4, maskRatio: 0.375 })
    expect(micro.chunk).toBe(4)
    expect(micro.bytes.activations).toBeCloseTo(whole.bytes.activations / 4, -3)
    expect(micro.bytes.gradients).toBe(2 * whole.bytes.gradients)
    expect(micro.bytes.total).toBeLessThan(whole.bytes.total)
  })

  it('a frozen backbone keeps Adam state for the head only; masking shrinks the encoder', () => {
    const frozen = estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 4, maskRatio: 0, freezeBackbone: true })
    expect(frozen.trainable).toBe(769)
    expect(frozen.bytes.optimizer).toBe(2 * 769 * 4)
    const masked = estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 4, maskRatio: 0.75 })
    const unmasked = estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 4, maskRatio: 0 })
    expect(masked.bytes.activations).toBeLessThan(unmasked.bytes.activations / 2)
  })

  it.each([1, 6, 12])('partial fine-tuning (K = %i): Adam state for exactly the parameters the trainer trains; fewer activations', (k) => {
    const arch = prithvi100m()
    const trained = paramSpecs(arch, { decoder: false }).filter((s) => !isFrozenParameter(s.name, k, arch.depth)).reduce((a, s) => a + size(s.torchShape), 0)
    const partial = estimateTrainingMemory(arch, { task: 'classification', batchSize: 4, maskRatio: 0.375, freezeBlocks: k })
    expect(partial.trainable).toBe(trained + 769)
    expect(partial.bytes.optimizer).toBe(2 * (trained + 769) * 4)
    const full = estimateTrainingMemory(arch, { task: 'classification', batchSize: 4, maskRatio: 0.375 })
    expect(partial.bytes.activations).toBeLessThan(full.bytes.activations)
    expect(partial.parameters).toBe(full.parameters) // tfjs still holds every weight
  })

  it('rejects an image size that is not a multiple of the patch size', () => {
    expect(() => estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 1, maskRatio: 0, imgSize: 100 })).toThrow(/100 is not a multiple of the patch size 16/)
  })
})

describe('calibration', () => {
  it.each(CALIBRATION.map((c) => [c.what, c] as const))('%s: within 15 %% of the measured wasm heap peak', (_what, c) => {
    const mib = estimateTrainingMemory(c.arch, c.run).bytes.total / MiB
    expect(Math.abs(mib - c.measuredMiB) / c.measuredMiB).toBeLessThan(0.15)
  })
})

describe('verdicts', () => {
  const wasm = memoryLimit('wasm', 16 * 2 ** 30)

  it('Prithvi-100M batch 4 fits wasm; batch 64 does not, with the numbers and the batch that fits', () => {
    const ok = checkTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 4, maskRatio: 0.375 }, wasm)
    expect(ok.fits).toBe(true)
    expect(ok.message).toMatch(/^batch 4 at 224² needs about 2\.\d GB of 4\.0 GB/)
    const big = checkTrainingMemory(prithvi100m(), { task: 'classification', batchSize: 64, maskRatio: 0.375 }, wasm)
    expect(big.fits).toBe(false)
    const n = big.maxBatch!
    expect(n).toBeGreaterThanOrEqual(4)
    expect(n).toBeLessThan(10)
    expect(big.message).toBe(`batch 64 at 224² needs about ${formatBytes(big.estimate.bytes.total)}; the WebAssembly backend allows a 4 GiB heap; the largest batch that fits is about ${n} (or set a micro-batch to accumulate gradients)`)
    // The batch named fits, the next one does not.
    const at = (b: number) => estimateTrainingMemory(prithvi100m(), { task: 'classification', batchSize: b, maskRatio: 0.375 }).bytes.total
    expect(at(n)).toBeLessThanOrEqual(WASM_HEAP_BYTES)
    expect(at(n + 1)).toBeGreaterThan(WASM_HEAP_BYTES)
  })

  it('says when not even one image fits', () => {
    const v = checkTrainingMemory(prithviTiny({ img_size: 2048, patch_size: 8 }), { task: 'classification', batchSize: 2, maskRatio: 0 }, wasm)
    expect(v.fits).toBe(false)
    expect(v.maxBatch).toBe(0)
    expect(v.message).toMatch(/not even batch 1 fits/)
  })

  it('WebGPU: the largest tensor against maxStorageBufferBindingSize; a hardware adapter gives no total', () => {
    const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 128 * MiB }
    const hw = memoryLimit('webgpu', 16 * 2 ** 30, { software: false, limits })
    expect(hw.totalBytes).toBeNull()
    const arch = prithviTiny({ img_size: 256, patch_size: 8 }) // 1025 tokens, 4 heads: 16.8 MB of attention maps per image
    const v = checkTrainingMemory(arch, { task: 'classification', batchSize: 16, maskRatio: 0 }, hw)
    expect(v.estimate.largestTensor.bytes).toBe(16 * 4 * 1025 * 1025 * 4)
    expect(v.fits).toBe(false)
    expect(v.message).toMatch(/needs one tensor of about 257 MB \(the encoder's attention maps .*\); this adapter binds at most 128 MB per buffer \(maxStorageBufferBindingSize; maxBufferSize 1\.0 GB\); the largest batch that fits is about 7/)
    expect(largestBatch(arch, { task: 'classification', batchSize: 16, maskRatio: 0 }, hw, 64)).toBe(7)
    const sw = memoryLimit('webgpu', 8 * 2 ** 30, { software: true, limits })
    expect(sw.totalBytes).toBe(8 * 2 ** 30)
    expect(sw.totalLabel).toMatch(/software adapter uses system memory \(8\.0 GB\)/)
  })
})

describe('segmentation', () => {
  it('refuses on wasm the batch that aborted the wasm module when measured (224², FCN 128 + auxiliary head, batch 4)', () => {
    const arch = prithvi100m({ embed_dim: 128, depth: 4, num_heads: 4 })
    const v = checkTrainingMemory(arch, { task: 'segmentation', batchSize: 4, maskRatio: 0, segmentation: { neckDim: 64, headChannels: 128, numClasses: 2, auxHead: true } }, memoryLimit('wasm', 16 * 2 ** 30))
    expect(v.fits).toBe(false)
    expect(v.maxBatch).toBe(2) // measured: batch 2 peaked at 2994 MiB
  })
})

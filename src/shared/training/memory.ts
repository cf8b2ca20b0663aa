// Peak memory of one training step, estimated from the run's shape before anything is allocated,
// and the verdict against what the engine's backend allows (wasm's 4 GiB heap, a WebGPU adapter's
// buffer limits, the machine's RAM). Pure arithmetic: the engine checks a run with it before step 1,
// main before it records a run, the Training view next to Start.
//
// What a step holds at its peak (src/engine/training/trainer.ts, src/engine/model/ops.ts):
// - weights, Adam's m and v (3 copies of every trainable parameter; frozen ones once),
// - gradients: the batch's (one copy), and a second while micro-batches are accumulated,
// - activations of the forward pass for one micro-batch: the loss runs in one tf.tidy inside
//   tf.variableGrads, so every intermediate of the forward stays alive until backprop ends, not
//   only what the custom gradients save (LayerNorm: xhat, rstd; GELU: x; linear: x; bmm: both).
//   Counted per transformer block from blocks.ts / ops.ts (T tokens, D width, r mlp ratio):
//     LayerNorm ×2 (5·T·D each), qkv (6·T·D), split / head reshapes (7·T·D), wasm's per-head
//     unstack and short-lived copies (6·T·D), attention out / merge / proj / residuals (5·T·D),
//     fc1 + exact GELU (7·T·r·D), fc2 + residual (3·T·D), and the attention maps: the logits and
//     their softmax, 2·N·H·S² (S tokens per image), plus about one more map per head that the
//     backward pass holds (fitted: 3·N·H·S² in all).
// - the backward pass's largest temporaries and the wasm runtime itself (a fixed overhead).
//
// Calibration (wasm, this machine, 2 December 2026): the `train-bench` engine job, two steps, then
// the heap size read as bench/train-step.mjs does (WebAssembly.Memory only grows, so its size is the
// peak, rounded up by Emscripten's growth steps of up to ~20 % / 96 MB). For the transformer the
// counts above, unscaled, land within 12 % of every point in CALIBRATION (Prithvi-100M batch 4:
// 2.6 GB, known from the evaluation work; six smaller configs measured for this module); the
// attention factor 3 is fitted (2 from counting under-estimated the attention-bound config by 23 %).
// The segmentation head's per-pixel factors are fitted to four measured points (the counting
// under-estimated them by a third: the FCN's hand-written backward holds full-resolution copies).
// tests/unit/training/memory.test.ts checks every point within 15 %.

export type MemoryTask = 'classification' | 'segmentation' | 'pretrain'

/** The architecture fields the estimate needs (PrithviConfig's names). */
export interface MemoryArch {
  img_size: number
  patch_size: number
  in_chans: number
  embed_dim: number
  depth: number
  num_heads: number
  mlp_ratio: number
  decoder_embed_dim: number
  decoder_depth: number
  decoder_num_heads: number
  tubelet_size?: number
}

/** The run fields the estimate needs (RunConfig's names). */
export interface MemoryRun {
  task: MemoryTask
  batchSize: number
  microBatch?: number | undefined
  maskRatio: number
  /** Model input size; default the architecture's img_size. */
  imgSize?: number | undefined
  freezeBackbone?: boolean | undefined
  /** Partial fine-tuning: the first K blocks run in ONNX Runtime (outside this estimate's heap), untrained. */
  freezeBlocks?: number | undefined
  /** Classification: number of classes (2 when not known yet). */
  numClasses?: number | undefined
  segmentation?: { neckDim?: number | undefined; headChannels: number; numClasses: number; auxHead: boolean } | undefined
}

export interface MemoryEstimate {
  batchSize: number
  /** Images per forward (the micro-batch). */
  chunk: number
  parameters: number
  trainable: number
  bytes: { weights: number; optimizer: number; gradients: number; activations: number; overhead: number; total: number }
  /** The largest single tensor of the step: WebGPU must bind it as one storage buffer. */
  largestTensor: { bytes: number; what: string }
}

const prithviFamily = (o: Partial<MemoryArch>): MemoryArch => ({
  img_size: 224, patch_size: 16, in_chans: 6, embed_dim: 768, depth: 12, num_heads: 12, mlp_ratio: 4,
  decoder_embed_dim: 512, decoder_depth: 8, decoder_num_heads: 16, ...o
})

/** Measured peaks (wasm heap, MiB) the constants were checked against; the unit test checks each. */
export const CALIBRATION: { what: string; arch: MemoryArch; run: MemoryRun; measuredMiB: number }[] = [
  { what: 'Prithvi-100M, classification, batch 4, mask 0.375', arch: prithviFamily({}), run: { task: 'classification', batchSize: 4, maskRatio: 0.375 }, measuredMiB: 2608 },
  { what: 'D192 ×4 blocks, 224², batch 8, mask 0.375', arch: prithviFamily({ embed_dim: 192, depth: 4, num_heads: 3 }), run: { task: 'classification', batchSize: 8, maskRatio: 0.375 }, measuredMiB: 316 },
  { what: 'D384 ×6 blocks, 224², batch 16, mask 0.375', arch: prithviFamily({ embed_dim: 384, depth: 6, num_heads: 6 }), run: { task: 'classification', batchSize: 16, maskRatio: 0.375 }, measuredMiB: 1548 },
  { what: 'D64 ×2 blocks, 128² patch 8 (257 tokens), batch 16', arch: prithviFamily({ img_size: 128, patch_size: 8, embed_dim: 64, depth: 2, num_heads: 4 }), run: { task: 'classification', batchSize: 16, maskRatio: 0 }, measuredMiB: 298 },
  { what: 'D64 ×2 blocks, 128² patch 8 (257 tokens), batch 64', arch: prithviFamily({ img_size: 128, patch_size: 8, embed_dim: 64, depth: 2, num_heads: 4 }), run: { task: 'classification', batchSize: 64, maskRatio: 0 }, measuredMiB: 1238 },
  { what: 'MAE pre-training D128 ×4 / decoder D64 ×2, batch 8, mask 0.75', arch: prithviFamily({ embed_dim: 128, depth: 4, num_heads: 4, decoder_embed_dim: 64, decoder_depth: 2, decoder_num_heads: 4 }), run: { task: 'pretrain', batchSize: 8, maskRatio: 0.75 }, measuredMiB: 290 },
  // Segmentation (D128 ×4 blocks, patch 16): neck 64 channels; FCN 64 channels, or 128 with the auxiliary head.
  // At 224² with the auxiliary head, batch 4 aborted the wasm module (the estimate refuses it).
  { what: 'segmentation 128², FCN 64, batch 4', arch: prithviFamily({ img_size: 128, embed_dim: 128, depth: 4, num_heads: 4 }), run: { task: 'segmentation', batchSize: 4, maskRatio: 0, segmentation: { neckDim: 64, headChannels: 64, numClasses: 2, auxHead: false } }, measuredMiB: 618 },
  { what: 'segmentation 128², FCN 64, batch 8', arch: prithviFamily({ img_size: 128, embed_dim: 128, depth: 4, num_heads: 4 }), run: { task: 'segmentation', batchSize: 8, maskRatio: 0, segmentation: { neckDim: 64, headChannels: 64, numClasses: 2, auxHead: false } }, measuredMiB: 1109 },
  { what: 'segmentation 224², FCN 128 + auxiliary head, batch 1', arch: prithviFamily({ embed_dim: 128, depth: 4, num_heads: 4 }), run: { task: 'segmentation', batchSize: 1, maskRatio: 0, segmentation: { neckDim: 64, headChannels: 128, numClasses: 2, auxHead: true } }, measuredMiB: 1504 },
  { what: 'segmentation 224², FCN 128 + auxiliary head, batch 2', arch: prithviFamily({ embed_dim: 128, depth: 4, num_heads: 4 }), run: { task: 'segmentation', batchSize: 2, maskRatio: 0, segmentation: { neckDim: 64, headChannels: 128, numClasses: 2, auxHead: true } }, measuredMiB: 2994 },
  { what: 'MAE pre-training D128 ×4 / decoder D64 ×2, batch 32, mask 0.75', arch: prithviFamily({ embed_dim: 128, depth: 4, num_heads: 4, decoder_embed_dim: 64, decoder_depth: 2, decoder_num_heads: 4 }), run: { task: 'pretrain', batchSize: 32, maskRatio: 0.75 }, measuredMiB: 1105 }
]

const F32 = 4
/** The wasm runtime, the model's fixed tables and the backward pass's largest temporaries. */
export const FIXED_OVERHEAD_BYTES = 48 * 2 ** 20

export function keptTokens(numPatches: number, maskRatio: number): number {
  return Math.trunc(numPatches * (1 - maskRatio))
}

function blockParams(d: number, r: number): number {
  const hidden = Math.round(d * r)
  return 3 * d * d + 3 * d + d * d + d + d * hidden + hidden + hidden * d + d + 4 * d
}

/** Floats one transformer block keeps alive in a forward over n images of s tokens. */
function blockActivations(n: number, s: number, d: number, heads: number, r: number): number {
  const t = n * s
  return 37 * t * d + 7 * t * Math.round(d * r) + 3 * n * heads * s * s
}

/** Parameters of the backbone (and decoder) and of the task head. */
export function parameterCounts(arch: MemoryArch, run: Pick<MemoryRun, 'task' | 'numClasses' | 'segmentation'>): { backbone: number; head: number } {
  const d = arch.embed_dim
  const patchDim = (arch.tubelet_size ?? 1) * arch.patch_size ** 2 * arch.in_chans
  let backbone = patchDim * d + d + d + arch.depth * blockParams(d, arch.mlp_ratio) + 2 * d
  if (run.task === 'pretrain') {
    const dd = arch.decoder_embed_dim
    backbone += d * dd + dd + dd + arch.decoder_depth * blockParams(dd, arch.mlp_ratio) + 2 * dd + dd * patchDim + patchDim
  }
  let head = 0
  if (run.task === 'classification') {
    const k = (run.numClasses ?? 2) <= 2 ? 1 : run.numClasses!
    head = d * k + k
  } else if (run.task === 'segmentation' && run.segmentation) {
    const e = run.segmentation.neckDim ?? d
    const hc = run.segmentation.headChannels
    const k = run.segmentation.numClasses
    // Trainable only: BatchNorm's running statistics are buffers (a few KB).
    const fcn = (convs: number) => 9 * e * hc + 2 * hc + (convs - 1) * (9 * hc * hc + 2 * hc) + hc * k + k
    head = 4 * d * e + e + 2 * e + 3 * (4 * e * e + e) + 2 * e + fcn(1) + (run.segmentation.auxHead ? fcn(2) : 0)
  }
  return { backbone, head }
}

/** Estimated peak bytes of one training step of `run` on `arch`. */
export function estimateTrainingMemory(arch: MemoryArch, run: MemoryRun): MemoryEstimate {
  const img = run.imgSize ?? arch.img_size
  if (img % arch.patch_size !== 0) throw new Error(`image size ${img} is not a multiple of the patch size ${arch.patch_size}`)
  const grid = img / arch.patch_size
  const L = grid * grid
  const batch = run.batchSize
  const chunk = Math.min(run.microBatch ?? batch, batch)
  const d = arch.embed_dim
  const r = arch.mlp_ratio
  const patchDim = (arch.tubelet_size ?? 1) * arch.patch_size ** 2 * arch.in_chans
  const masked = run.task === 'pretrain' || (run.task === 'classification' && run.maskRatio > 0)
  const keep = masked ? keptTokens(L, run.maskRatio) : L
  const sEnc = 1 + keep

  const counts = parameterCounts(arch, run)
  const parameters = counts.backbone + counts.head
  // Partial fine-tuning: the patch embedding, CLS and the first K blocks (and the final norm at
  // K = depth) are neither trained nor run in tfjs; their forward is ONNX Runtime's memory.
  const frozenBlocks = run.task === 'classification' ? Math.min(Math.max(run.freezeBlocks ?? 0, 0), arch.depth) : 0
  const frozenParams = frozenBlocks > 0 ? patchDim * d + 2 * d + frozenBlocks * blockParams(d, r) + (frozenBlocks === arch.depth ? 2 * d : 0) : 0
  const trainable = run.freezeBackbone && run.task !== 'pretrain' ? counts.head : parameters - frozenParams

  // Activations of one micro-batch (floats).
  const n = chunk
  let act = 0
  if (frozenBlocks > 0) act += n * sEnc * d // the frozen part's output, uploaded from ONNX Runtime
  else {
    act += n * arch.in_chans * img * img * 3 // input, patchify's reshape / transpose copies
    act += n * L * patchDim + 3 * n * L * d // patches, embedding, bias, position
    if (masked) act += n * keep * L + n * keep * d // the one-hot keep matrix and its product
  }
  act += (arch.depth - frozenBlocks) * blockActivations(n, sEnc, d, arch.num_heads, r) + 5 * n * sEnc * d
  let largest = { floats: arch.num_heads * sEnc * sEnc * n, what: `the encoder's attention maps (${n}×${arch.num_heads} heads × ${sEnc}² tokens)` }
  if (run.task === 'pretrain') {
    const dd = arch.decoder_embed_dim
    const sDec = 1 + L
    act += n * sEnc * dd + n * L * keep + 4 * n * L * dd // decoder embed, restore matrix, mask tokens, concat, position
    act += arch.decoder_depth * blockActivations(n, sDec, dd, arch.decoder_num_heads, r) + 5 * n * sDec * dd
    act += 2 * n * sDec * patchDim + 4 * n * L * patchDim // prediction, target, squared error
    const dec = arch.decoder_num_heads * sDec * sDec * n
    if (dec > largest.floats) largest = { floats: dec, what: `the decoder's attention maps (${n}×${arch.decoder_num_heads} heads × ${sDec}² tokens)` }
  } else if (run.task === 'segmentation' && run.segmentation) {
    const e = run.segmentation.neckDim ?? d
    const hc = run.segmentation.headChannels
    const k = run.segmentation.numClasses
    const px = n * img * img
    // Per output pixel, fitted to the segmentation points of CALIBRATION: the neck (transposed
    // convolutions, LayerNorm and GELU up to full resolution) ~7·e, each FCN head ~7·e, ~17·hc per
    // 3×3 convolution (nine shifted matmuls and their backward), and the logits / loss ~8·k.
    act += px * 7 * e
    const fcn = (convs: number) => px * (7 * e + 17 * hc * convs + 8 * k)
    act += fcn(1) + (run.segmentation.auxHead ? fcn(2) : 0)
    const full = px * Math.max(e, hc)
    if (full > largest.floats) largest = { floats: full, what: `the segmentation head's full-resolution features (${n}×${img}²×${Math.max(e, hc)})` }
  }
  const hiddenFloats = n * sEnc * Math.round(d * r)
  if (hiddenFloats > largest.floats) largest = { floats: hiddenFloats, what: `the encoder's MLP activations (${n}×${sEnc} tokens × ${Math.round(d * r)})` }

  const weights = (parameters + L * d + (run.task === 'pretrain' ? (L + 1) * arch.decoder_embed_dim : 0)) * F32
  const optimizer = 2 * trainable * F32
  const gradients = (chunk < batch ? 2 : 1) * trainable * F32
  const activations = act * F32
  const overhead = FIXED_OVERHEAD_BYTES
  return {
    batchSize: batch,
    chunk,
    parameters,
    trainable,
    bytes: { weights, optimizer, gradients, activations, overhead, total: weights + optimizer + gradients + activations + overhead },
    largestTensor: { bytes: largest.floats * F32, what: largest.what }
  }
}

/** What the engine's backend allows. */
export interface MemoryLimit {
  backend: string
  /** Total bytes a step may use, or null when the backend does not say (a hardware GPU). */
  totalBytes: number | null
  /** Where the total comes from, in words. */
  totalLabel: string
  /** Bytes one tensor may have, or null for no limit. */
  tensorBytes: number | null
  tensorLabel: string
}

/** wasm32: the heap can grow to 4 GiB (tfjs-backend-wasm is built with that maximum). */
export const WASM_HEAP_BYTES = 4 * 2 ** 30

export interface GpuLimits {
  maxBufferSize: number
  maxStorageBufferBindingSize: number
}

/** The limit of a backend ('wasm', 'webgpu', 'tensorflow', 'cpu', …); systemBytes: the machine's RAM. */
export function memoryLimit(backend: string, systemBytes: number, gpu?: { software: boolean; limits: GpuLimits } | null): MemoryLimit {
  if (backend === 'wasm') {
    return { backend, totalBytes: WASM_HEAP_BYTES, totalLabel: 'the WebAssembly backend allows a 4 GiB heap', tensorBytes: WASM_HEAP_BYTES, tensorLabel: 'the 4 GiB WebAssembly heap' }
  }
  if (backend === 'webgpu' && gpu) {
    const tensor = Math.min(gpu.limits.maxBufferSize, gpu.limits.maxStorageBufferBindingSize)
    const tensorLabel = `this adapter binds at most ${formatBytes(gpu.limits.maxStorageBufferBindingSize)} per buffer (maxStorageBufferBindingSize; maxBufferSize ${formatBytes(gpu.limits.maxBufferSize)})`
    // WebGPU does not report a GPU's memory; a software adapter (lavapipe, SwiftShader) uses RAM.
    if (gpu.software) return { backend, totalBytes: systemBytes, totalLabel: `this software adapter uses system memory (${formatBytes(systemBytes)})`, tensorBytes: tensor, tensorLabel }
    return { backend, totalBytes: null, totalLabel: 'WebGPU does not report the GPU memory size', tensorBytes: tensor, tensorLabel }
  }
  return { backend, totalBytes: systemBytes, totalLabel: `this machine has ${formatBytes(systemBytes)} of memory`, tensorBytes: null, tensorLabel: '' }
}

export interface MemoryVerdict {
  estimate: MemoryEstimate
  limit: MemoryLimit
  fits: boolean
  /** The largest batch whose estimate fits (0: not even one image), or null when nothing limits it. */
  maxBatch: number | null
  /** One plain sentence: the estimate, and when it does not fit, why and what fits. */
  message: string
}

/** Largest batch in [1, upTo] that fits `limit` (the estimate grows with the batch), or 0. */
export function largestBatch(arch: MemoryArch, run: MemoryRun, limit: MemoryLimit, upTo: number): number {
  const fits = (b: number) => {
    const e = estimateTrainingMemory(arch, { ...run, batchSize: b, microBatch: run.microBatch ? Math.min(run.microBatch, b) : undefined })
    return (limit.totalBytes === null || e.bytes.total <= limit.totalBytes) && (limit.tensorBytes === null || e.largestTensor.bytes <= limit.tensorBytes)
  }
  if (!fits(1)) return 0
  let lo = 1
  let hi = upTo
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(mid)) lo = mid
    else hi = mid - 1
  }
  return lo
}

export function checkTrainingMemory(arch: MemoryArch, run: MemoryRun, limit: MemoryLimit): MemoryVerdict {
  const estimate = estimateTrainingMemory(arch, run)
  const img = run.imgSize ?? arch.img_size
  const what = `batch ${run.batchSize}${estimate.chunk < run.batchSize ? ` (micro-batches of ${estimate.chunk})` : ''} at ${img}²`
  const overTotal = limit.totalBytes !== null && estimate.bytes.total > limit.totalBytes
  const overTensor = limit.tensorBytes !== null && estimate.largestTensor.bytes > limit.tensorBytes
  const bounded = limit.totalBytes !== null || limit.tensorBytes !== null
  // Search a little past the requested batch so a fitting run also says how much room is left.
  const maxBatch = bounded ? largestBatch(arch, run, limit, Math.max(run.batchSize * 4, 8)) : null
  const fitsHint = maxBatch === null ? '' : maxBatch === 0 ? '; not even batch 1 fits: use a smaller image size or model' : `; the largest batch that fits is about ${maxBatch}${run.microBatch ? '' : ' (or set a micro-batch to accumulate gradients)'}`
  let message: string
  if (overTotal) {
    message = `${what} needs about ${formatBytes(estimate.bytes.total)}; ${limit.totalLabel}${fitsHint}`
  } else if (overTensor) {
    message = `${what} needs one tensor of about ${formatBytes(estimate.largestTensor.bytes)} (${estimate.largestTensor.what}); ${limit.tensorLabel}${fitsHint}`
  } else {
    message = `${what} needs about ${formatBytes(estimate.bytes.total)}${limit.totalBytes !== null ? ` of ${formatBytes(limit.totalBytes)} (${limit.totalLabel})` : ` (${limit.totalLabel})`}`
  }
  return { estimate, limit, fits: !overTotal && !overTensor, maxBatch, message }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GB`
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)} MB`
  return `${Math.max(1, Math.round(bytes / 2 ** 10))} KB`
}

/** A run refused because its estimate does not fit the backend (before anything is allocated). */
export class MemoryLimitError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MemoryLimitError'
  }
}

/** The estimate's view of a run config (RunConfig's fields; numClasses when the data is listed). */
export function memoryRunOf(
  cfg: { task: MemoryTask; batchSize: number; microBatch?: number | undefined; maskRatio: number; imgSize?: number | undefined; freezeBackbone?: boolean | undefined; freezeBlocks?: number | undefined; segmentation?: { neckDim?: number | undefined; headChannels: number; numClasses: number; auxHead: boolean } | undefined },
  numClasses?: number
): MemoryRun {
  return {
    task: cfg.task,
    batchSize: cfg.batchSize,
    microBatch: cfg.microBatch,
    maskRatio: cfg.maskRatio,
    imgSize: cfg.imgSize,
    freezeBackbone: cfg.freezeBackbone,
    freezeBlocks: cfg.freezeBlocks,
    numClasses,
    segmentation: cfg.task === 'segmentation' ? (cfg.segmentation ?? { headChannels: 256, numClasses: 2, auxHead: false }) : undefined
  }
}

// Fused WGSL kernels for the WebGPU backend. A training step on tfjs-backend-webgpu is bound by the
// fixed CPU cost of each dispatched op (tfjs-core's engine bookkeeping + the backend's shader key,
// uniform buffer, bind group and pass encoding; 3.9 µs for a tiny add on an H200 host), not
// by GPU time, so the ops the model runs most often are written here as one program each instead of
// chains of 5-14 elementwise / reduction ops:
//   LayerNorm: forward = one row-wise program (workgroup reductions) writing y and the row
//     statistics; backward = dx (row-wise reductions) + dw and db (column sums). ~23 ops -> 3 dispatches
//   GELU (exact, erf): forward 1, backward 1.                              ~15 ops -> 2 dispatches
//   Adam / AdamW: m and v of a parameter packed in one [2n] state tensor; one program writes the new
//     parameter and state (recorded directly: two writable bindings).    ~10-14 ops -> 1 dispatch
//   Row gather by index (-1 gives a zero row): MAE masking's keep / restore and their gradients, in
//     place of one-hot permutation matmuls.
//   Attention layout (qkv -> heads, heads -> tokens) and the softmax backward, for a fused
//     attention core (model/ops.ts attentionCore): ~25 dispatches per block -> 14.
// Each program runs through the backend's own runWebGPUProgram (pipeline cache, buffer manager,
// batched submits; programs with two outputs record their dispatch themselves, see recordDirect), registered as a
// tfjs kernel so tf.tidy, tf.memory and tf.profile see it. The
// model code calls these only when fusedWebGpu(tf) is true; every other backend keeps its ops.
// Tests: tests/unit/webgpu/ (each kernel against the unfused ops on the same adapter).

import type { DataType, KernelConfig, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core'
import type { Tf } from './backend'

/** The slice of tfjs-backend-webgpu's WebGPUProgram interface these programs fill in. */
interface Program {
  outputShape: number[]
  shaderKey: string
  dispatchLayout: { x: number[] }
  dispatch: [number, number, number]
  workgroupSize: [number, number, number]
  variableNames: string[]
  uniforms?: string
  size?: boolean
  getUserCode(): string
}

type Uniform = { type: 'float32' | 'int32'; data: number[] }

interface WebGpuBackendLike {
  runWebGPUProgram(program: Program, inputs: TensorInfo[], dtype: DataType, uniforms?: Uniform[]): TensorInfo
}

let enabled = true
let directDispatch = true

/** Turns the fused kernels off (benchmarks and tests compare against the stock ops). */
export function setFusedWebGpuKernels(on: boolean): void {
  enabled = on
}

/**
 * Programs with two outputs (Adam, LayerNorm forward, LayerNorm dw + db) recorded directly, or as
 * two programs each through runWebGPUProgram (the fallback; tests compare both).
 */
export function setDirectDispatch(on: boolean): void {
  directDispatch = on
}

/** True when the active backend is WebGPU and the fused kernels are enabled. */
export function fusedWebGpu(tf: Tf): boolean {
  return enabled && tf.getBackend() === 'webgpu'
}

// Flat elementwise programs: one thread per element.
const FLAT_WG = 64
// Row programs: one workgroup per row; threads stride the row, then a tree reduction in workgroup memory.
const ROW_WG = 64
// Column sums: 32 adjacent columns x 8 row lanes per workgroup, so loads are contiguous.
const COL_W = 32
const COL_LANES = 8

function flatProgram(key: string, vars: string[], shape: number[], uniforms: string, body: string, n: number): Program {
  return {
    outputShape: shape,
    shaderKey: key,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(n / FLAT_WG), 1, 1],
    workgroupSize: [FLAT_WG, 1, 1],
    variableNames: vars,
    uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        ${body}
      }`
  }
}

/** Index of this workgroup, robust to the backend reshaping a long 1-D dispatch into 2-D / 3-D. */
const WORKGROUP_INDEX = 'i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x)'

function rowProgram(key: string, vars: string[], shape: number[], rows: number, uniforms: string, code: string): Program {
  return {
    outputShape: shape,
    shaderKey: key,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [ROW_WG, 1, 1],
    variableNames: vars,
    uniforms,
    getUserCode: () => code
  }
}

/**
 * A row's sum across the workgroup (tree reduction in workgroup memory). Every invocation calls it
 * (barriers need uniform control flow); the last barrier lets all read the total before the next
 * reduction overwrites it.
 */
const ROW_SUM = `
  var<workgroup> red : array<f32, ${ROW_WG}>;
  fn reduceSum(v : f32, lid : u32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
      if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
      workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
  }`

// ---------------------------------------------------------------------------------------------
// LayerNorm. x is viewed as [rows, cols]; statistics are [rows, 2] = (mean, 1/sqrt(var + eps)),
// biased variance, two passes (mean first, then the centred squares) as the unfused ops do.

const LN_STATS = `
  ${ROW_SUM}
  fn main(index : i32) {
    // No early return for surplus workgroups: barriers need uniform control flow, and WGSL does not
    // treat the (private copy of the) workgroup id as uniform. They redo the last row and write nothing.
    let row = ${WORKGROUP_INDEX};
    let valid = row < uniforms.rows;
    let lid = localId.x;
    let base = min(row, uniforms.rows - 1) * uniforms.cols;
    var acc = 0.0;
    for (var c = i32(lid); c < uniforms.cols; c = c + ${ROW_WG}) { acc = acc + X[base + c]; }
    let mean = reduceSum(acc, lid) / f32(uniforms.cols);
    var acc2 = 0.0;
    for (var c = i32(lid); c < uniforms.cols; c = c + ${ROW_WG}) { let d = X[base + c] - mean; acc2 = acc2 + d * d; }
    let variance = reduceSum(acc2, lid) / f32(uniforms.cols);
    if (lid == 0u && valid) {
      result[row * 2] = mean;
      result[row * 2 + 1] = 1.0 / sqrt(variance + uniforms.eps);
    }
  }`

function lnStats(backend: WebGpuBackendLike, x: TensorInfo, rows: number, cols: number, eps: number): TensorInfo {
  const p = rowProgram('marsfm_ln_stats', ['X'], [rows, 2], rows, 'rows : i32, cols : i32, eps : f32,', LN_STATS)
  return backend.runWebGPUProgram(p, [x], 'float32', [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [cols] },
    { type: 'float32', data: [eps] }
  ])
}

function lnAffine(backend: WebGpuBackendLike, x: TensorInfo, stats: TensorInfo, w: TensorInfo, b: TensorInfo, cols: number): TensorInfo {
  const n = x.shape.reduce((a, d) => a * d, 1)
  const body = `
    if (index < uniforms.n) {
      let row = index / uniforms.cols;
      let c = index - row * uniforms.cols;
      let xhat = (X[index] - S[row * 2]) * S[row * 2 + 1];
      result[index] = xhat * W[c] + B[c];
    }`
  const p = flatProgram('marsfm_ln_affine', ['X', 'S', 'W', 'B'], x.shape, 'n : i32, cols : i32,', body, n)
  return backend.runWebGPUProgram(p, [x, stats, w, b], 'float32', [
    { type: 'int32', data: [n] },
    { type: 'int32', data: [cols] }
  ])
}

// dx = (g - mean(g) - xhat * mean(g * xhat)) * rstd with g = dy * w, per row.
const LN_DX = `
  var<workgroup> red : array<vec2<f32>, ${ROW_WG}>;
  fn main(index : i32) {
    let valid = ${WORKGROUP_INDEX} < uniforms.rows; // see LN_STATS: surplus workgroups only skip the writes
    let row = min(${WORKGROUP_INDEX}, uniforms.rows - 1);
    let lid = localId.x;
    let base = row * uniforms.cols;
    let mean = S[row * 2];
    let rstd = S[row * 2 + 1];
    var acc = vec2<f32>(0.0, 0.0);
    for (var c = i32(lid); c < uniforms.cols; c = c + ${ROW_WG}) {
      let g = DY[base + c] * W[c];
      let xhat = (X[base + c] - mean) * rstd;
      acc = acc + vec2<f32>(g, g * xhat);
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
      if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
      workgroupBarrier();
    }
    let m = red[0] / f32(uniforms.cols);
    for (var c = i32(lid); c < uniforms.cols; c = c + ${ROW_WG}) {
      let g = DY[base + c] * W[c];
      let xhat = (X[base + c] - mean) * rstd;
      if (valid) { result[base + c] = (g - m.x - xhat * m.y) * rstd; }
    }
  }`

function lnDx(backend: WebGpuBackendLike, dy: TensorInfo, x: TensorInfo, stats: TensorInfo, w: TensorInfo, rows: number, cols: number): TensorInfo {
  const p = rowProgram('marsfm_ln_dx', ['DY', 'X', 'S', 'W'], x.shape, rows, 'rows : i32, cols : i32,', LN_DX)
  return backend.runWebGPUProgram(p, [dy, x, stats, w], 'float32', [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [cols] }
  ])
}

/** Column sums over rows of dy * xhat (withXhat) or of dy: dw and db of LayerNorm. */
function lnColumnSum(backend: WebGpuBackendLike, inputs: TensorInfo[], rows: number, cols: number, withXhat: boolean): TensorInfo {
  const term = withXhat ? 'DY[i] * ((X[i] - S[r * 2]) * S[r * 2 + 1])' : 'DY[i]'
  const code = `
    var<workgroup> red : array<f32, ${COL_W * COL_LANES}>;
    fn main(index : i32) {
      let lid = localId.x;
      let lc = i32(lid % ${COL_W}u);
      let lane = i32(lid / ${COL_W}u);
      let col = ${WORKGROUP_INDEX} * ${COL_W} + lc;
      var acc = 0.0;
      if (col < uniforms.cols) {
        for (var r = lane; r < uniforms.rows; r = r + ${COL_LANES}) {
          let i = r * uniforms.cols + col;
          acc = acc + ${term};
        }
      }
      red[lid] = acc;
      workgroupBarrier();
      for (var s = ${COL_LANES / 2}u; s > 0u; s = s >> 1u) {
        if (lane < i32(s)) { red[lid] = red[lid] + red[lid + s * ${COL_W}u]; }
        workgroupBarrier();
      }
      if (lane == 0 && col < uniforms.cols) { result[col] = red[lid]; }
    }`
  const p: Program = {
    outputShape: [cols],
    shaderKey: withXhat ? 'marsfm_ln_dw' : 'marsfm_ln_db',
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(cols / COL_W), 1, 1],
    workgroupSize: [COL_W * COL_LANES, 1, 1],
    variableNames: withXhat ? ['DY', 'X', 'S'] : ['DY'],
    uniforms: 'rows : i32, cols : i32,',
    getUserCode: () => code
  }
  return backend.runWebGPUProgram(p, inputs, 'float32', [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [cols] }
  ])
}

// ---------------------------------------------------------------------------------------------
// GELU. WGSL has no erf: Phi(x) = 0.5 * erfc(-x / sqrt(2)) with the Chebyshev fit of erfc from
// Numerical Recipes (erfcc: fractional error < 1.2e-7 for every argument), so the left tail keeps
// its relative accuracy and Phi's absolute error stays below ~1.2e-7. Measured on lavapipe against a
// float64 reference over [-8, 8]: GELU abs error < 1e-6 (mostly fp32 rounding of x * Phi), see
// tests/unit/webgpu/fused-kernels.test.ts.

const PHI = `
  fn erfcPos(z : f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp(-z * z + poly);
  }
  fn phiCdf(x : f32) -> f32 {
    let z = x * 0.70710678118654752;
    let e = erfcPos(abs(z));
    return select(1.0 - 0.5 * e, 0.5 * e, z < 0.0);
  }`

function geluForward(backend: WebGpuBackendLike, x: TensorInfo): TensorInfo {
  const n = x.shape.reduce((a, d) => a * d, 1)
  const p = flatProgram('marsfm_gelu', ['X'], x.shape, 'n : i32,', `if (index < uniforms.n) { let v = X[index]; result[index] = v * phiCdf(v); }`, n)
  const inner = p.getUserCode
  p.getUserCode = () => PHI + inner()
  return backend.runWebGPUProgram(p, [x], 'float32', [{ type: 'int32', data: [n] }])
}

function geluBackward(backend: WebGpuBackendLike, dy: TensorInfo, x: TensorInfo): TensorInfo {
  const n = x.shape.reduce((a, d) => a * d, 1)
  const body = `
    if (index < uniforms.n) {
      let v = X[index];
      let pdf = exp(-0.5 * v * v) * 0.3989422804014327;
      result[index] = DY[index] * (phiCdf(v) + v * pdf);
    }`
  const p = flatProgram('marsfm_gelu_grad', ['DY', 'X'], x.shape, 'n : i32,', body, n)
  const inner = p.getUserCode
  p.getUserCode = () => PHI + inner()
  return backend.runWebGPUProgram(p, [dy, x], 'float32', [{ type: 'int32', data: [n] }])
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW (torch's update, the same arithmetic as optimizer.ts's unfused path). The moments of a
// parameter of n values live in one state tensor [2n] (m, then v), so one program updates both.

export interface AdamScalars {
  b1: number
  b2: number
  eps: number
  /** L2 term added to the gradient (Adam's weight decay); 0 for AdamW. */
  l2: number
  /** Multiplier of the parameter before the step (AdamW's decoupled decay 1 - lr * wd); 1 for Adam. */
  decay: number
  /** lr / (1 - b1^t). */
  stepSize: number
  /** sqrt(1 - b2^t). */
  bc2Sqrt: number
}

function adamMoments(backend: WebGpuBackendLike, g: TensorInfo, state: TensorInfo, param: TensorInfo, s: AdamScalars): TensorInfo {
  const n = g.shape.reduce((a, d) => a * d, 1)
  const l2 = s.l2 > 0
  const body = `
    if (index < uniforms.n) {
      var g = G[index];
      ${l2 ? 'g = g + P[index] * uniforms.l2;' : ''}
      result[index] = MV[index] * uniforms.b1 + g * uniforms.oneMinusB1;
      result[uniforms.n + index] = MV[uniforms.n + index] * uniforms.b2 + (g * g) * uniforms.oneMinusB2;
    }`
  const p = flatProgram(l2 ? 'marsfm_adam_moments_l2' : 'marsfm_adam_moments', l2 ? ['G', 'MV', 'P'] : ['G', 'MV'], [2 * n], 'n : i32, b1 : f32, oneMinusB1 : f32, b2 : f32, oneMinusB2 : f32, l2 : f32,', body, n)
  return backend.runWebGPUProgram(p, l2 ? [g, state, param] : [g, state], 'float32', [
    { type: 'int32', data: [n] },
    { type: 'float32', data: [s.b1] },
    { type: 'float32', data: [1 - s.b1] },
    { type: 'float32', data: [s.b2] },
    { type: 'float32', data: [1 - s.b2] },
    { type: 'float32', data: [s.l2] }
  ])
}

function adamParam(backend: WebGpuBackendLike, param: TensorInfo, state: TensorInfo, s: AdamScalars): TensorInfo {
  const n = param.shape.reduce((a, d) => a * d, 1)
  const body = `
    if (index < uniforms.n) {
      let denom = sqrt(MV[uniforms.n + index]) / uniforms.bc2Sqrt + uniforms.eps;
      result[index] = P[index] * uniforms.decay - (MV[index] / denom) * uniforms.stepSize;
    }`
  const p = flatProgram('marsfm_adam_param', ['P', 'MV'], param.shape, 'n : i32, decay : f32, bc2Sqrt : f32, eps : f32, stepSize : f32,', body, n)
  return backend.runWebGPUProgram(p, [param, state], 'float32', [
    { type: 'int32', data: [n] },
    { type: 'float32', data: [s.decay] },
    { type: 'float32', data: [s.bc2Sqrt] },
    { type: 'float32', data: [s.eps] },
    { type: 'float32', data: [s.stepSize] }
  ])
}

// One dispatch for the whole update: the program writes both the new parameter and the new state,
// which needs two writable bindings; runWebGPUProgram binds one output, so this records the dispatch
// itself, the way runWebGPUProgram does (tfjs-backend-webgpu 4.22: output buffers from the pool,
// uniforms through makeUniforms, the backend's command encoder, pass and deferred-submit count, ids
// marked as owned by the queue so their buffers are not reused before the submit). When those
// internals are missing (another tfjs version), the two-program path above runs instead.

interface RecordingBackend extends WebGpuBackendLike {
  device: GPUDevice
  commandEncoder: GPUCommandEncoder | null
  computePassEncoder: GPUComputePassEncoder | null
  dispatchCountInPass: number
  commandQueueOwnedIds: WeakSet<object>
  activeTimers: unknown
  makeTensorInfo(shape: number[], dtype: DataType): TensorInfo
  uploadToGPU(dataId: object): void
  tensorToBinding(t: TensorInfo): GPUBindingResource
  makeUniforms(u: Array<{ type: 'float32' | 'int32' | 'uint32'; data: number[] }>): GPUBindingResource
  ensureCommandEncoderReady(): void
  endComputePassEncoder(): void
  submitQueue(): void
}

function canRecord(b: WebGpuBackendLike): b is RecordingBackend {
  const r = b as Partial<RecordingBackend>
  return (
    typeof r.makeTensorInfo === 'function' &&
    typeof r.uploadToGPU === 'function' &&
    typeof r.tensorToBinding === 'function' &&
    typeof r.makeUniforms === 'function' &&
    typeof r.ensureCommandEncoderReady === 'function' &&
    typeof r.endComputePassEncoder === 'function' &&
    typeof r.submitQueue === 'function' &&
    r.commandQueueOwnedIds instanceof WeakSet &&
    typeof r.dispatchCountInPass === 'number' &&
    r.device !== undefined
  )
}

const ADAM_WG = 64
const ADAM_SHADER = (l2: boolean) => `
  struct U { n : u32, b1 : f32, oneMinusB1 : f32, b2 : f32, oneMinusB2 : f32, l2 : f32, decay : f32, bc2Sqrt : f32, eps : f32, stepSize : f32, };
  @group(0) @binding(0) var<storage, read_write> pOut : array<f32>;
  @group(0) @binding(1) var<storage, read_write> mvOut : array<f32>;
  @group(0) @binding(2) var<storage, read> P : array<f32>;
  @group(0) @binding(3) var<storage, read> G : array<f32>;
  @group(0) @binding(4) var<storage, read> MV : array<f32>;
  @group(0) @binding(5) var<uniform> u : U;
  @compute @workgroup_size(${ADAM_WG})
  fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * ${ADAM_WG}u;
    if (i >= u.n) { return; }
    var g = G[i];
    ${l2 ? 'g = g + P[i] * u.l2;' : ''}
    let m = MV[i] * u.b1 + g * u.oneMinusB1;
    let v = MV[u.n + i] * u.b2 + (g * g) * u.oneMinusB2;
    mvOut[i] = m;
    mvOut[u.n + i] = v;
    let denom = sqrt(v) / u.bc2Sqrt + u.eps;
    pOut[i] = P[i] * u.decay - (m / denom) * u.stepSize;
  }`

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>()

/** A compute pipeline for WGSL written in full (entry point `main`), compiled once per device. */
function pipelineFor(device: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let cache = pipelines.get(device)
  if (!cache) pipelines.set(device, (cache = new Map()))
  let p = cache.get(key)
  if (!p) {
    const module = device.createShaderModule({ code: code(), label: key })
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key })
    cache.set(key, p)
  }
  return p
}

type RecordUniform = { type: 'float32' | 'int32' | 'uint32'; data: number[] }

/**
 * Records one dispatch with several outputs: bindings are the outputs (read_write), then the inputs
 * (read), then the uniforms. `groups` workgroups along x, folded into y past the 65,535 limit (the
 * shaders index workgroups as x + y * num_workgroups.x).
 */
function recordDirect(backend: RecordingBackend, pipeline: GPUComputePipeline, outShapes: number[][], inputs: TensorInfo[], uniforms: RecordUniform[], groups: number): TensorInfo[] {
  const outputs = outShapes.map((shape) => backend.makeTensorInfo(shape, 'float32'))
  const all = [...outputs, ...inputs]
  for (const t of all) backend.uploadToGPU(t.dataId)
  const entries: GPUBindGroupEntry[] = all.map((t, i) => ({ binding: i, resource: backend.tensorToBinding(t) }))
  entries.push({ binding: all.length, resource: backend.makeUniforms(uniforms) })
  const bindGroup = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries })
  for (const t of all) backend.commandQueueOwnedIds.add(t.dataId)
  const x = Math.min(groups, 65535)
  backend.ensureCommandEncoderReady()
  if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder!.beginComputePass({})
  backend.computePassEncoder.setPipeline(pipeline)
  backend.computePassEncoder.setBindGroup(0, bindGroup)
  backend.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x), 1)
  backend.dispatchCountInPass++
  const timing = backend.activeTimers != null // tf.time / tf.profile: submit now as the backend does (untimed)
  if (timing || (tfEnvBatch ?? 15) <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder()
    backend.submitQueue()
  }
  return outputs
}

function adamSingleDispatch(backend: RecordingBackend, g: TensorInfo, state: TensorInfo, param: TensorInfo, s: AdamScalars): [TensorInfo, TensorInfo] {
  const n = g.shape.reduce((a, d) => a * d, 1)
  const l2 = s.l2 > 0
  const pipeline = pipelineFor(backend.device, l2 ? 'marsfm_adam_l2' : 'marsfm_adam', () => ADAM_SHADER(l2))
  const uniforms: RecordUniform[] = [
    { type: 'uint32', data: [n] },
    ...[s.b1, 1 - s.b1, s.b2, 1 - s.b2, s.l2, s.decay, s.bc2Sqrt, s.eps, s.stepSize].map((v) => ({ type: 'float32' as const, data: [v] }))
  ]
  return recordDirect(backend, pipeline, [param.shape, state.shape], [param, g, state], uniforms, Math.ceil(n / ADAM_WG)) as [TensorInfo, TensorInfo]
}

// LayerNorm forward in one program (y and the row statistics), and dw with db in one program.
const LN_FORWARD_SHADER = () => `
  struct U { rows : u32, cols : u32, eps : f32, };
  @group(0) @binding(0) var<storage, read_write> Y : array<f32>;
  @group(0) @binding(1) var<storage, read_write> S : array<f32>;
  @group(0) @binding(2) var<storage, read> X : array<f32>;
  @group(0) @binding(3) var<storage, read> W : array<f32>;
  @group(0) @binding(4) var<storage, read> B : array<f32>;
  @group(0) @binding(5) var<uniform> u : U;
  ${ROW_SUM}
  @compute @workgroup_size(${ROW_WG})
  fn main(@builtin(local_invocation_index) lid : u32, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
    let wg = wid.x + wid.y * nwg.x;
    let valid = wg < u.rows; // surplus workgroups of a folded dispatch redo the last row and write nothing
    let base = min(wg, u.rows - 1u) * u.cols;
    var acc = 0.0;
    for (var c = lid; c < u.cols; c = c + ${ROW_WG}u) { acc = acc + X[base + c]; }
    let mean = reduceSum(acc, lid) / f32(u.cols);
    var acc2 = 0.0;
    for (var c = lid; c < u.cols; c = c + ${ROW_WG}u) { let d = X[base + c] - mean; acc2 = acc2 + d * d; }
    let rstd = 1.0 / sqrt(reduceSum(acc2, lid) / f32(u.cols) + u.eps);
    if (!valid) { return; }
    for (var c = lid; c < u.cols; c = c + ${ROW_WG}u) { Y[base + c] = ((X[base + c] - mean) * rstd) * W[c] + B[c]; }
    if (lid == 0u) { S[wg * 2u] = mean; S[wg * 2u + 1u] = rstd; }
  }`

const LN_PARAM_GRAD_SHADER = () => `
  struct U { rows : u32, cols : u32, };
  @group(0) @binding(0) var<storage, read_write> DW : array<f32>;
  @group(0) @binding(1) var<storage, read_write> DB : array<f32>;
  @group(0) @binding(2) var<storage, read> DY : array<f32>;
  @group(0) @binding(3) var<storage, read> X : array<f32>;
  @group(0) @binding(4) var<storage, read> S : array<f32>;
  @group(0) @binding(5) var<uniform> u : U;
  var<workgroup> red : array<vec2<f32>, ${COL_W * COL_LANES}>;
  @compute @workgroup_size(${COL_W * COL_LANES})
  fn main(@builtin(local_invocation_index) lid : u32, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
    let lane = lid / ${COL_W}u;
    let col = (wid.x + wid.y * nwg.x) * ${COL_W}u + lid % ${COL_W}u;
    var acc = vec2<f32>(0.0, 0.0);
    if (col < u.cols) {
      for (var r = lane; r < u.rows; r = r + ${COL_LANES}u) {
        let i = r * u.cols + col;
        acc = acc + vec2<f32>(DY[i] * ((X[i] - S[r * 2u]) * S[r * 2u + 1u]), DY[i]);
      }
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var s = ${COL_LANES / 2}u; s > 0u; s = s >> 1u) {
      if (lane < s) { red[lid] = red[lid] + red[lid + s * ${COL_W}u]; }
      workgroupBarrier();
    }
    if (lane == 0u && col < u.cols) { DW[col] = red[lid].x; DB[col] = red[lid].y; }
  }`

function lnForwardDirect(backend: RecordingBackend, x: TensorInfo, w: TensorInfo, b: TensorInfo, eps: number): TensorInfo[] {
  const cols = x.shape[x.shape.length - 1]!
  const rows = x.shape.reduce((a, d) => a * d, 1) / cols
  const pipeline = pipelineFor(backend.device, 'marsfm_ln_forward', LN_FORWARD_SHADER)
  const u: RecordUniform[] = [
    { type: 'uint32', data: [rows] },
    { type: 'uint32', data: [cols] },
    { type: 'float32', data: [eps] }
  ]
  return recordDirect(backend, pipeline, [x.shape, [rows, 2]], [x, w, b], u, rows)
}

function lnParamGradDirect(backend: RecordingBackend, dy: TensorInfo, x: TensorInfo, stats: TensorInfo): TensorInfo[] {
  const cols = x.shape[x.shape.length - 1]!
  const rows = x.shape.reduce((a, d) => a * d, 1) / cols
  const pipeline = pipelineFor(backend.device, 'marsfm_ln_param_grad', LN_PARAM_GRAD_SHADER)
  const u: RecordUniform[] = [
    { type: 'uint32', data: [rows] },
    { type: 'uint32', data: [cols] }
  ]
  return recordDirect(backend, pipeline, [[cols], [cols]], [dy, x, stats], u, Math.ceil(cols / COL_W))
}

/** WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (the backend submits after that many dispatches), read on each call. */
let tfEnvBatch: number | undefined

// ---------------------------------------------------------------------------------------------
// Row gather: x [N, L, D], idx [N, R] int32 -> out [N, R, D], out[s, r] = x[s, idx[s, r]], or a
// zero row where idx is -1. Keep, restore and both their gradients are gathers of this form.

function gatherRows(backend: WebGpuBackendLike, x: TensorInfo, idx: TensorInfo): TensorInfo {
  const [n, l, d] = x.shape as [number, number, number]
  const r = idx.shape[1]!
  const total = n * r * d
  const body = `
    if (index < uniforms.total) {
      let row = index / uniforms.d;
      let c = index - row * uniforms.d;
      let s = row / uniforms.r;
      let src = I[row];
      result[index] = select(0.0, X[(s * uniforms.l + max(src, 0)) * uniforms.d + c], src >= 0);
    }`
  const p = flatProgram('marsfm_gather_rows', ['X', 'I'], [n, r, d], 'total : i32, d : i32, r : i32, l : i32,', body, total)
  return backend.runWebGPUProgram(p, [x, idx], 'float32', [
    { type: 'int32', data: [total] },
    { type: 'int32', data: [d] },
    { type: 'int32', data: [r] },
    { type: 'int32', data: [l] }
  ])
}

// ---------------------------------------------------------------------------------------------
// Attention layout changes. qkv rows hold columns (part, head, j) (timm's qkv Linear); heads are
// [N*H, S, hd]. Split: one part of [N, S, width] to heads (times a scale, 1/sqrt(hd) for q); merge:
// 1 or 3 head tensors back to [N, S, k*H*hd] (the first scaled: q's gradient). Each replaces a
// slice + transpose (+ mul) or transposes + concat.

function headSplit(backend: WebGpuBackendLike, src: TensorInfo, n: number, s: number, width: number, dModel: number, heads: number, part: number, scale: number): TensorInfo {
  const hd = dModel / heads
  const total = n * s * dModel
  const body = `
    if (index < uniforms.total) {
      let j = index % uniforms.hd;
      let t = (index / uniforms.hd) % uniforms.s;
      let bh = index / (uniforms.hd * uniforms.s);
      let h = bh % uniforms.heads;
      let b = bh / uniforms.heads;
      result[index] = X[(b * uniforms.s + t) * uniforms.width + uniforms.offset + h * uniforms.hd + j] * uniforms.scale;
    }`
  const p = flatProgram('marsfm_head_split', ['X'], [n * heads, s, hd], 'total : i32, hd : i32, s : i32, heads : i32, width : i32, offset : i32, scale : f32,', body, total)
  return backend.runWebGPUProgram(p, [src], 'float32', [
    { type: 'int32', data: [total] },
    { type: 'int32', data: [hd] },
    { type: 'int32', data: [s] },
    { type: 'int32', data: [heads] },
    { type: 'int32', data: [width] },
    { type: 'int32', data: [part * dModel] },
    { type: 'float32', data: [scale] }
  ])
}

function headMerge(backend: WebGpuBackendLike, parts: TensorInfo[], heads: number, scaleFirst: number): TensorInfo {
  const [nh, s, hd] = parts[0]!.shape as [number, number, number]
  const n = nh / heads
  const dModel = heads * hd
  const k = parts.length
  const total = n * s * k * dModel
  const names = ['A', 'B', 'C'].slice(0, k)
  const pick = k === 1 ? 'A[src] * uniforms.scale' : 'select(select(C[src], B[src], part == 1), A[src] * uniforms.scale, part == 0)'
  const body = `
    if (index < uniforms.total) {
      let col = index % (${k} * uniforms.dModel);
      let row = index / (${k} * uniforms.dModel);
      let part = col / uniforms.dModel;
      let h = (col % uniforms.dModel) / uniforms.hd;
      let j = col % uniforms.hd;
      let b = row / uniforms.s;
      let t = row % uniforms.s;
      let src = ((b * uniforms.heads + h) * uniforms.s + t) * uniforms.hd + j;
      result[index] = ${pick};
    }`
  const p = flatProgram(`marsfm_head_merge${k}`, names, [n, s, k * dModel], 'total : i32, dModel : i32, hd : i32, s : i32, heads : i32, scale : f32,', body, total)
  return backend.runWebGPUProgram(p, parts, 'float32', [
    { type: 'int32', data: [total] },
    { type: 'int32', data: [dModel] },
    { type: 'int32', data: [hd] },
    { type: 'int32', data: [s] },
    { type: 'int32', data: [heads] },
    { type: 'float32', data: [scaleFirst] }
  ])
}

// Softmax backward per row: dx = y * (dy - sum(dy * y)).
const SOFTMAX_GRAD = `
  ${ROW_SUM}
  fn main(index : i32) {
    let valid = ${WORKGROUP_INDEX} < uniforms.rows; // see LN_STATS
    let row = min(${WORKGROUP_INDEX}, uniforms.rows - 1);
    let lid = localId.x;
    let base = row * uniforms.cols;
    var acc = 0.0;
    for (var c = i32(lid); c < uniforms.cols; c = c + ${ROW_WG}) { acc = acc + DY[base + c] * Y[base + c]; }
    let dot = reduceSum(acc, lid);
    for (var c = i32(lid); c < uniforms.cols; c = c + ${ROW_WG}) {
      if (valid) { result[base + c] = Y[base + c] * (DY[base + c] - dot); }
    }
  }`

function softmaxGrad(backend: WebGpuBackendLike, y: TensorInfo, dy: TensorInfo): TensorInfo {
  const cols = y.shape[y.shape.length - 1]!
  const rows = y.shape.reduce((a, d) => a * d, 1) / cols
  const p = rowProgram('marsfm_softmax_grad', ['Y', 'DY'], y.shape, rows, 'rows : i32, cols : i32,', SOFTMAX_GRAD)
  return backend.runWebGPUProgram(p, [y, dy], 'float32', [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [cols] }
  ])
}

// ---------------------------------------------------------------------------------------------
// Registration as tfjs kernels (backend 'webgpu' only).

const K = {
  lnForward: 'MarsfmLayerNorm',
  lnBackward: 'MarsfmLayerNormGrad',
  gelu: 'MarsfmGelu',
  geluGrad: 'MarsfmGeluGrad',
  adam: 'MarsfmAdam',
  gather: 'MarsfmGatherRows',
  headSplit: 'MarsfmHeadSplit',
  headMerge: 'MarsfmHeadMerge',
  softmaxGrad: 'MarsfmSoftmaxGrad',
  columnSum: 'MarsfmColumnSum'
} as const

type KFunc = (inputs: Record<string, TensorInfo>, backend: WebGpuBackendLike, attrs: NamedAttrMap) => TensorInfo | TensorInfo[]

const KERNELS: Record<string, KFunc> = {
  // outputs [y, stats]
  [K.lnForward]: ({ x, w, b }, backend, attrs) => {
    if (directDispatch && canRecord(backend)) return lnForwardDirect(backend, x!, w!, b!, attrs.eps as number)
    const cols = x!.shape[x!.shape.length - 1]!
    const rows = x!.shape.reduce((a, d) => a * d, 1) / cols
    const stats = lnStats(backend, x!, rows, cols, attrs.eps as number)
    return [lnAffine(backend, x!, stats, w!, b!, cols), stats]
  },
  // outputs [dx, dw, db]
  [K.lnBackward]: ({ dy, x, stats, w }, backend) => {
    const cols = x!.shape[x!.shape.length - 1]!
    const rows = x!.shape.reduce((a, d) => a * d, 1) / cols
    if (directDispatch && canRecord(backend)) return [lnDx(backend, dy!, x!, stats!, w!, rows, cols), ...lnParamGradDirect(backend, dy!, x!, stats!)]
    return [lnDx(backend, dy!, x!, stats!, w!, rows, cols), lnColumnSum(backend, [dy!, x!, stats!], rows, cols, true), lnColumnSum(backend, [dy!], rows, cols, false)]
  },
  [K.gelu]: ({ x }, backend) => geluForward(backend, x!),
  [K.geluGrad]: ({ dy, x }, backend) => geluBackward(backend, dy!, x!),
  // outputs [param', state']
  [K.adam]: ({ g, state, param }, backend, attrs) => {
    const s = attrs as unknown as AdamScalars
    if (directDispatch && canRecord(backend)) return adamSingleDispatch(backend, g!, state!, param!, s)
    const next = adamMoments(backend, g!, state!, param!, s)
    return [adamParam(backend, param!, next, s), next]
  },
  [K.gather]: ({ x, idx }, backend) => gatherRows(backend, x!, idx!),
  [K.headSplit]: ({ x }, backend, attrs) => {
    const [n, s, width] = x!.shape as [number, number, number]
    return headSplit(backend, x!, n, s, width, attrs.dModel as number, attrs.heads as number, attrs.part as number, attrs.scale as number)
  },
  [K.headMerge]: (inputs, backend, attrs) => headMerge(backend, ['a', 'b', 'c'].map((k) => inputs[k]).filter((t): t is TensorInfo => t !== undefined), attrs.heads as number, attrs.scale as number),
  [K.softmaxGrad]: ({ y, dy }, backend) => softmaxGrad(backend, y!, dy!),
  [K.columnSum]: ({ x }, backend) => lnColumnSum(backend, [x!], x!.shape[0]!, x!.shape[1]!, false)
}

function ensureRegistered(tf: Tf): void {
  for (const [name, fn] of Object.entries(KERNELS)) {
    if (tf.getKernel(name, 'webgpu')) continue
    tf.registerKernel({
      kernelName: name,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => fn(inputs as Record<string, TensorInfo>, backend as unknown as WebGpuBackendLike, attrs ?? {})
    } as KernelConfig)
  }
}

function run(tf: Tf, name: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap = {}): Tensor[] {
  ensureRegistered(tf)
  tfEnvBatch = tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')
  const out = tf.engine().runKernel(name, inputs, attrs)
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor]
}

/** LayerNorm forward: y (shape of x) and the row statistics [rows, 2] the backward needs. */
export function webgpuLayerNorm(tf: Tf, x: Tensor, w: Tensor, b: Tensor, eps: number): { y: Tensor; stats: Tensor } {
  const [y, stats] = run(tf, K.lnForward, { x, w, b }, { eps }) as [Tensor, Tensor]
  return { y, stats }
}

/** LayerNorm backward: dx, dw, db. */
export function webgpuLayerNormGrad(tf: Tf, dy: Tensor, x: Tensor, stats: Tensor, w: Tensor): [Tensor, Tensor, Tensor] {
  return run(tf, K.lnBackward, { dy, x, stats, w }) as [Tensor, Tensor, Tensor]
}

export function webgpuGelu(tf: Tf, x: Tensor): Tensor {
  return run(tf, K.gelu, { x })[0]!
}

export function webgpuGeluGrad(tf: Tf, dy: Tensor, x: Tensor): Tensor {
  return run(tf, K.geluGrad, { dy, x })[0]!
}

/** One Adam / AdamW step of one parameter: the new parameter and the new moment state [2n]. */
export function webgpuAdamStep(tf: Tf, param: Tensor, g: Tensor, state: Tensor, s: AdamScalars): { param: Tensor; state: Tensor } {
  const [p, st] = run(tf, K.adam, { g, state, param }, { ...s } as unknown as NamedAttrMap) as [Tensor, Tensor]
  return { param: p, state: st }
}

/** out[s, r] = x[s, idx[s, r]] (zero row where idx is -1): x [N, L, D], idx int32 [N, R]. */
export function webgpuGatherRows(tf: Tf, x: Tensor, idx: Tensor): Tensor {
  return run(tf, K.gather, { x, idx })[0]!
}

/** Part `part` (0 q, 1 k, 2 v; 0 for a plain [N, S, dModel]) of x [N, S, width] as heads [N*H, S, hd], times `scale`. */
export function webgpuHeadSplit(tf: Tf, x: Tensor, heads: number, dModel: number, part: number, scale = 1): Tensor {
  return run(tf, K.headSplit, { x }, { heads, dModel, part, scale })[0]!
}

/** Heads [N*H, S, hd] (1 or 3 of them) back to [N, S, k*H*hd]; the first is multiplied by `scaleFirst`. */
export function webgpuHeadMerge(tf: Tf, parts: Tensor[], heads: number, scaleFirst = 1): Tensor {
  const inputs: Record<string, Tensor> = {}
  parts.forEach((t, i) => (inputs['abc'[i]!] = t))
  return run(tf, K.headMerge, inputs, { heads, scale: scaleFirst })[0]!
}

/** Softmax gradient over the last axis from its output y: y * (dy - sum(dy * y)). */
export function webgpuSoftmaxGrad(tf: Tf, y: Tensor, dy: Tensor): Tensor {
  return run(tf, K.softmaxGrad, { y, dy })[0]!
}

/** Column sums of x [rows, cols] in one program (tfjs's sum over axis 0 transposes first: two). */
export function webgpuColumnSum(tf: Tf, x: Tensor): Tensor {
  return run(tf, K.columnSum, { x })[0]!
}

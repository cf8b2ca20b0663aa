// The hand-off format between checkpoint readers, the tfjs model and the ONNX exporter:
// plain float32 arrays keyed by the checkpoint's own weight names (`blocks.3.attn.qkv.weight`).
// PyTorch layouts are kept as they are (Linear weight [out, in], Conv3d [out, in, t, h, w]);
// each consumer transposes what it needs.

export interface WeightTensor {
  shape: number[]
  data: Float32Array
}

export type WeightMap = Map<string, WeightTensor>

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

export function getWeight(weights: WeightMap, name: string, shape?: readonly number[]): WeightTensor {
  const w = weights.get(name)
  if (!w) throw new Error(`missing weight "${name}"`)
  if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))) {
    throw new Error(`weight "${name}" has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`)
  }
  return w
}

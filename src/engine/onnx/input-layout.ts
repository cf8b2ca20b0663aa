// The layout of an exported graph's image input, per family: the MAE family (MOMO, the original
// facebookresearch MAE) takes a plain image batch [N, C, H, W] as its users feed it in PyTorch;
// the Prithvi families take a video batch [N, C, T, H, W] with T = 1 here. Exporters declare the
// input with `pixelsDims`; consumers shape their feeds from the graph they opened (`pixelsShape`),
// so a graph cached before the MAE family went 4-D still runs.
import { isMaeConfig, type ModelConfig } from '@shared/models/mae'
import type { Dim } from './onnx-proto'
import type { OnnxSession } from './runtime'

/** The declared shape of the `pixels` input for this family, batch dimension `batch`. */
export function pixelsDims(cfg: ModelConfig, batch: Dim): Dim[] {
  const side = cfg.img_size
  return isMaeConfig(cfg) ? [batch, cfg.in_chans, side, side] : [batch, cfg.in_chans, cfg.num_frames, side, side]
}

/** The rank the opened graph declares for an input (4 or 5 for `pixels`), read from ONNX Runtime's metadata. */
export function inputRank(session: Pick<OnnxSession, 'handle'>, name: string): number {
  const meta = session.handle.inputMetadata.find((m) => m.name === name)
  if (!meta) throw new Error(`the ONNX graph has no input "${name}" (inputs: ${session.handle.inputNames.join(', ')})`)
  if (!meta.isTensor || !meta.shape.length) throw new Error(`the ONNX graph's input "${name}" declares no tensor shape`)
  return meta.shape.length
}

/**
 * The feed shape of n single-frame images [C, S, S] for the graph's `pixels` input: [n, C, S, S]
 * where it is 4-D, [n, C, 1, S, S] where it is 5-D. The values are laid out alike either way.
 */
export function pixelsShape(session: Pick<OnnxSession, 'handle'>, n: number, C: number, S: number, name = 'pixels'): number[] {
  const rank = inputRank(session, name)
  if (rank === 4) return [n, C, S, S]
  if (rank === 5) return [n, C, 1, S, S]
  throw new Error(`the ONNX graph's input "${name}" is ${rank}-D; expected [N, C, H, W] or [N, C, T, H, W]`)
}

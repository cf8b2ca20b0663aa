// The weight names of the official Prithvi MAE (encoder + decoder) and the shapes a
// PrithviConfig implies for them: the target every checkpoint is mapped onto.

import { numPatches, type PrithviConfig } from '../model/config'

/** Sin-cos position tables: recomputed for the chosen num_frames, never loaded. */
export const FIXED_BUFFERS: ReadonlySet<string> = new Set(['pos_embed', 'decoder_pos_embed'])

const BLOCK_PARTS = '(norm1|norm2|attn\\.qkv|attn\\.proj|mlp\\.fc1|mlp\\.fc2)\\.(weight|bias)'
const ENCODER_NAME = new RegExp(`^(cls_token|pos_embed|patch_embed\\.proj\\.(weight|bias)|norm\\.(weight|bias)|blocks\\.\\d+\\.${BLOCK_PARTS})$`)
const DECODER_NAME = new RegExp(
  `^(mask_token|decoder_pos_embed|decoder_embed\\.(weight|bias)|decoder_norm\\.(weight|bias)|decoder_pred\\.(weight|bias)|decoder_blocks\\.\\d+\\.${BLOCK_PARTS})$`
)

/** Whether a name has the form of a Prithvi MAE weight (any block index). */
export function isPrithviName(name: string): boolean {
  return ENCODER_NAME.test(name) || DECODER_NAME.test(name)
}

export function isDecoderName(name: string): boolean {
  return DECODER_NAME.test(name)
}

function addBlock(out: Map<string, number[]>, prefix: string, dim: number, hidden: number): void {
  out.set(`${prefix}.norm1.weight`, [dim])
  out.set(`${prefix}.norm1.bias`, [dim])
  out.set(`${prefix}.attn.qkv.weight`, [3 * dim, dim])
  out.set(`${prefix}.attn.qkv.bias`, [3 * dim])
  out.set(`${prefix}.attn.proj.weight`, [dim, dim])
  out.set(`${prefix}.attn.proj.bias`, [dim])
  out.set(`${prefix}.norm2.weight`, [dim])
  out.set(`${prefix}.norm2.bias`, [dim])
  out.set(`${prefix}.mlp.fc1.weight`, [hidden, dim])
  out.set(`${prefix}.mlp.fc1.bias`, [hidden])
  out.set(`${prefix}.mlp.fc2.weight`, [dim, hidden])
  out.set(`${prefix}.mlp.fc2.bias`, [dim])
}

/** Every weight name the model needs, with its PyTorch shape, in module order. */
export function expectedShapes(cfg: PrithviConfig, opts: { decoder: boolean }): Map<string, number[]> {
  const D = cfg.embed_dim
  const L = numPatches(cfg)
  const p = cfg.patch_size
  const out = new Map<string, number[]>()
  out.set('cls_token', [1, 1, D])
  out.set('pos_embed', [1, L + 1, D])
  out.set('patch_embed.proj.weight', [D, cfg.in_chans, cfg.tubelet_size, p, p])
  out.set('patch_embed.proj.bias', [D])
  for (let i = 0; i < cfg.depth; i++) addBlock(out, `blocks.${i}`, D, Math.trunc(D * cfg.mlp_ratio))
  out.set('norm.weight', [D])
  out.set('norm.bias', [D])
  if (!opts.decoder) return out
  const Dd = cfg.decoder_embed_dim
  const patchValues = cfg.tubelet_size * p * p * cfg.in_chans
  out.set('mask_token', [1, 1, Dd])
  out.set('decoder_embed.weight', [Dd, D])
  out.set('decoder_embed.bias', [Dd])
  out.set('decoder_pos_embed', [1, L + 1, Dd])
  for (let i = 0; i < cfg.decoder_depth; i++) addBlock(out, `decoder_blocks.${i}`, Dd, Math.trunc(Dd * cfg.mlp_ratio))
  out.set('decoder_norm.weight', [Dd])
  out.set('decoder_norm.bias', [Dd])
  out.set('decoder_pred.weight', [patchValues, Dd])
  out.set('decoder_pred.bias', [patchValues])
  return out
}

// Checks that a PrithviConfig's sizes fit together, whatever it came from (yaml, inference, caller).

import type { PrithviConfig } from '../model/config'
import { CheckpointError } from './errors'

/** Checks the sizes fit together (patches tile the image, heads split the width…). */
export function validatePrithviConfig(cfg: PrithviConfig, source = 'config'): PrithviConfig {
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new CheckpointError('bad-config', `${source}: ${msg}`)
  }
  need(cfg.img_size % cfg.patch_size === 0, `img_size ${cfg.img_size} is not a multiple of patch_size ${cfg.patch_size}`)
  need(cfg.num_frames % cfg.tubelet_size === 0, `num_frames ${cfg.num_frames} is not a multiple of tubelet_size ${cfg.tubelet_size}`)
  need(cfg.embed_dim % cfg.num_heads === 0, `embed_dim ${cfg.embed_dim} does not split into ${cfg.num_heads} heads`)
  need(cfg.decoder_embed_dim % cfg.decoder_num_heads === 0, `decoder_embed_dim ${cfg.decoder_embed_dim} does not split into ${cfg.decoder_num_heads} heads`)
  need(cfg.mlp_ratio > 0, `mlp_ratio must be positive, got ${cfg.mlp_ratio}`)
  return cfg
}

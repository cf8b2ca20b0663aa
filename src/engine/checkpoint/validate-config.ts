// Checks that a PrithviConfig's sizes fit together, whatever it came from (yaml, inference, caller).

import type { PrithviConfig } from '../model/config'
import { CheckpointError } from './errors'

// Far above any Prithvi (600M: 1280 wide, 32 deep; 224 px, 6 bands, 3 frames), far below sizes that
// would have the engine allocate gigabytes for a typo like depth 1000000000.
const MAX_SIZES: Partial<Record<keyof PrithviConfig, number>> = {
  img_size: 8192,
  patch_size: 512,
  num_frames: 64,
  tubelet_size: 64,
  in_chans: 64,
  embed_dim: 8192,
  depth: 256,
  num_heads: 512,
  decoder_embed_dim: 8192,
  decoder_depth: 256,
  decoder_num_heads: 512,
  mlp_ratio: 64
}

/** Checks the sizes are sane and fit together (patches tile the image, heads split the width…). */
export function validatePrithviConfig(cfg: PrithviConfig, source = 'config'): PrithviConfig {
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new CheckpointError('bad-config', `${source}: ${msg}`)
  }
  for (const [field, max] of Object.entries(MAX_SIZES) as [keyof PrithviConfig, number][]) {
    const v = cfg[field] as number
    need(typeof v === 'number' && Number.isFinite(v) && v > 0, `${field} must be a positive number, got ${JSON.stringify(v)}`)
    need(v <= max, `${field} ${v} is absurdly large (at most ${max})`)
  }
  need(cfg.patch_size <= cfg.img_size, `patch_size ${cfg.patch_size} is larger than img_size ${cfg.img_size}`)
  need(cfg.img_size % cfg.patch_size === 0, `img_size ${cfg.img_size} is not a multiple of patch_size ${cfg.patch_size}`)
  need(cfg.num_frames % cfg.tubelet_size === 0, `num_frames ${cfg.num_frames} is not a multiple of tubelet_size ${cfg.tubelet_size}`)
  need(cfg.embed_dim % cfg.num_heads === 0, `embed_dim ${cfg.embed_dim} does not split into ${cfg.num_heads} heads`)
  need(cfg.decoder_embed_dim % cfg.decoder_num_heads === 0, `decoder_embed_dim ${cfg.decoder_embed_dim} does not split into ${cfg.decoder_num_heads} heads`)
  need(cfg.mlp_ratio > 0, `mlp_ratio must be positive, got ${cfg.mlp_ratio}`)
  return cfg
}

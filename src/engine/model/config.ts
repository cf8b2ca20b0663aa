// Architecture of a Prithvi masked autoencoder. Field names follow `model_args` in
// Prithvi_100M_config.yaml so a config file maps onto it one to one.
import type { BandStats } from '@shared/bands'

// Band statistics are shared with the renderer, so they live in src/shared.
export { PRITHVI_HLS_STATS } from '@shared/bands'
export type { BandStats }

export interface PrithviConfig {
  img_size: number
  patch_size: number
  num_frames: number
  tubelet_size: number
  in_chans: number
  embed_dim: number
  depth: number
  num_heads: number
  decoder_embed_dim: number
  decoder_depth: number
  decoder_num_heads: number
  mlp_ratio: number
  norm_pix_loss: boolean
}


/** Prithvi-100M as published (pre-trained with 3 frames; the study used it with num_frames = 1). */
export function prithvi100m(overrides: Partial<PrithviConfig> = {}): PrithviConfig {
  return {
    img_size: 224,
    patch_size: 16,
    num_frames: 1,
    tubelet_size: 1,
    in_chans: 6,
    embed_dim: 768,
    depth: 12,
    num_heads: 12,
    decoder_embed_dim: 512,
    decoder_depth: 8,
    decoder_num_heads: 16,
    mlp_ratio: 4,
    norm_pix_loss: false,
    ...overrides
  }
}

/** A tiny model of the same shape family, for tests and fixtures. */
export function prithviTiny(overrides: Partial<PrithviConfig> = {}): PrithviConfig {
  return prithvi100m({
    img_size: 32,
    patch_size: 8,
    embed_dim: 32,
    depth: 2,
    num_heads: 4,
    decoder_embed_dim: 16,
    decoder_depth: 1,
    decoder_num_heads: 2,
    ...overrides
  })
}

export const PRESETS = { 'prithvi-100m': prithvi100m, 'prithvi-tiny': prithviTiny } as const
export type PresetName = keyof typeof PRESETS


export function numPatches(cfg: PrithviConfig): number {
  const g = cfg.img_size / cfg.patch_size
  return (cfg.num_frames / cfg.tubelet_size) * g * g
}

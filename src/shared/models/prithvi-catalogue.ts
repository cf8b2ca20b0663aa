// The Prithvi checkpoints IBM and NASA publish, as model cards: where to download each (the Hugging
// Face repository and file; weights are never fetched at run time), its architecture, its band
// statistics and what it was pre-trained on. Import uses it to name a checkpoint's model and to fill
// in what its file cannot say (head counts, statistics), saying so; the presets come from TerraTorch's
// `prithvi_cfgs` (terratorch/models/backbones/prithvi_vit.py).
import type { BandStats } from '../bands'
import { PRITHVI_HLS_STATS } from '../bands'
import { prithvi100m, type PrithviConfig } from './prithvi-mae'

export interface PublishedPrithvi {
  /** Stable id, e.g. `prithvi-eo2-300m-tl`. */
  id: string
  title: string
  /** The Hugging Face repository to download it from. */
  hfId: string
  file: string
  /** The architecture as used here (1 frame); `pretrainFrames` is the pre-training frame count. */
  config: PrithviConfig
  pretrainFrames: number
  stats: BandStats
  preTraining: string
}

/** TerraTorch's PRITHVI_V2_MEAN / _STD (HLS blue, green, red, NIR narrow, SWIR 1, SWIR 2). */
export const PRITHVI_EO2_STATS: BandStats = {
  bands: ['BLUE', 'GREEN', 'RED', 'NIR_NARROW', 'SWIR_1', 'SWIR_2'],
  mean: [1087.0, 1342.0, 1433.0, 2734.0, 1958.0, 1363.0],
  std: [2248.0, 2179.0, 2178.0, 1850.0, 1242.0, 1049.0]
}

const EO2_DATA = 'global Harmonized Landsat and Sentinel-2 (HLS) time series, 6 bands at 30 m (4.2 M samples)'
const TL = { coords_encoding: ['time', 'location'] as ('time' | 'location')[], coords_scale_learn: true }

function eo2(over: Partial<PrithviConfig>): PrithviConfig {
  return prithvi100m({ pretrain_img_size: 224, ...over })
}

export const PUBLISHED_PRITHVI: readonly PublishedPrithvi[] = [
  {
    id: 'prithvi-eo1-100m',
    title: 'Prithvi-EO-1.0-100M (Prithvi-100M)',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-1.0-100M',
    file: 'Prithvi_EO_V1_100M.pt (first published as ibm-nasa-geospatial/Prithvi-100M, Prithvi_100M.pt)',
    config: prithvi100m(),
    pretrainFrames: 3,
    stats: PRITHVI_HLS_STATS,
    preTraining: 'HLS scenes over the contiguous United States, 6 bands at 30 m, 3 time steps'
  },
  {
    id: 'prithvi-eo2-tiny-tl',
    title: 'Prithvi-EO-2.0-tiny-TL',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-2.0-tiny-TL',
    file: 'Prithvi_EO_V2_tiny_TL.pt',
    config: eo2({ embed_dim: 192, depth: 12, num_heads: 3, ...TL }),
    pretrainFrames: 1,
    stats: PRITHVI_EO2_STATS,
    preTraining: EO2_DATA
  },
  {
    id: 'prithvi-eo2-100m-tl',
    title: 'Prithvi-EO-2.0-100M-TL',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-2.0-100M-TL',
    file: 'Prithvi_EO_V2_100M_TL.pt',
    config: eo2({ ...TL }),
    pretrainFrames: 4,
    stats: PRITHVI_EO2_STATS,
    preTraining: EO2_DATA
  },
  {
    id: 'prithvi-eo2-300m',
    title: 'Prithvi-EO-2.0-300M',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-2.0-300M',
    file: 'Prithvi_EO_V2_300M.pt',
    config: eo2({ embed_dim: 1024, depth: 24, num_heads: 16 }),
    pretrainFrames: 4,
    stats: PRITHVI_EO2_STATS,
    preTraining: EO2_DATA
  },
  {
    id: 'prithvi-eo2-300m-tl',
    title: 'Prithvi-EO-2.0-300M-TL',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-2.0-300M-TL',
    file: 'Prithvi_EO_V2_300M_TL.pt',
    config: eo2({ embed_dim: 1024, depth: 24, num_heads: 16, ...TL }),
    pretrainFrames: 4,
    stats: PRITHVI_EO2_STATS,
    preTraining: EO2_DATA
  },
  {
    id: 'prithvi-eo2-600m',
    title: 'Prithvi-EO-2.0-600M',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-2.0-600M',
    file: 'Prithvi_EO_V2_600M.pt',
    config: eo2({ embed_dim: 1280, depth: 32, num_heads: 16, patch_size: 14 }),
    pretrainFrames: 4,
    stats: PRITHVI_EO2_STATS,
    preTraining: EO2_DATA
  },
  {
    id: 'prithvi-eo2-600m-tl',
    title: 'Prithvi-EO-2.0-600M-TL',
    hfId: 'ibm-nasa-geospatial/Prithvi-EO-2.0-600M-TL',
    file: 'Prithvi_EO_V2_600M_TL.pt',
    config: eo2({ embed_dim: 1280, depth: 32, num_heads: 16, patch_size: 14, ...TL }),
    pretrainFrames: 4,
    stats: PRITHVI_EO2_STATS,
    preTraining: EO2_DATA
  }
]

const isEo2 = (cfg: PrithviConfig): boolean => cfg.pretrain_img_size !== undefined
const isTl = (cfg: PrithviConfig): boolean => (cfg.coords_encoding?.length ?? 0) > 0

/** The model family's name as people know it. */
export function prithviGeneration(cfg: PrithviConfig): string {
  return isEo2(cfg) ? `Prithvi-EO-2.0${isTl(cfg) ? ' (TL)' : ''}` : 'Prithvi-EO-1.0 (Prithvi-100M layout)'
}

/**
 * The published model with this architecture: the same sizes (heads too unless `ignoreHeads`, for
 * architectures read off weight shapes, which do not show them), generation and TL-ness.
 */
export function matchPublished(cfg: PrithviConfig, opts: { ignoreHeads?: boolean } = {}): PublishedPrithvi | undefined {
  return PUBLISHED_PRITHVI.find((m) => {
    const c = m.config
    const sizes = (['patch_size', 'tubelet_size', 'in_chans', 'embed_dim', 'depth', 'decoder_embed_dim', 'decoder_depth', 'mlp_ratio'] as const).every((k) => c[k] === cfg[k])
    const heads = opts.ignoreHeads || (c.num_heads === cfg.num_heads && c.decoder_num_heads === cfg.decoder_num_heads)
    return sizes && heads && isEo2(c) === isEo2(cfg) && isTl(c) === isTl(cfg)
  })
}

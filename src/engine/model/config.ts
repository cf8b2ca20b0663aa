// Architecture of a Prithvi masked autoencoder, as the engine's model code imports it. The config,
// its presets and the geometry it implies are defined once, in the family spec
// (src/shared/models/prithvi-mae.ts), shared with main and the renderer.
import type { BandStats } from '@shared/bands'

// Band statistics are shared with the renderer, so they live in src/shared.
export { PRITHVI_HLS_STATS } from '@shared/bands'
export type { BandStats }

export { numPatches, PRESETS, prithvi100m, prithviTiny, type PresetName, type PrithviConfig } from '@shared/models/prithvi-mae'

// Refuses a PrithviConfig whose sizes do not fit together, whatever it came from (yaml, inference,
// caller), as a CheckpointError naming the source. The rules live in the family spec.

import { prithviConfigProblem, type PrithviConfig } from '@shared/models/prithvi-mae'
import { CheckpointError } from './errors'

/** Checks the sizes are sane and fit together (patches tile the image, heads split the width…). */
export function validatePrithviConfig(cfg: PrithviConfig, source = 'config'): PrithviConfig {
  const why = prithviConfigProblem(cfg)
  if (why) throw new CheckpointError('bad-config', `${source}: ${why}`)
  return cfg
}

// Every service registers its channels on the router here: one line per capability.
import type { AppContext } from '../app/types'
import { registerSystemService } from './system'
import { registerJobsService } from './jobs'
import { registerModelsService } from './models'
import { registerRunsService } from './runs'
import { registerReconstructionService } from './reconstruction'
import { registerDatasetsService } from './datasets'
import { registerInferenceService } from './inference'
import { registerBackbonesService } from './backbones'
import { registerSweepsService } from './sweeps'

export function registerAllServices(ctx: AppContext): void {
  registerSystemService(ctx)
  registerJobsService(ctx)
  registerModelsService(ctx)
  registerRunsService(ctx)
  registerReconstructionService(ctx)
  registerDatasetsService(ctx)
  registerInferenceService(ctx)
  registerBackbonesService(ctx)
  registerSweepsService(ctx)
}

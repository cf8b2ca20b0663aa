// Every CLI command, in the order `marsfm help` lists them.
import type { Command } from '../command'
import { infoCommand } from './info'
import { modelCommand } from './model'
import { trainCommand } from './train'
import { pretrainCommand } from './pretrain'
import { reconstructCommand } from './reconstruct'
import { datasetCommand } from './dataset'
import { inferCommand } from './infer'
import { embedCommand, probeCommand } from './probe'
import { sweepCommand } from './sweep'
import { ledgerCommand } from './ledger'

export const commands: Command[] = [infoCommand, modelCommand, datasetCommand, reconstructCommand, trainCommand, sweepCommand, pretrainCommand, inferCommand, embedCommand, probeCommand, ledgerCommand]

// The training task of each RunConfig.task: the one place a task name is looked up.
import type { RunTask } from '@shared/ipc/schemas/runs'
import { classification } from './classification'
import { pretrain } from './pretrain'
import { segmentation } from './segmentation'
import type { TrainingTaskKind } from './task'

export const TRAINING_TASKS: Record<RunTask, TrainingTaskKind> = { classification, segmentation, pretrain }

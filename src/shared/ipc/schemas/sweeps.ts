// Schemas of the `sweeps:*` channels: a sweep's record with its trials, progress and best run.
import { z } from 'zod'
import { SweepSpec } from '../../sweeps/spec'

export const SweepStatus = z.enum(['queued', 'running', 'done', 'cancelled'])
export type SweepStatus = z.infer<typeof SweepStatus>
export const TrialStatus = z.enum(['pending', 'running', 'done', 'failed', 'cancelled', 'paused'])
export type TrialStatus = z.infer<typeof TrialStatus>

export const SweepTrialRecord = z.object({
  index: z.number().int(),
  params: z.record(z.string(), z.unknown()),
  runId: z.number().int().nullable(),
  status: TrialStatus,
  statusReason: z.string().nullable(),
  /** The run's step and total, while it trains. */
  step: z.number().int(),
  steps: z.number().int(),
  /** The run's best value of the sweep's metric (its best checkpoint's), null until it has one. */
  value: z.number().nullable()
})
export type SweepTrialRecord = z.infer<typeof SweepTrialRecord>

export const SweepRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  method: z.enum(['grid', 'random']),
  status: SweepStatus,
  statusReason: z.string().nullable(),
  metric: z.string(),
  goal: z.enum(['max', 'min']),
  spec: z.unknown(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  trials: z.array(SweepTrialRecord),
  /** Trials by status. */
  counts: z.record(z.string(), z.number().int()),
  /** The trial whose run has the best metric value so far. */
  best: z.object({ index: z.number().int(), runId: z.number().int(), value: z.number() }).nullable()
})
export type SweepRecord = z.infer<typeof SweepRecord>

/** The spec's shape is checked at the router; its keys and every trial's config by `expandSweep` (errors name each). */
export const SweepCreateRequest = z.object({ spec: SweepSpec }).strict()
export const SweepIdRequest = z.object({ id: z.number().int().positive() }).strict()
export const SweepCreated = z.object({ sweepId: z.number().int(), trials: z.number().int() })
export const SweepStatusEvent = z.object({ sweep: SweepRecord })

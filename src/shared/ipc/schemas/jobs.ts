// Schemas for long work ("jobs"): a call returns a job id at once, progress events follow,
// and any job can be cancelled.
import { z } from 'zod'

export const JobState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled'])
export type JobState = z.infer<typeof JobState>

export const JobId = z.string().min(1).max(64)

export const JobView = z.object({
  id: JobId,
  kind: z.string(),
  title: z.string(),
  state: JobState,
  done: z.number(),
  total: z.number(),
  message: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.object({ name: z.string(), message: z.string() }).nullable(),
  result: z.unknown().optional()
})
export type JobView = z.infer<typeof JobView>

export const JobStarted = z.object({ jobId: JobId })
export type JobStarted = z.infer<typeof JobStarted>

export const DemoJobRequest = z.object({
  steps: z.number().int().min(1).max(100_000),
  stepMs: z.number().int().min(0).max(60_000),
  /** Side of the square matrices multiplied each step, so the demo exercises the real backend. */
  matrixSize: z.number().int().min(1).max(2048).default(64)
})
export type DemoJobRequest = z.infer<typeof DemoJobRequest>

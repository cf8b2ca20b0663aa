// Learning-rate schedules as multipliers of the base rate at optimiser step t (0-based), the way
// PyTorch's LambdaLR applies them: the first step uses factor(0), which is 0 during a warm-up.
import type { ScheduleConfig } from '@shared/ipc/schemas/runs'

export function lrFactor(s: ScheduleConfig, step: number, totalSteps: number): number {
  const warm = s.warmupSteps
  if (warm > 0 && step < warm) return step / warm
  if (s.name === 'constant') return 1
  const span = totalSteps - warm
  if (span <= 0) return 1
  const progress = Math.min(1, Math.max(0, (step - warm) / span))
  switch (s.name) {
    case 'linear':
      // The study: max(0, (MAX - step) / (MAX - WARMUP)).
      return Math.max(0, (totalSteps - step) / span)
    case 'cosine':
      return s.minLrRatio + (1 - s.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress))
    case 'poly':
      return s.minLrRatio + (1 - s.minLrRatio) * (1 - progress) ** s.power
  }
}

export function learningRate(baseLr: number, s: ScheduleConfig, step: number, totalSteps: number): number {
  return baseLr * lrFactor(s, step, totalSteps)
}

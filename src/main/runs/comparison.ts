// Run comparison use cases: a run's notes and tags, and the metric series of several runs for an
// overlay (one ledger query for all of them, long series downsampled for the chart).
import type { RunAnnotateRequest, RunRecord, RunSeries, RunSeriesRequest } from '@shared/ipc/schemas/runs'
import { downsampleLttb } from '@shared/experiments/downsample'
import type { Db } from '../ledger/ledger'
import { annotateRun, metricSeries } from './repository'

/** Saves notes and tags; the caller announces the updated run. */
export function annotate(db: Db, req: RunAnnotateRequest, get: (id: number) => RunRecord): RunRecord {
  if (!annotateRun(db, req.id, req.notes, req.tags)) throw new Error(`no run #${req.id}`)
  return get(req.id)
}

/** Series in the order asked (runs, then names); a run or metric with no points is left out. */
export function overlaySeries(db: Db, req: Required<RunSeriesRequest>): RunSeries[] {
  const byRun = metricSeries(db, req)
  const out: RunSeries[] = []
  for (const runId of req.runIds) {
    for (const name of req.names) {
      const s = byRun.get(runId)?.get(name)
      if (!s) continue
      const d = downsampleLttb(s, req.maxPoints)
      out.push({ runId, name, steps: d.steps, values: d.values, recorded: s.steps.length })
    }
  }
  return out
}

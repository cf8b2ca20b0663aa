// `marsfm probe` and `marsfm embed`: the backbone comparison from a shell. The same use case as
// the Backbones view (startBackboneStudy), so a CLI study is in the ledger exactly as one from the
// UI; prints a table per backbone (means over split seeds, the first seed's observation-bootstrap
// interval) and the paired tests, or writes the whole outcome as JSON.
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Command, CliIo } from '../command'
import { UsageError, parseOptions } from '../command'
import type { AppContext } from '../../app/types'
import { BackboneStudyRequest, type BackboneStudyOutcome } from '@shared/ipc/schemas/backbones'
import { startBackboneStudy } from '../../services/backbones'
import { getBackboneStudy } from '../../backbones/repository'
import { followJob } from '../run-job'
import { parseDevice } from '../device'
import { printable } from '../text'

const OPTIONS = `  --version ID            a frozen dataset version (marsfm dataset versions <dataset>)
  --model ID              a ledger model to compare (repeat for several; marsfm model list)
  --random ID             untrained weights with model ID's architecture: the floor (repeatable)
  --device auto|cpu|webgpu|cuda   where ONNX Runtime computes the embeddings (default auto)
  --max-tiles N           at most N labelled tiles (default 5000)
  --recipe NAME           band recipe for 6-band backbones (default postnorm-dup)
  --tile-norm none|standardize   per-tile contrast before scaling (standardize: each tile's channels
                          mapped to the model's band mean and std; for an MAE-family backbone its
                          own input to mean 0, std 1 per channel; default none, as in the study)`

const PROBE_USAGE = `marsfm probe --version ID --model ID [--model ID...] [--random ID] [options]
${OPTIONS}
  --positive CLASS        two classes: the class reported as positive (default: the crater-named one)
  --folds 5               cross-validation folds; whole observations stay in one fold
  --seeds 0,1,2           split seeds (each assigns observations to folds differently)
  --methods logistic,knn  linear probe (L2 logistic regression) and/or cosine kNN
  --pooling cls,mean      CLS token and/or the mean of the patch tokens
  --bootstrap 1000        observation resamples for the intervals and paired tests
  --name TEXT             the study's name in the ledger
  --json out.json         the whole outcome ('-' for stdout)`

const EMBED_USAGE = `marsfm embed --version ID --model ID [--model ID...] [--random ID] [options]
${OPTIONS}`

const pct = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(1)}` : '—')
const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '—')

function parse(args: string[], probe: boolean) {
  const { values } = parseArgs({
    args,
    options: {
      version: { type: 'string' },
      model: { type: 'string', multiple: true },
      random: { type: 'string', multiple: true },
      device: { type: 'string' },
      'max-tiles': { type: 'string' },
      recipe: { type: 'string' },
      'tile-norm': { type: 'string' },
      ...(probe
        ? {
            positive: { type: 'string' },
            folds: { type: 'string' },
            seeds: { type: 'string' },
            methods: { type: 'string' },
            pooling: { type: 'string' },
            bootstrap: { type: 'string' },
            name: { type: 'string' },
            json: { type: 'string' }
          }
        : {})
    }
  })
  const v = values as Record<string, string | string[] | undefined>
  const id = (flag: string, s: string): number => {
    const n = Number(s)
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} takes a positive integer id, not "${s}"`)
    return n
  }
  if (!v.version) throw new UsageError('--version ID is required (a frozen dataset version)')
  const models = ((v.model as string[] | undefined) ?? []).map((m) => ({ kind: 'model' as const, modelId: id('model', m) }))
  const randoms = ((v.random as string[] | undefined) ?? []).map((m) => ({ kind: 'random' as const, likeModelId: id('random', m) }))
  if (!models.length && !randoms.length) throw new UsageError('give at least one backbone: --model ID (and --random ID for the untrained floor)')
  const list = (flag: string) => (typeof v[flag] === 'string' ? (v[flag] as string).split(',').map((s) => s.trim()).filter(Boolean) : undefined)
  const intOf = (flag: string) => (typeof v[flag] === 'string' ? Number(v[flag]) : undefined)
  const request = {
    versionId: id('version', v.version as string),
    backbones: [...models, ...randoms],
    device: parseDevice(v.device as string | undefined, false),
    ...(v['max-tiles'] !== undefined ? { maxTiles: intOf('max-tiles') } : {}),
    ...(v.recipe !== undefined || v['tile-norm'] !== undefined
      ? { preprocessing: { ...(v.recipe !== undefined ? { recipe: v.recipe } : {}), ...(v['tile-norm'] !== undefined ? { tileNorm: v['tile-norm'] } : {}) } }
      : {}),
    ...(v.positive !== undefined ? { positiveClass: v.positive } : {}),
    ...(v.folds !== undefined ? { folds: intOf('folds') } : {}),
    ...(list('seeds') ? { seeds: list('seeds')!.map(Number) } : {}),
    ...(list('methods') ? { methods: list('methods') } : {}),
    ...(list('pooling') ? { poolings: list('pooling') } : {}),
    ...(v.bootstrap !== undefined ? { bootstrap: intOf('bootstrap') } : {}),
    ...(v.name !== undefined ? { name: v.name } : {}),
    embedOnly: !probe
  }
  const parsed = parseOptions(BackboneStudyRequest, request, {
    versionId: '--version',
    backbones: '--model',
    maxTiles: '--max-tiles',
    preprocessing: '--recipe',
    'preprocessing.recipe': '--recipe',
    'preprocessing.tileNorm': '--tile-norm',
    positiveClass: '--positive',
    folds: '--folds',
    seeds: '--seeds',
    methods: '--methods',
    poolings: '--pooling',
    bootstrap: '--bootstrap',
    name: '--name'
  })
  return { request: parsed, json: v.json as string | undefined }
}

async function runStudy(ctx: AppContext, request: BackboneStudyRequest): Promise<{ studyId: number; outcome: BackboneStudyOutcome }> {
  await ctx.engine.whenReady()
  const { jobId, studyId } = await startBackboneStudy(ctx, request)
  try {
    await followJob(ctx, jobId, `backbone study #${studyId}`)
  } catch (err) {
    throw new Error(`${(err as Error).message} (recorded as backbone study #${studyId})`)
  }
  const outcome = getBackboneStudy(ctx.ledger.db, studyId)?.outcome
  if (!outcome) throw new Error(`backbone study #${studyId} finished without results`)
  return { studyId, outcome }
}

function printSkipped(io: CliIo, outcome: BackboneStudyOutcome): void {
  for (const s of outcome.skipped.slice(0, 20)) io.err(`skipped ${printable(s.path)}: ${printable(s.error)}`)
  if (outcome.skipped.length > 20) io.err(`… and ${outcome.skipped.length - 20} more skipped tiles`)
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'compare backbones on frozen embeddings: linear probe and kNN, folds grouped by observation, several split seeds',
  usage: PROBE_USAGE,
  needsEngine: true,
  async run(args, ctx, io) {
    const { request, json } = parse(args, true)
    const { studyId, outcome } = await runStudy(ctx, request)
    printSkipped(io, outcome)
    if (json) {
      const text = JSON.stringify({ study: studyId, ...outcome }, null, 2)
      if (json === '-') io.out(text)
      else writeFileSync(resolve(json), text)
    }
    if (json === '-') return 0
    const pos = outcome.classes.length === 2 ? ` (positive class: ${printable(outcome.classes[outcome.positiveIndex]!)})` : ''
    io.out(`backbone study #${studyId}: ${outcome.tiles.length} tiles from ${outcome.observations} observations, classes ${outcome.classes.map(printable).join(', ')}${pos}`)
    const seeds = (outcome.settings as { seeds?: number[] } | null)?.seeds ?? []
    io.out(`means over split seeds ${seeds.join(', ')}; [95 % interval over observations, seed ${seeds[0]}]`)
    io.out('backbone                          pooling  probe     bal. acc. %            AUC                  acc. %')
    for (const b of outcome.backbones) {
      for (const r of b.rows) {
        const first = r.perSeed[0]!.scores.intervals
        io.out(
          `${printable(b.name).slice(0, 32).padEnd(34)}${r.pooling.padEnd(9)}${r.method.padEnd(10)}` +
            `${`${pct(r.mean.balancedAccuracy)} ±${pct(r.sd.balancedAccuracy)} [${pct(first.balancedAccuracy.lower)}, ${pct(first.balancedAccuracy.upper)}]`.padEnd(23)}` +
            `${`${num(r.mean.auc)} [${num(first.auc?.lower)}, ${num(first.auc?.upper)}]`.padEnd(21)}${pct(r.mean.accuracy)}`
        )
      }
    }
    if (outcome.comparisons.length) io.out('paired (seed ' + seeds[0] + '): A − B balanced accuracy [95 % interval], bootstrap p; McNemar p')
    for (const c of outcome.comparisons) {
      const d = c.result.balancedAccuracy
      io.out(
        `${printable(c.a)} vs ${printable(c.b)} (${c.pooling}, ${c.method}): ${d.difference >= 0 ? '+' : ''}${pct(d.difference)} [${pct(d.interval.lower)}, ${pct(d.interval.upper)}] p = ${d.p.toPrecision(2)}; McNemar p = ${c.result.mcnemar.p.toPrecision(2)}`
      )
    }
    return 0
  }
}

export const embedCommand: Command = {
  name: 'embed',
  summary: 'compute and cache frozen embeddings (CLS and mean-pooled) of a dataset version\'s labelled tiles for backbones',
  usage: EMBED_USAGE,
  needsEngine: true,
  async run(args, ctx, io) {
    const { request } = parse(args, false)
    const { studyId, outcome } = await runStudy(ctx, request)
    printSkipped(io, outcome)
    for (const b of outcome.backbones) {
      const e = b.embed
      io.out(`${printable(b.name)}: ${e.computed} computed, ${e.reused} cached, ${e.failed.length} failed; ${e.dim} features on ${e.device} in ${e.seconds.toFixed(1)} s`)
    }
    io.out(`recorded as backbone study #${studyId}`)
    return 0
  }
}

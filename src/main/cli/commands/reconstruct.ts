// `marsfm reconstruct`: the imputation reconstruction study from a shell. The same use case as the
// Reconstruction view (startStudy: a reconstruction_studies row, the engine job, its results in the
// ledger); prints per-method aggregates and paired tests (or writes JSON). A checkpoint not yet in
// the ledger is imported first, as the Models view would.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { AppContext } from '../../app/types'
import { requirePath } from '../../app/require-path'
import { UsageError, type CliIo, type Command } from '../command'
import { ReconstructionStartRequest, StudyOutcome, type StudyOutcome as Outcome } from '@shared/ipc/schemas/reconstruction'
import { ModelSummary, type ModelRecord } from '@shared/ipc/schemas/models'
import { METRIC_COLUMN } from '@shared/reconstruction/csv'
import { followJob, runEngineJob } from '../run-job'
import { parseDevice } from '../device'
import { startStudy } from '../../services/reconstruction'
import { DEMO_MODEL_FILE, demoModelDir } from '../../models/demo'
import { listModels, upsertModel } from '../../models/repository'
import { printable } from '../text'
import { jsonSyntaxDetail } from '@shared/datasets/formats/format-error'
import { isMaeConfig } from '@shared/models/mae'
import { MAE_NATIVE_METHOD } from '@shared/models/mae-input'

const USAGE = `marsfm reconstruct [--checkpoint <model.pt> [--config yaml|config.json|mae.json]] --images <files or folder>... [options]
  --checkpoint            Prithvi-100M (ibm-nasa-geospatial/Prithvi-100M), Prithvi-EO-2.0 (Prithvi_EO_V2_*.pt with its config.json)
                          or another MAE; default: the shipped demo model
  --config                Prithvi's yaml, EO-2.0's Hugging Face config.json, or a facebookresearch-MAE JSON config
                          ({"family": "mae", …}, e.g. MOMO's)
  --methods means,prenorm-dup,postnorm-dup   presets: means, prenorm-dup, postnorm-dup, luminance-dup, zero-reflectance;
                          a facebookresearch-MAE model (MOMO) takes "native" (its own input; the default for it)
  --mask-ratio 0.5        fraction of patches removed (one mask per image, shared by every method)
  --seed N                seeded masks (default 0)   |  --mask-noise noise.json  one array of L numbers per image
  --mask-seeds K          K masks per image (seeds N..N+K-1)
  --geometry tile|centre-crop|resize   images not at the model's size: native-resolution tiles (default;
                          non-overlapping, edge strips narrower than a tile are left out), one centre crop, or a resize
  --max-tiles N           at most N tiles (default: all)
  Ctrl-C                  cancels; the tiles already finished are kept as a partial study (exit 3)
  --float                 keep the reflectance scaling exact (default: truncated to integers, as the study)
  --backend ort|tfjs      ONNX Runtime (default) or TensorFlow.js
  --device auto|cpu|webgpu|cuda   where ONNX Runtime runs (default auto: CUDA if installed, else WebGPU
                          on a hardware GPU, else CPU; webgpu/cuda fail with the reason if unusable)
  --batch N               model batch size (default 8)
  --json out.json         write per-image results and aggregates as JSON ('-' for stdout)`

/** The demo model shipped in resources/models (used when --checkpoint is left out; registered at start-up). */
function demoCheckpoint(): { checkpoint: string } | null {
  const dir = demoModelDir()
  return dir ? { checkpoint: join(dir, DEMO_MODEL_FILE) } : null
}

/** The ledger's model for a checkpoint file: the one registered with this path, else imported now. */
async function ledgerModel(ctx: AppContext, io: CliIo, checkpoint: string, configPath: string | undefined): Promise<ModelRecord> {
  const known = listModels(ctx.ledger.db).find((m) => m.path === checkpoint)
  if (known && !configPath) return known
  const summary = ModelSummary.parse(await runEngineJob(ctx, io, 'model-inspect', `inspect ${checkpoint}`, { path: checkpoint, configPath }))
  const record = upsertModel(ctx.ledger.db, summary)
  // A model already in the ledger had its warnings shown when it was imported.
  if (!known) {
    for (const w of summary.warnings) io.err(`warning: ${printable(record.name)}: ${printable(w)}`)
    io.err(`imported ${printable(checkpoint)} as model #${record.id} ${printable(record.name)}`)
  }
  return record
}

function readNoise(path: string): number[][] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--mask-noise: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--mask-noise: ${path} is ${jsonSyntaxDetail(text, err)}`)
  }
  if (!Array.isArray(value) || !value.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new UsageError(`--mask-noise: ${path}: expected a JSON array holding one array of L numbers per image`)
  }
  return value as number[][]
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(2) : v.toPrecision(4)
}

function toJson(outcome: Outcome, methods: string[]) {
  const byTile = new Map<string, Record<string, Record<string, number>>>()
  for (const r of outcome.rows) {
    const key = r.maskSeed === -1 || outcome.summary.masksPerTile === 1 ? r.tile : `${r.tile}@${r.maskSeed}`
    const entry = byTile.get(key) ?? {}
    entry[r.method] = { model_loss: r.modelLoss, rgb_loss: r.rgbLoss, display_mse: r.displayMse, psnr: r.psnr, ssim: r.ssim, mask_seed: r.maskSeed }
    byTile.set(key, entry)
  }
  const tiles = new Map(outcome.tiles.map((t) => [t.ref, t]))
  return {
    methods,
    backend: outcome.backend,
    model: outcome.model,
    images: [...byTile.entries()].map(([key, m]) => {
      const t = tiles.get(key.split('@')[0]!)
      return { image: t?.image ?? key, tile: key, ...(t ? { x: t.x, y: t.y } : {}), methods: m }
    }),
    aggregates: Object.fromEntries(
      outcome.summary.methods.map((m) => [
        m.method,
        Object.fromEntries(Object.entries(m.metrics).map(([k, a]) => [METRIC_COLUMN[k as keyof typeof METRIC_COLUMN], { mean: a.mean, std: a.std, ci95: [a.lower, a.upper], n: a.n }]))
      ])
    ),
    pairs: outcome.summary.pairs.map((p) => ({
      a: p.a,
      b: p.b,
      metric: METRIC_COLUMN[p.metric],
      n: p.n,
      mean_diff: p.meanDiff,
      ci95: [p.lower, p.upper],
      wilcoxon: { w: p.wilcoxonW, z: p.z, p: p.pValue, method: p.test }
    })),
    ...(outcome.partial ? { partial: { tiles_done: outcome.partial.tilesDone, tiles_planned: outcome.partial.tilesPlanned } } : {}),
    skipped: outcome.skipped ?? [],
    timing: outcome.timing
  }
}

export const reconstructCommand: Command = {
  name: 'reconstruct',
  summary: 'compare RGB → 6-band imputation methods by masked-autoencoder reconstruction (model and RGB loss)',
  usage: USAGE,
  needsEngine: true,
  async run(args, ctx, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        checkpoint: { type: 'string' },
        config: { type: 'string' },
        images: { type: 'string', multiple: true },
        methods: { type: 'string' },
        'mask-ratio': { type: 'string', default: '0.5' },
        seed: { type: 'string' },
        'mask-seeds': { type: 'string', default: '1' },
        'mask-noise': { type: 'string' },
        geometry: { type: 'string', default: 'tile' },
        'max-tiles': { type: 'string' },
        float: { type: 'boolean', default: false },
        backend: { type: 'string', default: 'ort' },
        device: { type: 'string' },
        batch: { type: 'string', default: '8' },
        json: { type: 'string' }
      }
    })
    let checkpoint = values.checkpoint ? resolve(values.checkpoint) : undefined
    const configPath = values.config ? resolve(values.config) : undefined
    let usingDemo = false
    if (!checkpoint) {
      const demo = demoCheckpoint()
      if (!demo) {
        throw new UsageError(
          '--checkpoint is required: bring Prithvi_100M.pt and Prithvi_100M_config.yaml from Hugging Face ' +
            '(https://huggingface.co/ibm-nasa-geospatial/Prithvi-100M, later renamed Prithvi-EO-1.0-100M) and pass ' +
            '--checkpoint Prithvi_100M.pt --config Prithvi_100M_config.yaml'
        )
      }
      checkpoint = demo.checkpoint
      usingDemo = true
    }
    requirePath(checkpoint, 'checkpoint')
    const inputs = [...(values.images ?? []), ...positionals].map((p) => resolve(p))
    if (!inputs.length) throw new UsageError('--images <files or folder> is required')
    let images: string[] | undefined
    let folder: string | undefined
    if (inputs.length === 1 && existsSync(inputs[0]!) && statSync(inputs[0]!).isDirectory()) folder = inputs[0]
    else {
      for (const f of inputs) if (!existsSync(f)) throw new Error(`image not found: ${f}`)
      images = inputs
    }
    // The default depends on the model's family, known once it is found or imported (below).
    const methods = (values.methods ?? 'means,prenorm-dup,postnorm-dup').split(',').map((m) => m.trim()).filter(Boolean)
    const maskRatio = Number(values['mask-ratio'])
    if (!(maskRatio >= 0.05 && maskRatio <= 0.95)) throw new UsageError('--mask-ratio must be between 0.05 and 0.95')
    if (values.seed !== undefined && values['mask-noise']) throw new UsageError('give either --seed or --mask-noise, not both')
    const int = (name: string, v: string | undefined, min: number): number | undefined => {
      if (v === undefined) return undefined
      const n = Number(v)
      if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`)
      return n
    }
    const geometry = values.geometry
    if (geometry !== 'centre-crop' && geometry !== 'tile' && geometry !== 'resize') throw new UsageError('--geometry must be tile, centre-crop or resize')
    const backend = values.backend
    if (backend !== 'ort' && backend !== 'tfjs') throw new UsageError('--backend must be ort or tfjs')
    const device = parseDevice(values.device, backend === 'tfjs')
    const noise = values['mask-noise'] ? readNoise(resolve(values['mask-noise'])) : undefined
    // modelId is filled in once the checkpoint is found or imported (after every option is checked).
    const request = ReconstructionStartRequest.parse({
      modelId: 1,
      source: folder ? { kind: 'folder', path: folder } : { kind: 'files', paths: images },
      methods,
      maskRatio,
      seed: int('seed', values.seed, 0) ?? 0,
      maskSeeds: int('mask-seeds', values['mask-seeds'], 1) ?? 1,
      geometry,
      maxTiles: int('max-tiles', values['max-tiles'], 1) ?? 100_000,
      truncate: !values.float,
      backend,
      device,
      batchSize: int('batch', values.batch, 1) ?? 8,
      galleryTiles: 0
    })
    // Said once every option has been checked, so a usage error stays the first line.
    if (usingDemo) io.err(`no --checkpoint: using the shipped demo model ${checkpoint} (for the study's numbers bring Prithvi-100M)`)
    const model = await ledgerModel(ctx, io, checkpoint, configPath)
    if (values.methods === undefined && isMaeConfig(model.config)) methods.splice(0, methods.length, MAE_NATIVE_METHOD)
    await ctx.engine.whenReady()
    const { jobId, studyId } = await startStudy(ctx, { ...request, methods, modelId: model.id }, noise ? { noise } : {})
    let result: unknown
    try {
      result = await followJob(ctx, jobId, 'reconstruct', { keepPartial: true })
    } catch (err) {
      // One line, with the study it was recorded as (failed, as in the Reconstruction view).
      throw new Error(`study #${studyId}: ${(err as Error).message}`)
    }
    const outcome = StudyOutcome.parse(result)
    io.err(`recorded as study #${studyId} (model #${model.id} ${printable(model.name)})`)
    const partial = outcome.partial
    if (partial) io.err(`cancelled after ${partial.tilesDone} of ${partial.tilesPlanned} tiles: the results below are those tiles (study #${studyId}, partial)`)
    const exit = partial ? 3 : 0
    if (outcome.backend.fallback) io.err(`--device ${outcome.backend.requested ?? 'auto'} ran on the ${outcome.backend.device}: ${outcome.backend.fallback}`)
    for (const s of outcome.skipped ?? []) io.err(`skipped ${printable(s.path)}: ${printable(s.reason)}`)
    if (values.json) {
      const text = JSON.stringify(toJson(outcome, methods), null, 2)
      if (values.json === '-') io.out(text)
      else {
        writeFileSync(resolve(values.json), `${text}\n`)
        io.err(`wrote ${resolve(values.json)}`)
      }
      if (values.json === '-') return exit
    }
    const s = outcome.summary
    io.out(`${s.tiles} tile(s) × ${methods.length} method(s), ${s.masksPerTile} mask(s) per tile, mask ratio ${maskRatio}; ${outcome.backend.name} on ${outcome.backend.device}; ${outcome.timing.tilesPerSecond.toFixed(2)} tiles/s`)
    io.out('')
    io.out(`${'method'.padEnd(18)} ${'model loss (95% CI)'.padEnd(32)} ${'RGB loss (95% CI)'.padEnd(32)} ${'PSNR'.padEnd(8)} SSIM`)
    for (const m of s.methods) {
      const a = m.metrics
      const ci = (x: { mean: number; lower: number; upper: number }) => `${fmt(x.mean)} [${fmt(x.lower)}, ${fmt(x.upper)}]`.padEnd(32)
      io.out(`${m.method.padEnd(18)} ${ci(a.modelLoss)} ${ci(a.rgbLoss)} ${fmt(a.psnr.mean).padEnd(8)} ${fmt(a.ssim.mean)}`)
    }
    if (s.pairs.length) {
      io.out('')
      io.out('paired per-tile differences (a − b), Wilcoxon signed-rank:')
      for (const p of s.pairs) {
        io.out(`  ${METRIC_COLUMN[p.metric].padEnd(10)} ${p.a} − ${p.b}: ${fmt(p.meanDiff)} [${fmt(p.lower)}, ${fmt(p.upper)}], W = ${p.wilcoxonW}, p = ${p.pValue.toPrecision(3)} (${p.test}, n = ${p.n})`)
      }
    }
    return exit
  }
}

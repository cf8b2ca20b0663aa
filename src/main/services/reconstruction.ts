// Reconstruction service: band recipes (presets + the user's own, kept in the ledger), studies run
// as engine jobs and recorded in the ledger with their results, and the studies' gallery images,
// served as data URLs by study and tile (only files the study's manifest names).
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { AppContext } from '../app/types'
import { onnxCacheDir, studyDir } from '../app/paths'
import { requirePath } from '../app/require-path'
import { PRITHVI_HLS_STATS } from '@shared/bands'
import { PRESET_NAMES, presetRecipe, type BandRecipe, type PresetName } from '@shared/imputation/recipes'
import { isMaeConfig } from '@shared/models/mae'
import { MAE_NATIVE_METHOD } from '@shared/models/mae-input'
import { canReconstruct } from '@shared/models/input-description'
import { familyOf } from '@shared/models/registry'
import { type RecipeList, type StudyConfig, type ReconstructionStart } from '@shared/ipc/schemas/reconstruction'
import { getModel } from '../models/repository'
import { exportNames } from '@shared/datasets/manifest'
import { versionManifest } from '../datasets/versions'
import { storedPath } from '../datasets/store'
import {
  createStudy,
  failInterruptedStudies,
  finishStudy,
  getCustomRecipes,
  getStudy,
  listStudies,
  removeStudy,
  setCustomRecipes
} from '../reconstruction/repository'



function recipeList(ctx: AppContext): RecipeList {
  return { presets: PRESET_NAMES.map((n) => presetRecipe(n)), custom: getCustomRecipes(ctx.ledger.db) }
}

const isPreset = (name: string): name is PresetName => (PRESET_NAMES as readonly string[]).includes(name)

/** The first `maxTiles` tiles of a frozen dataset version (one split, if given) as image rectangles. */
function datasetRegions(ctx: AppContext, versionId: number, split: string | undefined, maxTiles: number) {
  const manifest = versionManifest(ctx.ledger.db, versionId)
  const tiles = manifest.tiles.filter((t) => !split || t.split === split).slice(0, maxTiles)
  if (!tiles.length) throw new Error(`dataset version ${versionId} has no${split ? ` ${split}` : ''} tiles`)
  const names = exportNames(tiles)
  return tiles.map((t) => {
    const path = storedPath(ctx.dataDir, `${t.image.sha256}.${t.image.ext}`)
    if (!existsSync(path)) throw new Error(`the pixels of ${t.image.fileName} are missing from the data folder (${path})`)
    return { path, ref: names.get(t.tileId)!, x: t.x, y: t.y, width: t.width, height: t.height }
  })
}

/**
 * The reconstruction-study use case, for the Reconstruction view (through `reconstruction:start`)
 * and `marsfm reconstruct` alike: records the study in the ledger, runs the engine job, and records
 * its outcome (or why it failed) when the job ends. `extras.noise`: the caller's mask noise, one
 * array of L numbers per tile (the CLI's --mask-noise).
 */
export async function startStudy(ctx: AppContext, req: ReconstructionStart, extras: { noise?: number[][] } = {}): Promise<{ jobId: string; studyId: number }> {
  const model = getModel(ctx.ledger.db, req.modelId)
  if (!model) throw new Error(`no model #${req.modelId}`)
  if (!existsSync(model.path)) throw new Error(`the checkpoint of ${model.name} is gone: ${model.path}`)
  if (req.source.kind === 'folder') requirePath(req.source.path, 'folder', 'folder')
  if (req.source.kind === 'files') for (const f of req.source.paths) requirePath(f, 'image')
  const regions = req.source.kind === 'dataset-version' ? datasetRegions(ctx, req.source.versionId, req.source.split, req.maxTiles) : null
  const methods = [...new Set(req.methods)]
  const custom = new Map(getCustomRecipes(ctx.ledger.db).map((r) => [r.name, r]))
  const stats = model.stats ?? PRITHVI_HLS_STATS
  const maeConfig = isMaeConfig(model.config) ? model.config : undefined
  const mae = maeConfig !== undefined
  if (mae) {
    // The MAE layout has one input (its own).
    if (methods.length !== 1 || methods[0] !== MAE_NATIVE_METHOD) throw new Error(`${model.name} is a facebookresearch-MAE model (MOMO): its study method is "${MAE_NATIVE_METHOD}" (its own 0-1 input and mean/std), not ${methods.join(', ')}`)
  }
  if (!canReconstruct(model)) {
    throw new Error(`${model.name} is encoder-only (no decoder weights, like MOMO's merged momo.pth): reconstruction needs the full masked autoencoder; use it for fine-tuning and probing (Backbones view, marsfm probe)`)
  }
  // Presets travel by name (the engine builds them for the model's stats); user recipes in full.
  const engineMethods: (string | BandRecipe)[] = methods.map((name) => {
    if (isPreset(name) || mae) return name
    if (name === MAE_NATIVE_METHOD) throw new Error(`"${MAE_NATIVE_METHOD}" is the MAE family's own preprocessing; ${model.name} is a Prithvi model: compare imputation recipes (${PRESET_NAMES.join(', ')})`)
    const r = custom.get(name)
    if (!r) throw new Error(`unknown method "${name}": not a preset and not a saved recipe`)
    return r
  })
  const recipes = mae ? [] : methods.map((name) => (isPreset(name) ? presetRecipe(name, stats) : custom.get(name)!))
  const { name, modelId: _m, source, methods: _methods, ...settings } = req
  const preprocessing = maeConfig
    ? `${MAE_NATIVE_METHOD}: 0-1 scale, ${maeConfig.in_chans === 1 ? 'RGB to grey' : 'grey replicated to RGB'}, mean ${maeConfig.mean.join('/')} std ${maeConfig.std.join('/')}`
    : `imputation recipes: ${methods.join(', ')}`
  const config: StudyConfig = { ...settings, source, methods, recipes, model: { id: model.id, name: model.name, sha256: model.sha256 }, family: familyOf(model.config).id, preprocessing }
  const studyName = name ?? `${methods.join(' vs ')} · ${model.name}`
  const id = createStudy(ctx.ledger.db, studyName, config, source.kind === 'dataset-version' ? source.versionId : null)
  const galleryDir = studyDir(ctx.dataDir, id)
  const params = {
    ...settings,
    checkpoint: model.path,
    config: model.config,
    stats: model.stats,
    sha256: model.sha256,
    ...(source.kind === 'folder' ? { folder: source.path } : source.kind === 'files' ? { images: source.paths } : { regions: regions! }),
    methods: engineMethods,
    ...(extras.noise ? { noise: extras.noise } : {}),
    cacheDir: onnxCacheDir(ctx.dataDir),
    galleryDir
  }
  try {
    const jobId = await ctx.jobs.startEngineJob('reconstruction-study', `Reconstruction study #${id}: ${methods.join(', ')}`, params, {
      onFinish: (job, outcome) => {
        try {
          // A cancel that came as the last batch finished still brings every tile: the study is done.
          if (outcome && (job.state === 'done' || (job.state === 'cancelled' && !outcome.partial))) {
            finishStudy(ctx.ledger.db, id, 'done', null, outcome)
            ctx.log.write('info', 'reconstruction', `study #${id} done`)
          } else if (job.state === 'cancelled' && outcome?.partial) {
            // Cancelled after some tiles: those are a study of their own, kept and marked partial.
            const { tilesDone, tilesPlanned } = outcome.partial
            finishStudy(ctx.ledger.db, id, 'cancelled', `cancelled after ${tilesDone} of ${tilesPlanned} tiles; the finished tiles are kept (partial study)`, outcome)
            ctx.log.write('info', 'reconstruction', `study #${id} cancelled: ${tilesDone} of ${tilesPlanned} tiles kept`)
          } else {
            finishStudy(ctx.ledger.db, id, job.state === 'cancelled' ? 'cancelled' : 'failed', job.error?.message ?? job.state)
          }
        } catch (err) {
          finishStudy(ctx.ledger.db, id, 'failed', `could not record the results: ${(err as Error).message}`)
        }
      }
    })
    return { jobId, studyId: id }
  } catch (err) {
    finishStudy(ctx.ledger.db, id, 'failed', (err as Error).message)
    throw err
  }
}

/** Saves a user recipe (a preset's name is refused); answers the updated list. */
export function saveRecipe(ctx: AppContext, recipe: BandRecipe): RecipeList {
  if (isPreset(recipe.name)) throw new Error(`"${recipe.name}" is a preset; give your recipe another name`)
  const others = getCustomRecipes(ctx.ledger.db).filter((r) => r.name !== recipe.name)
  setCustomRecipes(ctx.ledger.db, [...others, recipe].sort((a, b) => a.name.localeCompare(b.name)))
  return recipeList(ctx)
}

export function deleteRecipe(ctx: AppContext, name: string): RecipeList {
  setCustomRecipes(ctx.ledger.db, getCustomRecipes(ctx.ledger.db).filter((r) => r.name !== name))
  return recipeList(ctx)
}

export function studyOrThrow(ctx: AppContext, id: number) {
  const study = getStudy(ctx.ledger.db, id)
  if (!study) throw new Error(`no study #${id}`)
  return study
}

/** One gallery tile's PNG panels (only files the study's stored manifest names). */
export function galleryTile(ctx: AppContext, studyId: number, index: number) {
  const study = getStudy(ctx.ledger.db, studyId)
  const tile = study?.outcome?.gallery?.tiles.find((t) => t.index === index)
  if (!tile) throw new Error(`study #${studyId} has no gallery tile ${index}`)
  const dir = studyDir(ctx.dataDir, studyId)
  return {
    index: tile.index,
    tile: tile.tile,
    errorMax: tile.errorMax,
    // File names come from the stored manifest and match /^[\w.-]+\.png$/: no path can escape dir.
    panels: tile.panels.map((p) => ({
      kind: p.kind,
      ...(p.method ? { method: p.method } : {}),
      dataUrl: `data:image/png;base64,${readFileSync(join(dir, p.file)).toString('base64')}`
    }))
  }
}

/** Removes a finished study, its rows and its gallery files. */
export function deleteStudy(ctx: AppContext, id: number): { ok: true } {
  const study = studyOrThrow(ctx, id)
  if (study.status === 'running') throw new Error(`study #${id} is still running: cancel it first`)
  removeStudy(ctx.ledger.db, id)
  rmSync(studyDir(ctx.dataDir, id), { recursive: true, force: true })
  return { ok: true }
}

export function registerReconstructionService(ctx: AppContext): void {
  // A CLI command may run beside the app on the same data folder: only the app marks leftovers.
  const interrupted = ctx.mode === 'cli' ? 0 : failInterruptedStudies(ctx.ledger.db)
  if (interrupted) ctx.log.write('warn', 'reconstruction', `${interrupted} study(ies) were interrupted by the last shutdown`)

  ctx.router.handle('reconstruction:recipes', () => recipeList(ctx))
  ctx.router.handle('reconstruction:save-recipe', ({ recipe }) => saveRecipe(ctx, recipe))
  ctx.router.handle('reconstruction:delete-recipe', ({ name }) => deleteRecipe(ctx, name))
  ctx.router.handle('reconstruction:start', (req) => startStudy(ctx, req))
  ctx.router.handle('reconstruction:list', () => listStudies(ctx.ledger.db))
  ctx.router.handle('reconstruction:get', ({ id }) => studyOrThrow(ctx, id))
  ctx.router.handle('reconstruction:gallery-tile', ({ studyId, index }) => galleryTile(ctx, studyId, index))
  ctx.router.handle('reconstruction:remove', ({ id }) => deleteStudy(ctx, id))
}

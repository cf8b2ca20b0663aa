// A reconstruction study: RGB tiles → six bands by each method → the Prithvi MAE with one shared
// mask per tile (and mask seed) → per tile and method the model loss, the RGB loss and display-space
// MSE / PSNR / SSIM → aggregates and paired tests. Used by the engine job (app and CLI) and the bench.
// A facebookresearch-MAE model (MOMO) takes its own input instead of the recipes: the one method
// 'native' (0-1 scale, grey or RGB as in_chans asks, the model's mean/std; its own MAE loss).
import { basename } from 'node:path'
import { z } from 'zod'
import { PRITHVI_HLS_STATS, type BandStats } from '@shared/bands'
import { modelInputToRgb, patchErrorMap, toBytes } from '@shared/imputation/display'
import { toReflectance } from '@shared/imputation/preprocess'
import { assertRecipe, buildModelInput, PRESET_NAMES, presetRecipe, type BandRecipe, type PresetName } from '@shared/imputation/recipes'
import { type GalleryManifest, type ResultRow, type StudyOutcome } from '@shared/ipc/schemas/reconstruction'
import type { EngineJobInput } from '@shared/engine/jobs'
import { mse, psnr, ssim } from '@shared/stats'
import { summariseStudy } from '@shared/reconstruction/summary'
import { assertUsable, loadCheckpoint, readModelConfig, sha256File, type LoadedCheckpoint } from '../checkpoint'
import type { PrithviConfig } from '../model/config'
import { isMaeConfig } from '@shared/models/mae'
import { MAE_NATIVE_METHOD, denormalisePatches, maeNativeInput, maeNativeToRgb, maePatchErrors } from '@shared/models/mae-input'
import type { WeightMap } from '../model/weights'
import type { TfHandle } from '../tf/handle'
import { listImages, readStudyTiles } from './images'
import { tileNoise } from './noise'
import { patchifyBatch, sampleLosses, unpatchifySample } from './patches'
import { createOrtRunner, createTfjsRunner, layoutOf, type MaeRunner } from './runners'
import { writeGalleryTile, type GalleryMethod } from './gallery'
import { checkAborted } from '../jobs/abort'

/** The study's params, parsed (the engine parses them once, at the job boundary). */
export type StudyJobParams = EngineJobInput<'reconstruction-study'>

export interface StudyEnv {
  tf?: TfHandle
  signal?: AbortSignal
  progress?: (done: number, total: number, message: string) => void
  log?: (message: string) => void
}

/** A preset name (for the model's stats) or a user recipe, checked. */
export function resolveRecipe(method: string | BandRecipe, stats: BandStats): BandRecipe {
  if (typeof method !== 'string') {
    assertRecipe(method)
    return method
  }
  if (!(PRESET_NAMES as readonly string[]).includes(method)) throw new Error(`unknown method "${method}" (presets: ${PRESET_NAMES.join(', ')})`)
  return presetRecipe(method as PresetName, stats)
}

/** Why an encoder-only checkpoint (MOMO's merged momo.pth, a fine-tuned backbone) cannot reconstruct. */
export const ENCODER_ONLY =
  'this checkpoint has no decoder weights (encoder only, like MOMO\'s merged momo.pth): a reconstruction study needs the full masked autoencoder; the encoder can still be fine-tuned and probed (Backbones view, marsfm probe)'

/** The methods a model takes: the recipes for Prithvi, 'native' alone for the MAE layout. */
export function checkStudyMethods(cfg: PrithviConfig, methods: readonly (string | BandRecipe)[]): void {
  const names = methods.map((m) => (typeof m === 'string' ? m : m.name))
  if (isMaeConfig(cfg)) {
    if (names.length !== 1 || names[0] !== MAE_NATIVE_METHOD) {
      throw new Error(`a facebookresearch-MAE model (MOMO) takes its own input: use --methods ${MAE_NATIVE_METHOD}, not ${names.join(', ')} (the imputation recipes build Prithvi's six bands)`)
    }
  } else if (names.includes(MAE_NATIVE_METHOD)) {
    throw new Error(`"${MAE_NATIVE_METHOD}" is the MAE family's own preprocessing; a Prithvi model compares imputation recipes (${PRESET_NAMES.join(', ')})`)
  }
}

interface ResolvedModel {
  cfg: PrithviConfig
  stats: BandStats
  sha256: string
  weights: () => Promise<WeightMap>
}

async function resolveModel(p: StudyJobParams): Promise<ResolvedModel> {
  let cfg: PrithviConfig | undefined = p.config ? { ...p.config } : undefined
  let stats: BandStats | undefined = p.stats ?? undefined
  let loaded: LoadedCheckpoint | undefined
  if (!cfg && p.configPath) {
    const file = await readModelConfig(p.configPath)
    cfg = file.config
    stats ??= file.stats
  }
  if (!cfg) {
    loaded = await loadCheckpoint(p.checkpoint)
    cfg = loaded.config
    stats ??= loaded.stats
  }
  // The study feeds single frames: [B, 6, 1, H, W] (the MAE layout: [B, in_chans, 1, H, W]).
  cfg = { ...cfg, num_frames: 1 }
  if (!isMaeConfig(cfg)) {
    if (cfg.in_chans !== 6) throw new Error(`the reconstruction study needs a 6-band model; this one has ${cfg.in_chans} input channels`)
    if (cfg.norm_pix_loss) throw new Error('models trained with norm_pix_loss predict normalised patches; the study compares raw reconstructions')
  }
  const finalCfg = cfg
  const sha256 = p.sha256 ?? loaded?.sha256 ?? (await sha256File(p.checkpoint))
  const weights = async () => {
    const l = loaded && loaded.config.num_frames === 1 ? loaded : await loadCheckpoint(p.checkpoint, { config: finalCfg })
    assertUsable(l, basename(p.checkpoint))
    if (!l.hasDecoder) throw new Error(ENCODER_ONLY)
    return l.weights
  }
  return { cfg: finalCfg, stats: stats ?? PRITHVI_HLS_STATS, sha256, weights }
}

/** Where the study ran, for the outcome (requested / fallback only for ONNX Runtime). */
function backendUsed(r: MaeRunner): StudyOutcome['backend'] {
  return { name: r.name, device: r.device, notes: r.notes, ...(r.requested ? { requested: r.requested } : {}), ...(r.fallback ? { fallback: r.fallback } : {}) }
}

/** Visible patches from the original bytes, removed ones from the reconstruction (HWC, 8-bit units). */
function composite(original: Uint8Array, reconRgb: Float32Array, mask: ArrayLike<number>, size: number, patch: number): Float32Array {
  const g = size / patch
  const out = new Float32Array(size * size * 3)
  for (let p = 0; p < size * size; p++) {
    const l = Math.floor(Math.floor(p / size) / patch) * g + Math.floor((p % size) / patch)
    const src = mask[l] === 0 ? original : reconRgb
    out[p * 3] = src[p * 3]!
    out[p * 3 + 1] = src[p * 3 + 1]!
    out[p * 3 + 2] = src[p * 3 + 2]!
  }
  return out
}

export async function runStudy(p: StudyJobParams, env: StudyEnv = {}): Promise<StudyOutcome> {
  const progress = env.progress ?? (() => {})
  const t0 = performance.now()
  progress(0, 1, 'loading the model')
  const model = await resolveModel(p)
  const { cfg, stats } = model
  const layout = layoutOf(cfg)
  const size = cfg.img_size
  const patch = cfg.patch_size
  const L = (size / patch) ** 2
  const C = cfg.in_chans
  checkStudyMethods(cfg, p.methods)
  const mae = isMaeConfig(cfg) ? cfg : undefined
  const recipes = mae ? [] : p.methods.map((m) => resolveRecipe(m, stats))
  const names = mae ? [MAE_NATIVE_METHOD] : recipes.map((r) => r.name)
  if (new Set(names).size !== names.length) throw new Error(`methods must have distinct names: ${names.join(', ')}`)

  let runner: MaeRunner
  if (p.backend === 'tfjs') {
    if (!env.tf) throw new Error('the tfjs backend needs the engine\'s TensorFlow.js')
    runner = createTfjsRunner(env.tf.tf, env.tf.backend, cfg, await model.weights(), p.maskRatio)
  } else {
    runner = await createOrtRunner({ cacheDir: p.cacheDir, sha256: model.sha256, cfg, maskRatio: p.maskRatio, weights: model.weights, device: p.device, ...(p.threads ? { intraOpThreads: p.threads } : {}) })
  }
  for (const note of runner.notes) env.log?.(note)
  const loadSeconds = (performance.now() - t0) / 1000

  try {
    const t1 = performance.now()
    // Images → tiles (only as many as needed).
    const regions = p.regions
    const images = regions ? regions.map((r) => r.path) : (p.images ?? (p.folder ? listImages(p.folder) : []))
    if (images.length === 0) throw new Error(p.folder ? `no images (jpg, png, tif, webp) in ${p.folder}` : 'no images given')
    if (p.noise && p.noise.length !== images.length) throw new Error(`the noise file has ${p.noise.length} arrays for ${images.length} images`)
    for (const [i, n] of (p.noise ?? []).entries()) {
      if (n.length !== L) throw new Error(`noise for image ${i + 1} has ${n.length} values; this model has L = ${L} patches`)
    }
    // An unreadable image (a text file renamed .jpg) is skipped and named; only a study with
    // nothing readable left fails.
    const { tiles, skipped } = await readStudyTiles(images, regions, size, p.geometry, p.maxTiles, {
      check: () => checkAborted(env.signal),
      progress: (done, message) => progress(done, p.maxTiles, message)
    })
    for (const s of skipped) env.log?.(`skipped ${s.path}: ${s.reason}`)
    if (tiles.length === 0) {
      if (skipped.length === images.length) throw new Error(`none of the ${images.length} image(s) could be read (${skipped[0]!.path}: ${skipped[0]!.reason})`)
      throw new Error(`no ${size}×${size} tiles could be cut from the images`)
    }

    const seeds = p.noise ? [-1] : Array.from({ length: p.maskSeeds }, (_, k) => (p.seed + k) >>> 0)
    const M = names.length
    const perTile = seeds.length * M
    const tilesPerBatch = Math.max(1, Math.floor(p.batchSize / perTile))
    const rows: ResultRow[] = []
    const galleryTiles: GalleryManifest['tiles'] = []
    const plane = size * size

    let tilesDone = 0
    for (let start = 0; start < tiles.length; start += tilesPerBatch) {
      // A cancel keeps the tiles already finished (a partial study); before the first, nothing.
      if (env.signal?.aborted && tilesDone > 0) break
      checkAborted(env.signal)
      const chunk = tiles.slice(start, start + tilesPerBatch)
      const n = chunk.length * perTile
      const pixels = new Float32Array(n * C * plane)
      const noise = new Float32Array(n * L)
      chunk.forEach((tile, ti) => {
        let inputs: Float32Array[]
        if (mae) inputs = [maeNativeInput(tile.rgb.data, size, mae)]
        else {
          const refl = toReflectance(tile.rgb.data, size, size, stats, { truncate: p.truncate })
          inputs = recipes.map((r) => buildModelInput(refl, r, stats))
        }
        seeds.forEach((seed, si) => {
          const tileNoiseValues = p.noise ? Float32Array.from(p.noise[tile.imageIndex]!) : tileNoise(L, seed, start + ti)
          for (let m = 0; m < M; m++) {
            const s = (ti * seeds.length + si) * M + m
            pixels.set(inputs[m]!, s * C * plane)
            noise.set(tileNoiseValues, s * L)
          }
        })
      })
      const out = await runner.run(pixels, n, noise)
      // norm_pix_loss models predict standardised patches: shown with each target patch's own mean and spread.
      const P = patch * patch * C
      const shown = mae?.norm_pix_loss ? denormalisePatches(out.pred, patchifyBatch(pixels, n, layout), n, L, P) : out.pred
      for (const [ti, tile] of chunk.entries()) {
        const tileIndex = start + ti
        const original = tile.rgb.data as Uint8Array
        for (const [si, seed] of seeds.entries()) {
          const gallery: GalleryMethod[] = []
          const s0 = (ti * seeds.length + si) * M
          const mask = out.mask.subarray(s0 * L, (s0 + 1) * L)
          for (let m = 0; m < M; m++) {
            const s = s0 + m
            const losses = sampleLosses(out.pred, out.target, out.mask, s, layout)
            const predImg = unpatchifySample(shown, s, layout) // [C, H, W] normalised
            const comp = composite(original, mae ? maeNativeToRgb(predImg, size, mae) : modelInputToRgb(predImg, size, size, stats), mask, size, patch)
            const compBytes = toBytes(comp)
            const displayMse = mse(original, compBytes)
            rows.push({
              tile: tile.ref,
              method: names[m]!,
              maskSeed: seed,
              modelLoss: losses.model,
              rgbLoss: losses.rgb,
              displayMse,
              psnr: displayMse === 0 ? 100 : psnr(original, compBytes),
              ssim: ssim(original, compBytes, size, size, { channels: 3 })
            })
            if (p.galleryDir && si === 0 && tileIndex < p.galleryTiles) {
              const inputImg = pixels.subarray(s * C * plane, (s + 1) * C * plane)
              const patchError = mae ? maePatchErrors(inputImg, predImg, C, patch, size) : patchErrorMap(inputImg, predImg, patch, size, size)
              gallery.push({ method: names[m]!, composite: comp, patchError })
            }
          }
          if (gallery.length) {
            galleryTiles.push(await writeGalleryTile(p.galleryDir!, size, patch, { index: tileIndex, tile: tile.ref, maskSeed: seed, original, mask, methods: gallery }))
          }
        }
      }
      tilesDone = Math.min(tiles.length, start + chunk.length)
      progress(tilesDone, tiles.length, `${tilesDone} of ${tiles.length} tiles`)
    }
    const seconds = (performance.now() - t1) / 1000
    const partial = tilesDone < tiles.length
    progress(tilesDone, tiles.length, partial ? `cancelled after ${tilesDone} of ${tiles.length} tiles: aggregating those` : 'aggregating')
    const summary = summariseStudy(rows, names, { iterations: p.bootstrapIterations, seed: p.seed })
    return {
      backend: backendUsed(runner),
      model: { sha256: model.sha256, imgSize: size, patchSize: patch },
      tiles: tiles.slice(0, tilesDone).map((t) => ({ ref: t.ref, image: t.image, x: t.x, y: t.y, width: t.width, height: t.height })),
      ...(partial ? { partial: { tilesDone, tilesPlanned: tiles.length } } : {}),
      rows,
      summary,
      gallery: p.galleryDir ? { size, patch, tiles: galleryTiles } : null,
      skipped,
      timing: { loadSeconds, seconds, tilesPerSecond: tilesDone / seconds }
    }
  } finally {
    await runner.dispose()
  }
}

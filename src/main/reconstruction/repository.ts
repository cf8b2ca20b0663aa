// Reconstruction studies in the ledger: the study row (configuration, status, summary and gallery
// manifest as JSON), its per-tile results, and the user's own band recipes (settings table).
import type { Db } from '../ledger/ledger'
import { getSetting, setSetting } from '../settings/settings'
import {
  BandRecipeSchema,
  StudyConfig,
  StudyOutcome,
  type ResultRow,
  type StudyDetail,
  type StudyListItem
} from '@shared/ipc/schemas/reconstruction'
import type { BandRecipe } from '@shared/imputation/recipes'

export const RECIPES_SETTING = 'reconstruction.recipes'

export function getCustomRecipes(db: Db): BandRecipe[] {
  const parsed = getSetting<unknown>(db, RECIPES_SETTING, [])
  // A hand-edited or older entry that no longer validates is skipped, not fatal.
  return Array.isArray(parsed) ? parsed.flatMap((r) => {
    const ok = BandRecipeSchema.safeParse(r)
    return ok.success ? [ok.data] : []
  }) : []
}

export function setCustomRecipes(db: Db, recipes: readonly BandRecipe[]): void {
  setSetting(db, RECIPES_SETTING, recipes)
}

interface StudyRow {
  id: number
  name: string
  model_id: number | null
  config_json: string
  status: StudyListItem['status']
  status_reason: string | null
  summary_json: string | null
  created_at: string
  finished_at: string | null
}

export function createStudy(db: Db, name: string, config: StudyConfig, datasetVersionId: number | null = null): number {
  const info = db
    .prepare(`INSERT INTO reconstruction_studies (name, model_id, dataset_version_id, config_json, status, created_at) VALUES (?, ?, ?, ?, 'running', ?)`)
    .run(name, config.model.id, datasetVersionId, JSON.stringify(config), new Date().toISOString())
  return Number(info.lastInsertRowid)
}

/**
 * Records how a study ended; one with an outcome (done, or cancelled with its finished tiles kept)
 * gets its results and summary in one transaction.
 */
export function finishStudy(db: Db, id: number, status: 'done' | 'failed' | 'cancelled', reason: string | null, outcome?: StudyOutcome): void {
  db.transaction(() => {
    if (outcome) {
      const insert = db.prepare(
        `INSERT INTO reconstruction_results (study_id, tile_ref, method, mask_seed, model_loss, rgb_loss, display_mse, psnr, ssim)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      for (const r of outcome.rows) insert.run(id, r.tile, r.method, r.maskSeed, r.modelLoss, r.rgbLoss, r.displayMse, r.psnr, r.ssim)
    }
    const { rows: _rows, ...rest } = outcome ?? { rows: [] }
    db.prepare('UPDATE reconstruction_studies SET status = ?, status_reason = ?, summary_json = ?, finished_at = ? WHERE id = ?').run(
      status,
      reason,
      outcome ? JSON.stringify(rest) : null,
      new Date().toISOString(),
      id
    )
  })()
}

/** Studies left 'running' by an app that stopped mid-study. */
export function failInterruptedStudies(db: Db): number {
  return db
    .prepare(`UPDATE reconstruction_studies SET status = 'failed', status_reason = 'interrupted: the app stopped while this study was running', finished_at = ? WHERE status = 'running'`)
    .run(new Date().toISOString()).changes
}

function toListItem(r: StudyRow): StudyListItem {
  const config = JSON.parse(r.config_json) as StudyConfig
  const summary = r.summary_json ? (JSON.parse(r.summary_json) as { summary?: { tiles?: number }; partial?: { tilesDone: number; tilesPlanned: number } }) : null
  return {
    id: r.id,
    name: r.name,
    modelId: r.model_id,
    status: r.status,
    statusReason: r.status_reason,
    methods: config.methods,
    tiles: summary?.summary?.tiles ?? null,
    partial: summary?.partial ?? null,
    createdAt: r.created_at,
    finishedAt: r.finished_at
  }
}

export function listStudies(db: Db): StudyListItem[] {
  return (db.prepare('SELECT * FROM reconstruction_studies ORDER BY created_at DESC, id DESC').all() as StudyRow[]).map(toListItem)
}

export function getStudy(db: Db, id: number): StudyDetail | null {
  const r = db.prepare('SELECT * FROM reconstruction_studies WHERE id = ?').get(id) as StudyRow | undefined
  if (!r) return null
  const results = db
    .prepare(`SELECT tile_ref, method, mask_seed, model_loss, rgb_loss, display_mse, psnr, ssim FROM reconstruction_results WHERE study_id = ? ORDER BY rowid`)
    .all(id) as { tile_ref: string; method: string; mask_seed: number; model_loss: number; rgb_loss: number; display_mse: number | null; psnr: number | null; ssim: number | null }[]
  const rows: ResultRow[] = results.map((x) => ({
    tile: x.tile_ref,
    method: x.method,
    maskSeed: x.mask_seed,
    modelLoss: x.model_loss,
    rgbLoss: x.rgb_loss,
    displayMse: x.display_mse ?? NaN,
    psnr: x.psnr ?? NaN,
    ssim: x.ssim ?? NaN
  }))
  const outcome = r.summary_json ? StudyOutcome.omit({ rows: true }).parse(JSON.parse(r.summary_json)) : null
  return { ...toListItem(r), config: StudyConfig.parse(JSON.parse(r.config_json)), outcome, rows }
}

export function removeStudy(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM reconstruction_studies WHERE id = ?').run(id).changes > 0
}

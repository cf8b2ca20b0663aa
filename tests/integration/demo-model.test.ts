import { afterEach, describe, expect, it } from 'vitest'
import { openLedger } from '@main/ledger/ledger'
import { AppLog } from '@main/app/log'
import { DEMO_MODEL_NAME, ensureDemoModel, ensureDemoModels } from '@main/models/demo'
import { DEMO_MODELS } from '@shared/models/demo-models'
import { listModels } from '@main/models/repository'
import { tempHome } from '../support/temp-home'

const homes: { remove(): void }[] = []
afterEach(() => homes.splice(0).forEach((h) => h.remove()))

function setup() {
  const home = tempHome()
  homes.push(home)
  return { ledger: openLedger(home.dir), log: new AppLog(false) }
}

function insertOldDemo(db: ReturnType<typeof openLedger>['db'], path: string): number {
  return Number(
    db
      .prepare(
        `INSERT INTO models (name, path, sha256, format, config_json, param_count, dtype, report_json, source, created_at)
         VALUES (?, ?, 'old-sha-0123456789', 'safetensors', '{}', 1, 'float32', '{}', 'demo', '2026-01-01')`
      )
      .run(DEMO_MODEL_NAME, path).lastInsertRowid
  )
}

describe('the shipped demo model', () => {
  it('is registered once, with its SHA-256, config and band statistics', () => {
    const ctx = setup()
    const first = ensureDemoModel(ctx)!
    expect(first.source).toBe('demo')
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(first.config.embed_dim).toBeGreaterThan(0)
    expect(first.stats?.mean).toHaveLength(6)
    expect(first.report.loaded).toContain('decoder_pred.weight')
    expect(ensureDemoModel(ctx)!.id).toBe(first.id)
    expect(listModels(ctx.ledger.db)).toHaveLength(1)
    ctx.ledger.close()
  })

  it('ships a crater encoder beside the MAE: encoder-only, registered once with its own source', () => {
    const ctx = setup()
    ensureDemoModels(ctx)
    ensureDemoModels(ctx)
    const models = listModels(ctx.ledger.db)
    expect(models.map((m) => m.source).sort()).toEqual(['demo', 'demo-crater'])
    const crater = models.find((m) => m.source === 'demo-crater')!
    expect(crater.name).toBe(DEMO_MODELS.crater.name)
    expect(crater.report.loaded.some((n) => n.startsWith('decoder'))).toBe(false)
    expect(crater.config.img_size).toBe(128)
    expect(crater.sha256).not.toBe(models.find((m) => m.source === 'demo')!.sha256)
    // A newer crater encoder retires the older row without touching the MAE's.
    ctx.ledger.db.prepare("UPDATE models SET sha256 = 'older-crater' WHERE source = 'demo-crater'").run()
    expect(ensureDemoModel(ctx, 'crater')!.sha256).toBe(crater.sha256)
    expect(listModels(ctx.ledger.db).map((m) => m.source).sort()).toEqual(['demo', 'demo-crater'])
    ctx.ledger.close()
  })

  it('replaces the row of an older demo model, and keeps (renamed) one that runs refer to', () => {
    const ctx = setup()
    const current = ensureDemoModel(ctx)!
    ctx.ledger.db.prepare('DELETE FROM models').run()
    insertOldDemo(ctx.ledger.db, current.path)
    ensureDemoModel(ctx)
    expect(listModels(ctx.ledger.db).map((m) => m.sha256)).toEqual([current.sha256])

    ctx.ledger.db.prepare("UPDATE models SET sha256 = 'newer-than-shipped' WHERE source = 'demo'").run()
    const referenced = ctx.ledger.db.prepare("SELECT id FROM models WHERE source = 'demo'").get() as { id: number }
    ctx.ledger.db
      .prepare("INSERT INTO runs (name, task, status, config_json, model_id, seed, app_version, created_at) VALUES ('r', 'classification', 'done', '{}', ?, 0, '0', 'now')")
      .run(referenced.id)
    ensureDemoModel(ctx)
    const models = listModels(ctx.ledger.db)
    expect(models.filter((m) => m.source === 'demo')).toHaveLength(1)
    const kept = models.find((m) => m.id === referenced.id)!
    expect(kept.source).toBe('demo-superseded')
    expect(kept.name).toMatch(/superseded/)
    ctx.ledger.close()
  })
})

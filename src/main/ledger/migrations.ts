// Numbered ledger migrations. Each runs in its own transaction and is recorded in
// `schema_migrations`; the first failure stops the upgrade and leaves the file as it was.
import type { Database } from 'better-sqlite3'

export interface Migration {
  version: number
  name: string
  up: (db: Database) => void
}

const initial: Migration = {
  version: 1,
  name: 'initial ledger',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL
      ) STRICT;

      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        config_json TEXT NOT NULL,
        stats_json TEXT,
        param_count INTEGER NOT NULL,
        dtype TEXT NOT NULL,
        report_json TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'imported',
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        task TEXT NOT NULL DEFAULT 'classification',
        classes_json TEXT NOT NULL DEFAULT '["crater","no-crater"]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        file_name TEXT NOT NULL,
        format TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        channels INTEGER NOT NULL,
        bit_depth INTEGER NOT NULL,
        observation_id TEXT,
        thumbnail BLOB,
        created_at TEXT NOT NULL,
        UNIQUE (dataset_id, sha256)
      ) STRICT;

      CREATE TABLE tiles (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        x INTEGER NOT NULL,
        y INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        observation_id TEXT,
        split TEXT CHECK (split IN ('train', 'valid', 'test')),
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX tiles_by_dataset ON tiles(dataset_id);

      CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,
        class_name TEXT NOT NULL,
        annotator TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (tile_id, annotator)
      ) STRICT;

      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        tile_id INTEGER NOT NULL REFERENCES tiles(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('polygon', 'box', 'ellipse')),
        class_name TEXT NOT NULL DEFAULT 'crater',
        geometry_json TEXT NOT NULL,
        annotator TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE dataset_versions (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        manifest_json TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        frozen_at TEXT NOT NULL,
        UNIQUE (dataset_id, version)
      ) STRICT;

      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        task TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
        status_reason TEXT,
        config_json TEXT NOT NULL,
        dataset_version_id INTEGER REFERENCES dataset_versions(id),
        dataset_hash TEXT,
        model_id INTEGER REFERENCES models(id),
        model_hash TEXT,
        backend TEXT,
        device TEXT,
        seed INTEGER NOT NULL,
        app_version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      ) STRICT;

      CREATE TABLE metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        step INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        recorded_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX metrics_by_run ON metrics(run_id, name, step);
      -- A run's recorded metrics are history: append-only.
      CREATE TRIGGER metrics_no_update BEFORE UPDATE ON metrics
        BEGIN SELECT RAISE(ABORT, 'metrics are append-only'); END;
      CREATE TRIGGER metrics_no_delete BEFORE DELETE ON metrics
        BEGIN SELECT RAISE(ABORT, 'metrics are append-only'); END;

      CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        step INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('best', 'last', 'periodic')),
        path TEXT NOT NULL,
        metric_name TEXT,
        metric_value REAL,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE reconstruction_studies (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        model_id INTEGER REFERENCES models(id),
        dataset_version_id INTEGER REFERENCES dataset_versions(id),
        config_json TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
        status_reason TEXT,
        summary_json TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;

      CREATE TABLE reconstruction_results (
        study_id INTEGER NOT NULL REFERENCES reconstruction_studies(id) ON DELETE CASCADE,
        tile_ref TEXT NOT NULL,
        method TEXT NOT NULL,
        mask_seed INTEGER NOT NULL,
        model_loss REAL NOT NULL,
        rgb_loss REAL NOT NULL,
        display_mse REAL,
        psnr REAL,
        ssim REAL,
        PRIMARY KEY (study_id, tile_ref, method, mask_seed)
      ) STRICT;

      CREATE TABLE inference_jobs (
        id INTEGER PRIMARY KEY,
        model_id INTEGER REFERENCES models(id),
        checkpoint_id INTEGER REFERENCES checkpoints(id),
        input_json TEXT NOT NULL,
        output_json TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
    `)
  }
}

const datasetCuration: Migration = {
  version: 2,
  name: 'dataset curation',
  up(db) {
    db.exec(`
      -- Every edit bumps the revision; a version records the revision it froze, so "edited
      -- since the last freeze" is a comparison, not a guess.
      ALTER TABLE datasets ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE dataset_versions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE dataset_versions ADD COLUMN tile_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE dataset_versions ADD COLUMN counts_json TEXT NOT NULL DEFAULT '{}';
      -- The copy kept in the data folder (images/<sha256>.<ext>), so a dataset survives its
      -- source folder moving; and the colour check's verdict.
      ALTER TABLE images ADD COLUMN stored_name TEXT;
      ALTER TABLE images ADD COLUMN colour TEXT;
      ALTER TABLE tiles ADD COLUMN origin TEXT NOT NULL DEFAULT 'grid' CHECK (origin IN ('grid', 'point', 'whole'));
      ALTER TABLE tiles ADD COLUMN split_manual INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tiles ADD COLUMN thumbnail BLOB;
      ALTER TABLE tiles ADD COLUMN phash TEXT;
      ALTER TABLE tiles ADD COLUMN colour TEXT;
      CREATE UNIQUE INDEX tiles_by_rect ON tiles(image_id, x, y, width, height);
      CREATE INDEX images_by_dataset ON images(dataset_id);
      CREATE INDEX labels_by_tile ON labels(tile_id);
      CREATE INDEX annotations_by_tile ON annotations(tile_id);
      -- A frozen version never changes: runs and studies point at it.
      CREATE TRIGGER dataset_versions_immutable BEFORE UPDATE ON dataset_versions
        BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable'); END;
    `)
  }
}

const deletableRuns: Migration = {
  version: 3,
  name: 'runs can be deleted',
  up(db) {
    db.exec(`
      -- Metrics stay append-only while their run exists; deleting a run (its row first, with
      -- foreign keys deferred to the end of the transaction) may then remove its metrics.
      DROP TRIGGER metrics_no_delete;
      CREATE TRIGGER metrics_no_delete BEFORE DELETE ON metrics
        WHEN EXISTS (SELECT 1 FROM runs WHERE id = OLD.run_id)
        BEGIN SELECT RAISE(ABORT, 'metrics are append-only'); END;
      CREATE INDEX checkpoints_by_run ON checkpoints(run_id);
      -- A deleted run leaves its id, name and the time here, so run ids are never reused (notes,
      -- exports and inference jobs cite them).
      CREATE TABLE deleted_runs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        deleted_at TEXT NOT NULL
      ) STRICT;
    `)
  }
}

const backboneStudies: Migration = {
  version: 4,
  name: 'backbone comparison studies',
  up(db) {
    db.exec(`
      -- A comparison of backbones on frozen embeddings of one dataset version: the request and what
      -- it resolved to (backbones with their weights' SHA-256, tiles) as input_json; the probes'
      -- outcome, or why it stopped, as output_json.
      CREATE TABLE backbone_studies (
        id INTEGER PRIMARY KEY,
        dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
        input_json TEXT NOT NULL,
        output_json TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
        created_at TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
    `)
  }
}

const sweepsAndRunUuids: Migration = {
  version: 5,
  name: 'sweeps and run uuids',
  up(db) {
    db.exec(`
      -- A stable identity for a run across ledgers: \`marsfm ledger merge\` brings runs made in other
      -- homes (a Slurm array task each) back without duplicates, whatever their local ids were.
      ALTER TABLE runs ADD COLUMN uuid TEXT;
      UPDATE runs SET uuid = lower(hex(randomblob(16))) WHERE uuid IS NULL;
      CREATE UNIQUE INDEX runs_by_uuid ON runs(uuid);

      -- A sweep: its spec (base config, parameters, method) and one row per trial with the
      -- parameters it draws. A trial's run is a plain id (no foreign key): deleting the run keeps
      -- the sweep's record of what was tried. owner_pid: the process driving it (the app, or a
      -- \`marsfm sweep\` in a shell), so a restarted app does not take over a live CLI's sweep.
      CREATE TABLE sweeps (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        metric TEXT NOT NULL,
        goal TEXT NOT NULL CHECK (goal IN ('max', 'min')),
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'cancelled')),
        status_reason TEXT,
        owner_pid INTEGER,
        created_at TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
      CREATE TABLE sweep_trials (
        sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        params_json TEXT NOT NULL,
        config_json TEXT NOT NULL,
        run_id INTEGER,
        status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled', 'paused')),
        status_reason TEXT,
        PRIMARY KEY (sweep_id, idx)
      ) STRICT;
    `)
  }
}

const runNotesAndLatest: Migration = {
  version: 6,
  name: 'run notes and tags; latest metric per run',
  up(db) {
    db.exec(`
      -- What a scientist writes about a run (free text) and the tags that group it (a JSON array).
      ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
      ALTER TABLE runs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';

      -- The newest value of each metric of each run and the run's highest step, kept by a trigger on
      -- the append-only metrics, so the run list is one query over a few rows per run instead of a
      -- scan of every recorded point (a 1,000-run ledger holds tens of millions).
      CREATE TABLE run_latest_metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        name TEXT NOT NULL,
        value REAL NOT NULL,
        max_step INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO run_latest_metrics (run_id, name, value, max_step)
        SELECT m.run_id, m.name, m.value, s.max_step FROM metrics m
        JOIN (SELECT run_id, name, MAX(rowid) AS last, MAX(step) AS max_step FROM metrics GROUP BY run_id, name) s ON m.rowid = s.last;
      CREATE TRIGGER metrics_latest AFTER INSERT ON metrics BEGIN
        INSERT INTO run_latest_metrics (run_id, name, value, max_step) VALUES (NEW.run_id, NEW.name, NEW.value, NEW.step)
          ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, max_step = MAX(max_step, excluded.max_step);
      END;
      -- Deleting a run deletes its metrics (migration 3); its summary goes with them.
      CREATE TRIGGER metrics_latest_delete AFTER DELETE ON metrics BEGIN
        DELETE FROM run_latest_metrics WHERE run_id = OLD.run_id AND name = OLD.name;
      END;
    `)
  }
}

const labelCorrections: Migration = {
  version: 7,
  name: 'label origins and policy, class mappings of imports',
  up(db) {
    db.exec(`
      -- Where a label came from, so a person's correction of an imported label can win and an
      -- adjudication can decide a conflict (src/shared/datasets/agreement.ts, resolveLabel).
      ALTER TABLE labels ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('import', 'manual', 'adjudication'));
      UPDATE labels SET origin = 'import' WHERE annotator IN ('landmarks', 'imagefolder', 'yolo', 'coco', 'voc');
      ALTER TABLE datasets ADD COLUMN label_policy TEXT NOT NULL DEFAULT 'correction-wins' CHECK (label_policy IN ('correction-wins', 'adjudicate'));
      -- What each import did with its source's classes (kept, merged, dropped).
      ALTER TABLE datasets ADD COLUMN class_mappings_json TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE dataset_versions ADD COLUMN class_mappings_json TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE dataset_versions ADD COLUMN label_policy TEXT NOT NULL DEFAULT 'correction-wins';
    `)
  }
}

const modelCards: Migration = {
  version: 8,
  name: 'model cards',
  up(db) {
    db.exec(`
      -- The card made at import (family, published source, what was inferred and what assumed), as JSON.
      ALTER TABLE models ADD COLUMN card_json TEXT;
    `)
  }
}

/** All migrations in order. Append new ones; never edit a released one. */
export const migrations: readonly Migration[] = [initial, datasetCuration, deletableRuns, backboneStudies, sweepsAndRunUuids, runNotesAndLatest, labelCorrections, modelCards]

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version

// A sweep as a Slurm job array, for when the work outgrows one machine: one run config per trial
// (`trials/<task>.json`) and `sweep.sbatch`, whose array task N runs `marsfm train` on trial N
// with its own MARSFM_HOME (`homes/<N>`): its own SQLite ledger, because one SQLite file shared
// over NFS is not safe. `marsfm ledger merge DIR/homes/*` brings the runs back.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expandSweep } from '@shared/sweeps/spec'
import { CONTROL_CHARACTERS } from '@shared/ipc/schemas/text'
import type { RunConfigInput } from '@shared/ipc/schemas/runs'
import type { AppContext } from '../app/types'
import { exportVersion } from '../datasets/exporter'
import { getModel } from '../models/repository'

export interface SlurmOptions {
  outDir: string
  /** `#SBATCH --time` (Slurm's format). */
  time?: string
  partition?: string
  /** Extra `#SBATCH` options, one per line (`--mem=16G`, `--gres=gpu:1`). */
  sbatch: string[]
  /** How a task calls the CLI (default `marsfm`; e.g. `node /opt/marsfm/bin/marsfm.js`); `$MARSFM` overrides it at run time. */
  marsfm?: string
}

export interface SlurmEmitted {
  script: string
  trials: number
  homes: string
  configs: string[]
}

/** Single-quoted for bash. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Writes the job array. The trials must run on a machine that has never seen this ledger, so
 * what only this ledger knows is made explicit: a dataset version is exported into `DIR/data/`
 * and a model id becomes its file's path (both must be readable from the cluster's nodes).
 */
export async function emitSlurm(ctx: Pick<AppContext, 'ledger' | 'dataDir'>, spec: unknown, o: SlurmOptions): Promise<SlurmEmitted> {
  const sweep = expandSweep(spec)
  for (const line of [...o.sbatch, o.time ?? '', o.partition ?? '', o.marsfm ?? '']) if (CONTROL_CHARACTERS.test(line)) throw new Error('Slurm options must not contain control characters (newlines)')
  if (existsSync(o.outDir) && readdirSync(o.outDir).length) throw new Error(`${o.outDir} is not empty: give a new folder for the job array`)
  mkdirSync(join(o.outDir, 'trials'), { recursive: true })
  mkdirSync(join(o.outDir, 'homes'), { recursive: true })
  mkdirSync(join(o.outDir, 'logs'), { recursive: true })

  const exported = new Map<number, RunConfigInput['data']>()
  const configs: string[] = []
  for (const trial of sweep.trials) {
    const config = { ...trial.config }
    if (config.data.kind === 'dataset-version') {
      const id = config.data.id
      if (!exported.has(id)) {
        const format = config.task === 'segmentation' ? 'mmseg' : 'imagefolder'
        const outDir = join(o.outDir, 'data', `version-${id}-${format}`)
        await exportVersion({ db: ctx.ledger.db, dataDir: ctx.dataDir }, { versionId: id, format, outDir, mask: { mode: 'filled', width: 5 } })
        exported.set(id, { kind: 'folder', path: outDir, layout: config.task === 'segmentation' ? 'mmseg' : config.task === 'pretrain' ? 'images' : 'imagefolder' })
      }
      config.data = exported.get(id)!
    }
    if ('id' in config.model) {
      const model = getModel(ctx.ledger.db, config.model.id)
      if (!model) throw new Error(`trial ${trial.index + 1}: no model #${config.model.id} in this ledger`)
      config.model = { path: model.path }
    }
    const file = join(o.outDir, 'trials', `${trial.index}.json`)
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`)
    configs.push(file)
  }
  writeFileSync(
    join(o.outDir, 'sweep.json'),
    `${JSON.stringify({ spec: sweep.spec, metric: sweep.metric, goal: sweep.goal, trials: sweep.trials.map((t) => ({ task: t.index, params: t.params })) }, null, 2)}\n`
  )

  const jobName = `marsfm-${sweep.spec.name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40)}`
  const script = join(o.outDir, 'sweep.sbatch')
  const lines = [
    '#!/bin/bash',
    `# MarsFM sweep "${sweep.spec.name.replace(/[^\x20-\x7e]/g, '?')}": ${sweep.trials.length} trial(s) (${sweep.spec.method}), ranked by ${sweep.metric} (${sweep.goal}).`,
    '# Written by `marsfm sweep --emit slurm`. Submit with `sbatch sweep.sbatch`; when the array is done,',
    `# merge the runs into your ledger: marsfm ledger merge ${o.outDir}/homes/*`,
    `#SBATCH --job-name=${jobName}`,
    `#SBATCH --array=0-${sweep.trials.length - 1}`,
    `#SBATCH --output=${o.outDir}/logs/%A_%a.out`,
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...o.sbatch.map((s) => `#SBATCH ${s}`),
    'set -euo pipefail',
    `SWEEP_DIR=${sh(o.outDir)}`,
    'TASK="${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: SLURM_ARRAY_TASK_ID is not set}"',
    '# One ledger per task: never one SQLite file shared over NFS.',
    'export MARSFM_HOME="$SWEEP_DIR/homes/$TASK"',
    'mkdir -p "$MARSFM_HOME"',
    `MARSFM="\${MARSFM:-${(o.marsfm ?? 'marsfm').replace(/["$`\\]/g, '\\$&')}}"`,
    '# $MARSFM may be several words (node /path/to/bin/marsfm.js): split on purpose.',
    '# shellcheck disable=SC2086',
    'exec $MARSFM train --config "$SWEEP_DIR/trials/$TASK.json" --log-every 50',
    ''
  ]
  writeFileSync(script, lines.join('\n'), { mode: 0o755 })
  return { script, trials: sweep.trials.length, homes: join(o.outDir, 'homes'), configs }
}

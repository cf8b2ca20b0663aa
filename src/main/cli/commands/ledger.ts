// `marsfm ledger merge HOME…`: brings runs made elsewhere (a Slurm array's task homes, another
// machine's data folder) into this ledger: runs, metrics, checkpoint files, and the models and
// dataset versions they cite, ids remapped, nothing twice. Exit 3 when some runs could not be merged.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Command } from '../command'
import { UsageError } from '../command'
import { mergeLedgers } from '../../merge/ledger-merge'

export const ledgerCommand: Command = {
  name: 'ledger',
  summary: 'merge other ledgers (Slurm task homes, another machine) into this one',
  usage: 'marsfm ledger merge HOME… [--json]      (HOME: a MARSFM_HOME folder or its ledger.sqlite)',
  needsEngine: false,
  async run(args, ctx, io) {
    const [sub, ...rest] = args
    if (sub !== 'merge') throw new UsageError(sub ? `unknown subcommand "${sub}" (merge)` : 'a subcommand is required: merge')
    const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
    if (!positionals.length) throw new UsageError('give the homes to merge (e.g. sweep-out/homes/*)')
    const reports = mergeLedgers(ctx.ledger.db, ctx.dataDir, positionals.map((p) => resolve(p)))
    if (values.json) io.out(JSON.stringify(reports))
    else {
      for (const r of reports) {
        io.out(`${r.home}: ${r.runsAdded} run(s) added (${Object.entries(r.idMap).map(([a, b]) => `#${a}→#${b}`).join(', ') || 'none'}), ${r.runsAlready} already here; ${r.metrics} metric points, ${r.checkpoints} checkpoint file(s), ${r.modelsAdded} model(s), ${r.versionsAdded} dataset version(s)`)
        for (const s of r.skipped) io.out(`  skipped: ${s}`)
        for (const f of r.failed) io.err(`  not merged: ${f}`)
      }
      const added = reports.reduce((n, r) => n + r.runsAdded, 0)
      io.out(`merged into ${ctx.ledger.path}: ${added} run(s) added from ${reports.length} home(s)`)
    }
    const failed = reports.filter((r) => r.failed.length).length
    if (!failed) return 0
    return reports.some((r) => r.runsAdded || r.runsAlready) ? 3 : 1
  }
}

// `marsfm model inspect|import|list|export-onnx`: checkpoints from a shell.
import { parseArgs } from 'node:util'
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { makeDirsSync } from '../../app/make-dirs'
import type { Command, CliIo } from '../command'
import { UsageError, parseOptions } from '../command'
import type { AppContext } from '../../app/types'
import { ModelName, ModelSummary, type ModelRecord } from '@shared/ipc/schemas/models'
import { listModels } from '../../models/repository'
import { importModel } from '../../services/models'
import { followJob, runEngineJob } from '../run-job'
import { printable } from '../text'
import { modelCardLines } from '@shared/models/card-lines'
import { isMaeConfig } from '@shared/models/mae'
import { familyOf } from '@shared/models/registry'

function formatCard(m: Parameters<typeof modelCardLines>[0]): string[] {
  return modelCardLines(m).map(([label, text]) => `${label.padEnd(14)}${printable(text)}`)
}

const USAGE = `marsfm model inspect <checkpoint> [--config yaml|config.json|mae.json] [--json]
       marsfm model import <checkpoint> [--config yaml|config.json|mae.json] [--name NAME]
       marsfm model list [--json]
       marsfm model show <id or name> [--json]      the model's card: family, source, statistics, what was assumed
       marsfm model export-onnx <checkpoint> --out file.onnx [--graph mae|encoder|classifier] [--config yaml|config.json|mae.json] [--mask-ratio 0.5]`

function formatSummary(s: ModelSummary): string {
  const c = s.config
  const family = familyOf(c)
  const lines = [
    `file          ${s.path} (${(s.fileBytes / 2 ** 20).toFixed(1)} MiB, ${s.format})`,
    `sha256        ${s.sha256}`,
    `family        ${family.id}: ${family.title}`,
    `architecture  ViT MAE: ${c.img_size}² input, patch ${c.patch_size}, ${c.in_chans} bands, ${c.num_frames} frame(s), tubelet ${c.tubelet_size}`,
    `              encoder ${c.embed_dim}d × ${c.depth} blocks, ${c.num_heads} heads; decoder ${s.hasDecoder ? `${c.decoder_embed_dim}d × ${c.decoder_depth} blocks, ${c.decoder_num_heads} heads` : 'absent'}`,
    `config        ${s.configSource}`,
    `parameters    ${s.parameterCount.toLocaleString('en-US')} (${s.dtype})`,
    `weights       ${s.report.loaded.length} loaded, ${s.report.missing.length} missing, ${s.report.wrongShape.length} wrong shape, ${s.report.unexpected.length} unexpected, ${s.report.ignored.length} not loaded (position tables are recomputed, TL scales unused: ${s.report.ignored.join(', ') || 'none'})`
  ]
  if (isMaeConfig(c)) {
    lines.push(`input         ${c.in_chans === 1 ? 'grey (RGB tiles turned grey)' : 'RGB (grey tiles replicated)'} on the 0-1 scale, mean ${c.mean.join('/')}, std ${c.std.join('/')}`)
    lines.push(`              LayerNorm eps ${c.layer_norm_eps}, norm_pix_loss ${c.norm_pix_loss}${s.hasDecoder ? '' : '; encoder only: no reconstruction'}`)
  }
  if (s.stats) {
    lines.push(`bands         ${s.stats.bands.join(' ')}`)
    lines.push(`means         ${s.stats.mean.map((v) => v.toFixed(1)).join(' ')}`)
    lines.push(`stds          ${s.stats.std.map((v) => v.toFixed(1)).join(' ')}`)
  }
  if (s.card) lines.push('', ...formatCard({ ...s, card: s.card }), '')
  for (const u of s.report.unexpected.slice(0, 20)) lines.push(`unexpected    ${u}`)
  // The card already lists what was inferred and assumed.
  const onCard = new Set([...(s.card?.inferred ?? []), ...(s.card?.assumed ?? [])])
  for (const n of s.notes) if (!onCard.has(n)) lines.push(`note          ${n}`)
  for (const w of s.warnings) lines.push(`WARNING       ${w}`)
  return lines.join('\n')
}

async function inspect(ctx: AppContext, io: CliIo, path: string, configPath?: string): Promise<ModelSummary> {
  const result = await runEngineJob(ctx, io, 'model-inspect', `inspect ${path}`, { path, configPath })
  return ModelSummary.parse(result)
}

export const modelCommand: Command = {
  name: 'model',
  summary: 'inspect, import, list and export Prithvi and facebookresearch-MAE (MOMO) checkpoints (.pt, .ckpt, .pth, .safetensors)',
  usage: USAGE,
  // list and show read the ledger only.
  needsEngine: (args) => args[0] !== 'list' && args[0] !== 'show',
  async run(args, ctx, io) {
    const [verb, ...rest] = args
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        name: { type: 'string' },
        out: { type: 'string' },
        graph: { type: 'string', default: 'mae' },
        'mask-ratio': { type: 'string', default: '0.5' }
      }
    })
    const configPath = values.config ? resolve(values.config) : undefined
    const checkpoint = () => {
      if (positionals.length !== 1) throw new UsageError(`'model ${verb}' takes one checkpoint path`)
      const path = resolve(positionals[0]!)
      // Named here, before the engine reads it (whose EISDIR would not say which path).
      const info = statSync(path, { throwIfNoEntry: false })
      if (!info) throw new Error(`checkpoint not found: ${path}`)
      if (!info.isFile()) throw new Error(`the checkpoint is not a file: ${path}`)
      return path
    }
    switch (verb) {
      case 'inspect': {
        const summary = await inspect(ctx, io, checkpoint(), configPath)
        io.out(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary))
        return 0
      }
      case 'import': {
        // The name is checked before the (slow) inspection, with the contract's rule.
        const name = values.name === undefined ? undefined : parseOptions(ModelName, values.name, { '': '--name' })
        const path = checkpoint()
        // The Models view's use case: the same inspection, the same ledger row.
        const { jobId, recorded } = await importModel(ctx, { path, ...(configPath ? { configPath } : {}), ...(name ? { name } : {}) })
        await followJob(ctx, jobId, `inspect ${path}`)
        const done = await recorded
        if (!done) throw new Error(`the import of ${path} did not finish`)
        const { record, summary } = done
        // Imported all the same (the user may want to inspect or repair it), but never silently.
        for (const w of summary.warnings) io.err(`warning: ${printable(record.name)}: ${printable(w)}`)
        io.out(values.json ? JSON.stringify(record, null, 2) : `imported model #${record.id} ${printable(record.name)} (${record.sha256.slice(0, 12)})`)
        return 0
      }
      case 'list': {
        const models: ModelRecord[] = listModels(ctx.ledger.db)
        if (values.json) io.out(JSON.stringify(models, null, 2))
        else if (!models.length) io.out('no models yet: marsfm model import <checkpoint>')
        else for (const m of models) io.out(`#${m.id}  ${printable(m.name)}  ${m.parameterCount.toLocaleString('en-US')} params  ${m.sha256.slice(0, 12)}  ${printable(m.path)}`)
        return 0
      }
      case 'show': {
        if (positionals.length !== 1) throw new UsageError("'model show' takes one model id or name")
        const key = positionals[0]!
        const models = listModels(ctx.ledger.db)
        const m = /^#?\d+$/.test(key) ? models.find((x) => x.id === Number(key.replace('#', ''))) : models.find((x) => x.name === key)
        if (!m) throw new Error(`no model ${printable(key)} in the ledger (marsfm model list shows them)`)
        if (values.json) io.out(JSON.stringify({ ...m, cardLines: modelCardLines(m) }, null, 2))
        else io.out([`#${m.id}  ${printable(m.name)}  ${printable(m.path)}`, `sha256        ${m.sha256}`, ...formatCard(m)].join('\n'))
        return 0
      }
      case 'export-onnx': {
        if (!values.out) throw new UsageError('--out file.onnx is required')
        const graph = values.graph
        if (graph !== 'mae' && graph !== 'encoder' && graph !== 'classifier') throw new UsageError(`--graph must be mae, encoder or classifier, not '${graph}'`)
        const maskRatio = Number(values['mask-ratio'])
        if (!(maskRatio >= 0 && maskRatio < 1)) throw new UsageError('--mask-ratio must be in [0, 1)')
        const outPath = resolve(values.out)
        const path = checkpoint()
        makeDirsSync(dirname(outPath)) // made here, not by the engine: see make-dirs.ts
        const result = (await runEngineJob(ctx, io, 'model-export-onnx', `export ${graph}`, { path, configPath, graph, outPath, maskRatio })) as {
          bytes: number
          opset: number
          inputs: { name: string; shape: unknown[] }[]
          outputs: { name: string; shape: unknown[] }[]
        }
        const sig = (t: { name: string; shape: unknown[] }) => `${t.name}[${t.shape.join(',')}]`
        io.out(`wrote ${outPath} (${(result.bytes / 2 ** 20).toFixed(1)} MiB, opset ${result.opset})`)
        io.out(`inputs  ${result.inputs.map(sig).join('  ')}`)
        io.out(`outputs ${result.outputs.map(sig).join('  ')}`)
        return 0
      }
      default:
        throw new UsageError(verb ? `unknown 'model' subcommand '${verb}'` : 'missing subcommand')
    }
  }
}

// A model card as labelled lines, for `marsfm model show` and the Models view alike. Models recorded
// before cards existed (and the demo model) get what their architecture alone tells.
import type { BandStats } from '../bands'
import type { ModelCard } from '../ipc/schemas/models'
import { isMaeConfig, maeGeneration } from './mae'
import { matchPublished, prithviGeneration } from './prithvi-catalogue'
import type { PrithviConfig } from './prithvi-mae'

export interface CardSubject {
  config: PrithviConfig
  stats: BandStats | null
  parameterCount: number
  card?: ModelCard | null
}

export const STATS_FROM: Record<ModelCard['stats'], string> = {
  file: 'from its config file',
  preset: 'from the published model (assumed)',
  default: "none recorded: Prithvi-100M's HLS statistics are used"
}

// The MAE layout's statistics are part of its config: from the file, or MOMO's assumed by inference.
const MAE_STATS_FROM: Record<ModelCard['stats'], string> = { file: ' (from its config file)', preset: " (MOMO's merged statistics, assumed)", default: '' }

const CONFIG_FROM: Record<ModelCard['config'], string> = { file: 'from its config file', inferred: 'read off the weight shapes', given: 'given' }

/** [label, text] pairs, in reading order. */
export function modelCardLines(m: CardSubject): [string, string][] {
  const c = m.config
  const mae = isMaeConfig(c) ? c : undefined
  const published = m.card ? m.card.published : mae ? null : (() => {
    const p = matchPublished(c)
    return p ? { title: p.title, hfId: p.hfId, file: p.file, preTraining: p.preTraining, pretrainFrames: p.pretrainFrames } : null
  })()
  const lines: [string, string][] = [
    ['family', m.card?.family ?? (mae ? maeGeneration(mae) : prithviGeneration(c))],
    ['parameters', `${m.parameterCount.toLocaleString('en-US')} (${m.parameterCount >= 1e6 ? `${(m.parameterCount / 1e6).toFixed(1)} M` : `${(m.parameterCount / 1e3).toFixed(1)} k`})`],
    [
      'architecture',
      `ViT ${c.embed_dim}d × ${c.depth} blocks, ${c.num_heads} heads; patch ${c.patch_size}, ${c.in_chans} bands, ${c.img_size}² input, ${c.num_frames} frame(s)` +
        (c.pretrain_img_size !== undefined ? `; position tables from the ${c.pretrain_img_size}² pre-training grid` : '') +
        (c.coords_encoding?.length ? `; ${c.coords_encoding.join(' + ')} encoding unused (no coordinates)` : '')
    ]
  ]
  if (m.card) lines.push(['config', CONFIG_FROM[m.card.config]])
  if (published) {
    lines.push(['published', `${published.title} (same architecture)`])
    lines.push(['source', `https://huggingface.co/${published.hfId} (${published.file}); download it yourself, nothing is fetched at run time`])
    lines.push(['pre-training', `${published.preTraining}; ${published.pretrainFrames} frame(s)`])
  } else lines.push(['published', 'no published model has this architecture (a tiny, re-trained or resized one)'])
  const statsFrom = m.card ? STATS_FROM[m.card.stats] : m.stats ? 'recorded' : STATS_FROM.default
  // The MAE layout's input statistics are part of its config (0-1 pixel scale), not HLS bands.
  if (mae) lines.push(['statistics', `native input on the 0-1 scale: mean ${mae.mean.join(' / ')}, std ${mae.std.join(' / ')}${m.card ? MAE_STATS_FROM[m.card.stats] : ''}`])
  else lines.push(['statistics', m.stats ? `${statsFrom}: ${m.stats.bands.join(' ')}; mean ${m.stats.mean.map((v) => v.toFixed(1)).join(' ')}; std ${m.stats.std.map((v) => v.toFixed(1)).join(' ')}` : statsFrom])
  for (const i of m.card?.inferred ?? []) lines.push(['inferred', i])
  for (const a of m.card?.assumed ?? []) lines.push(['assumed', a])
  return lines
}

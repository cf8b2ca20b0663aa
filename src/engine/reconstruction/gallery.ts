// Small PNGs for the first tiles of a study: original | masked | one reconstruction per method
// (visible patches pasted back) | a per-patch error heat map per method. Every image panel of a
// tile shares one 2–98 % percentile stretch; every heat map of a tile shares one colour scale.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { applyStretch, stretchParams } from '@shared/imputation/display'
import type { GalleryManifest } from '@shared/ipc/schemas/reconstruction'

export interface GalleryMethod {
  method: string
  /** HWC RGB in 8-bit units (unrounded): the reconstruction with visible patches pasted back. */
  composite: Float32Array
  /** [g·g] RGB error per patch in normalised space; visible patches are ignored. */
  patchError: Float32Array
}

export interface GalleryTileInput {
  index: number
  tile: string
  maskSeed: number
  original: Uint8Array
  /** [g·g], 1 = removed. */
  mask: ArrayLike<number>
  methods: GalleryMethod[]
}

// A perceptually ordered dark-to-bright ramp (viridis end points and three stops between).
const RAMP = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37]
] as const

function rampColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1)
  const i = Math.min(RAMP.length - 2, Math.floor(x))
  const f = x - i
  const a = RAMP[i]!
  const b = RAMP[i + 1]!
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as [number, number, number]
}

async function writePng(path: string, rgb: Uint8Array | Uint8ClampedArray, size: number): Promise<void> {
  await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toFile(path)
}

export async function writeGalleryTile(dir: string, size: number, patch: number, t: GalleryTileInput): Promise<GalleryManifest['tiles'][number]> {
  mkdirSync(dir, { recursive: true })
  const g = size / patch
  const stretch = stretchParams([t.original, ...t.methods.map((m) => m.composite)], 2, 98)
  const stem = `t${String(t.index).padStart(3, '0')}`
  const panels: GalleryManifest['tiles'][number]['panels'] = []
  const save = async (file: string, rgb: Uint8Array | Uint8ClampedArray, entry: Omit<(typeof panels)[number], 'file'>) => {
    await writePng(join(dir, file), rgb, size)
    panels.push({ ...entry, file })
  }
  const original = applyStretch(t.original, stretch)
  await save(`${stem}-original.png`, original, { kind: 'original' })
  // Removed patches shown dimmed, so the visible context the model saw stands out.
  const masked = Uint8ClampedArray.from(original)
  for (let p = 0; p < size * size; p++) {
    const l = Math.floor(Math.floor(p / size) / patch) * g + Math.floor((p % size) / patch)
    if (t.mask[l] !== 0) for (let c = 0; c < 3; c++) masked[p * 3 + c] = 24 + masked[p * 3 + c]! * 0.2
  }
  await save(`${stem}-masked.png`, masked, { kind: 'masked' })
  let errorMax = 0
  for (const m of t.methods) for (let l = 0; l < g * g; l++) if (t.mask[l] !== 0) errorMax = Math.max(errorMax, m.patchError[l]!)
  for (const [k, m] of t.methods.entries()) {
    await save(`${stem}-m${k}-recon.png`, applyStretch(m.composite, stretch), { kind: 'recon', method: m.method })
    const heat = new Uint8Array(size * size * 3)
    for (let p = 0; p < size * size; p++) {
      const l = Math.floor(Math.floor(p / size) / patch) * g + Math.floor((p % size) / patch)
      const colour: readonly number[] = t.mask[l] === 0 ? [40, 40, 40] : rampColour(errorMax > 0 ? m.patchError[l]! / errorMax : 0)
      heat.set(colour, p * 3)
    }
    await save(`${stem}-m${k}-error.png`, heat, { kind: 'error', method: m.method })
  }
  return { index: t.index, tile: t.tile, maskSeed: t.maskSeed, stretch: { low: stretch.low[0]!, high: stretch.high[0]!, lowPct: 2, highPct: 98 }, errorMax, panels }
}

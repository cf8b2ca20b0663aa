// A heat map as a PNG file: the image (at most `maxSide` px on its longer side) with the map's
// colours laid over it at the given opacity. For `marsfm infer --heatmap`; the Inference view draws
// the same raster on a canvas.
import sharp from 'sharp'
import type { HeatmapOutcome } from '@shared/ipc/schemas/inference'
import { fitSize, heatRaster, heatRgba } from '@shared/inference/heatmap'

export async function writeHeatmapPng(outcome: HeatmapOutcome, outPath: string, { opacity = 0.5, maxSide = 4096 } = {}): Promise<{ width: number; height: number }> {
  const { width, height } = outcome.image
  const size = fitSize(width, height, maxSide)
  const overlay = heatRgba(heatRaster(outcome.windows, width, height, size.width, size.height), Math.round(255 * Math.min(1, Math.max(0, opacity))))
  await sharp(outcome.image.path, { limitInputPixels: width * height })
    .resize(size.width, size.height, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(overlay.buffer, overlay.byteOffset, overlay.byteLength), raw: { width: size.width, height: size.height, channels: 4 } }])
    .png()
    .toFile(outPath)
  return size
}

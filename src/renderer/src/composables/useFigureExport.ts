// The study's figure as one PNG: the loss chart on top, one gallery row under it (original,
// masked, each reconstruction and its error map, captioned), on the app's dark background.
import type { GalleryTileImages } from '@shared/ipc/schemas/reconstruction'

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image()
    img.onload = () => resolve(img)
    img.onerror = () => reject(new Error('could not decode an image for the figure'))
    img.src = src
  })
}

export async function renderFigure(chartPng: string, row: GalleryTileImages | null, title: string): Promise<Blob> {
  const chart = await loadImage(chartPng)
  const panels = row ? await Promise.all(row.panels.map(async (p) => ({ p, img: await loadImage(p.dataUrl) }))) : []
  const pad = 16
  const side = 128
  const captionH = 16
  const rowW = panels.length * (side + 8)
  const width = Math.max(chart.width, rowW) + 2 * pad
  const galleryH = panels.length ? side + captionH + 28 : 0
  const height = 32 + chart.height + galleryH + 2 * pad
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext('2d')!
  ctx.fillStyle = '#16181d'
  ctx.fillRect(0, 0, width, height)
  ctx.fillStyle = '#e4e6eb'
  ctx.font = '600 15px system-ui, sans-serif'
  ctx.fillText(title, pad, pad + 14)
  ctx.drawImage(chart, pad, pad + 28)
  if (row) {
    const y0 = pad + 28 + chart.height + 12
    ctx.font = '12px ui-monospace, monospace'
    ctx.fillStyle = '#9aa0ac'
    ctx.fillText(row.tile, pad, y0 + 10)
    ctx.imageSmoothingEnabled = false // keep patches crisp
    panels.forEach(({ p, img }, i) => {
      const x = pad + i * (side + 8)
      ctx.drawImage(img, x, y0 + 16, side, side)
      ctx.fillStyle = '#e4e6eb'
      const caption = p.kind === 'original' ? 'original' : p.kind === 'masked' ? 'masked' : p.kind === 'recon' ? `${p.method}` : `${p.method} err`
      ctx.fillText(caption.length > 18 ? `${caption.slice(0, 17)}…` : caption, x, y0 + 16 + side + 13)
    })
  }
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas export failed'))), 'image/png'))
}

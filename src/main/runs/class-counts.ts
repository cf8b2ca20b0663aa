// Class folders of an ImageFolder's training split and their image counts, read in main before a
// run is queued (file names only, no decoding): the runs service resolves and records the positive
// class and warns about a skewed class balance at once, not minutes later from the engine.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp'])

/** Classes in name order and their training image counts; null when `root/train` is not there. */
export function imageFolderClassCounts(root: string): { classes: string[]; counts: number[] } | null {
  const train = join(root, 'train')
  if (!existsSync(train) || !statSync(train).isDirectory()) return null
  const classes = readdirSync(train, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
  const counts = classes.map((c) => readdirSync(join(train, c), { withFileTypes: true }).filter((e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_EXT.has(extname(e.name).toLowerCase())).length)
  return { classes, counts }
}

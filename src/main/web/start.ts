// `npm run web`: the workstation in a browser, against the same main-process services.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAppContext } from '../app/context'
import { startWebServer } from './server'

function rendererDir(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [join(here, '..', 'renderer'), join(process.cwd(), 'out', 'renderer')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate
  }
  throw new Error('the renderer bundle (out/renderer) is missing: run `npm run build` first')
}

async function main(): Promise<void> {
  const port = process.env.MARSFM_PORT ? Number(process.env.MARSFM_PORT) : 0
  const ctx = await createAppContext({ mode: 'web' })
  const web = await startWebServer(ctx, { rendererDir: rendererDir(), port })
  // The one line a user (or a test) needs: the URL with this launch's token.
  process.stdout.write(`MarsFM web mode: ${web.url}\n`)
  const shutdown = async () => {
    await web.close()
    await ctx.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())
}

main().catch((err: Error) => {
  process.stderr.write(`marsfm web: ${err.message}\n`)
  process.exit(1)
})

// Streaming SHA-256 of a file, so a checkpoint's identity is recorded without loading it whole.

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal })
  for await (const chunk of stream) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

// Tells checkpoint formats apart by their first bytes, never by the file extension
// (.pt, .pth, .ckpt and .bin are all used for the same torch zip format).

import { open } from 'node:fs/promises'
import { CheckpointError } from './errors'

export type CheckpointFormat = 'pytorch-zip' | 'safetensors'

export async function sniffFormat(path: string): Promise<CheckpointFormat> {
  const fh = await open(path, 'r')
  const head = new Uint8Array(9)
  let n: number
  try {
    ;({ bytesRead: n } = await fh.read(head, 0, 9, 0))
  } finally {
    await fh.close()
  }
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'pytorch-zip'
  // safetensors: u64 header length, then the JSON header's opening brace.
  if (n === 9 && head[8] === 0x7b) return 'safetensors'
  // torch.save before 1.6 (and torch.save(_use_new_zipfile_serialization=False)) is a bare pickle.
  if (n >= 2 && head[0] === 0x80 && head[1]! <= 5) {
    throw new CheckpointError('unsupported-format', 'this is a legacy (pre-1.6, non-zip) torch checkpoint; re-save it with a current torch.save')
  }
  if (n === 0) throw new CheckpointError('truncated', 'not a PyTorch zip checkpoint: the file is empty (file truncated?)')
  throw new CheckpointError('not-a-checkpoint', 'not a PyTorch zip or safetensors checkpoint (unrecognised first bytes)')
}

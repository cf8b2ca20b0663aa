// The hostile corpus for checkpoints, model configs and run configs. Most files are built here
// byte by byte (torch-writer.ts) and read in-process by the real readers; real torch.save files
// come from tests/fixtures/hostile/make_hostile_checkpoints.py, run now into a temporary folder;
// a representative few go through the CLI and its engine child. Every case wants a clear error
// that names the file and the tensor or field, no change to the ledger, no file left behind, and
// bounded memory (peak RSS growth of this process, or of the spawned one).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import sharp from 'sharp'
import { assertUsable, loadCheckpoint, parsePrithviConfig, readPrithviConfig, readRawStateDict } from '@engine/checkpoint'
import type { WeightTensor } from '@engine/model/weights'
import { createAppContext, type AppContext } from '@main/app/context'
import { startRun } from '@main/runs/start'
import { buildZip } from '../unit/checkpoint/zip-builder'
import { CLI_ENTRY, ENGINE_ENTRY, ROOT, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { expectClearError, expectLedgerUnchanged, ledgerSnapshot, printTally, record, tempLeftovers, type Outcome } from './harness'
import { f32, patchDeclaredSize, PickleWriter, stateDictPickle, torchZip, zeroBomb, type StorageData, type TensorSpec } from './torch-writer'

const FILE = 'checkpoints.test.ts'
const TINY = resolve(ROOT, 'tests/fixtures/checkpoints/tiny_prithvi.pt')
const TINY_YAML = resolve(ROOT, 'tests/fixtures/checkpoints/Prithvi_tiny_config.yaml')
const PYTHON = '/usr/bin/python3'
const MARKER = '/tmp/marsfm_hostile_marker'
/** Text planted in hostile inputs that must never come back in a message. */
const SECRET = 'SECRET-7f3a9c'
/** Peak RSS growth allowed for one in-process case (a tiny checkpoint loads in a few MB). */
const MEM_MB = 300

let scratch: { dir: string; remove(): void }
let realDir: string | null = null
let tiny: Map<string, WeightTensor>

const peakMb = (): number => process.resourceUsage().maxRSS / 1024
const write = (name: string, data: Uint8Array | string): string => {
  const p = join(scratch.dir, name)
  writeFileSync(p, data)
  return p
}

function contiguous(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1)
  for (let d = shape.length - 2; d >= 0; d--) stride[d] = stride[d + 1]! * shape[d + 1]!
  return stride
}

interface ModelEdit {
  /** Replaces one weight's storage class and bytes (e.g. LongStorage). */
  retype?: Record<string, { storage: string; bytes: Uint8Array }>
  /** Replaces weights' values. */
  values?: Record<string, Float32Array>
  /** Adds tensors (with their storages). */
  extra?: { spec: TensorSpec; data?: StorageData }[]
  /** Replaces the view of named weights (offset / shape / stride), keeping their storage. */
  view?: Record<string, Partial<TensorSpec>>
}

/** The tiny Prithvi as a torch zip written by torch-writer, with edits. */
function tinyModel(edit: ModelEdit = {}): Buffer {
  const specs: TensorSpec[] = []
  const storages: StorageData[] = []
  let k = 0
  for (const [name, t] of tiny) {
    const key = String(k++)
    const re = edit.retype?.[name]
    const data = edit.values?.[name] ?? t.data
    storages.push({ key, bytes: re ? re.bytes : f32(data) })
    specs.push({ name, key, storage: re?.storage ?? 'FloatStorage', shape: t.shape, stride: contiguous(t.shape), ...(edit.view?.[name] ?? {}) })
  }
  for (const e of edit.extra ?? []) {
    specs.push(e.spec)
    if (e.data) storages.push(e.data)
  }
  return torchZip(stateDictPickle(specs, storages), storages)
}

/** Runs `fn` on a hostile file and checks the refusal; records the outcome either way. */
async function expectRefused(category: string, name: string, file: string, fn: () => Promise<unknown>, names: string | RegExp): Promise<string> {
  const peak0 = peakMb()
  let outcome: Outcome = 'crash'
  try {
    const err = await fn().then(
      () => null,
      (e: unknown) => e
    )
    if (err === null) {
      outcome = 'silent-acceptance'
      throw new Error(`${name}: ${basename(file)} was accepted`)
    }
    const message = (err as Error).message
    if (message.includes(SECRET)) outcome = 'content-echo'
    expectClearError(message, { names, secret: SECRET })
    expect(message, 'the message names the file').toContain(basename(file))
    expect(peakMb() - peak0, 'peak RSS growth (MB)').toBeLessThan(MEM_MB)
    expect(existsSync(MARKER), 'nothing in the file was executed').toBe(false)
    outcome = 'clear-error'
    return message
  } finally {
    record(category, name, outcome)
  }
}

const load = (path: string) => () => loadCheckpoint(path)
const raw = (path: string) => () => readRawStateDict(path)

beforeAll(async () => {
  scratch = tempHome('marsfm-hostile-ckpt-')
  rmSync(MARKER, { force: true })
  tiny = await readRawStateDict(TINY)
  if (existsSync(PYTHON)) {
    const dir = join(scratch.dir, 'real')
    mkdirSync(dir)
    const r = spawnSync(PYTHON, [resolve(ROOT, 'tests/fixtures/hostile/make_hostile_checkpoints.py'), dir], { encoding: 'utf8', timeout: 120_000 })
    if (r.status === 0) realDir = dir
    else console.warn(`real torch files not generated (${r.stderr.split('\n').filter(Boolean).pop()}); those cases are skipped`)
  }
})

afterAll(() => {
  expect(tempLeftovers(scratch.dir)).toEqual([])
  scratch.remove()
  printTally(FILE)
})

// ---------------------------------------------------------------------------------------------
describe('containers: not zips, damaged zips, crafted zips', () => {
  const good = () => readFileSync(TINY)
  const cases: [string, () => Uint8Array | string, string | RegExp][] = [
    ['empty file', () => new Uint8Array(0), /empty/],
    ['three random bytes', () => Uint8Array.of(7, 1, 250), /not a PyTorch zip or safetensors/],
    ['PNG magic', () => Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13), /not a PyTorch zip or safetensors/],
    ['a text file', () => `hello ${SECRET}\n`, /not a PyTorch zip or safetensors/],
    ['legacy (pre-1.6) pickle', () => Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8), /legacy/],
    ['truncated at 50%', () => good().subarray(0, good().length >> 1), /truncated/],
    ['truncated at 99%', () => good().subarray(0, good().length - 300), /truncated/],
    ['only a local header', () => good().subarray(0, 30), /truncated/],
    ['zip without data.pkl', () => buildZip([{ name: 'photos/ESP_1.jpg', data: Buffer.from(SECRET) }]), /data\.pkl/],
    ['two checkpoints in one zip', () => buildZip([{ name: 'a/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }, { name: 'b/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }]), /several checkpoints/],
    ['entry name climbing out (../../etc/passwd)', () => buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }, { name: '../../etc/passwd', data: Buffer.from(SECRET) }]), /unsafe name/],
    ['absolute entry name', () => buildZip([{ name: '/tmp/evil', data: Buffer.from('x') }, { name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }]), /unsafe name/],
    ['backslash entry name', () => buildZip([{ name: 'archive\\..\\..\\evil', data: Buffer.from('x') }]), /unsafe name/],
    ['entry name with a control character', () => buildZip([{ name: 'archive/data.pkl\u0000.txt', data: Buffer.from('x') }]), /unsafe name/],
    ['duplicate data.pkl entries', () => buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }, { name: 'archive/data.pkl', data: Buffer.from(SECRET) }]), /twice/],
    [
      'central directory offset past the end',
      () => {
        const z = Buffer.from(good())
        z.writeUInt32LE(z.length + 1000, z.length - 6)
        return z
      },
      /truncated|past the end/
    ],
    [
      'damaged storage bytes (CRC mismatch)',
      () => {
        const z = Buffer.from(good())
        z[z.length >> 1] ^= 0xff
        return z
      },
      /CRC|damaged|corrupt|bad local header/
    ],
    [
      'encrypted entry',
      () => {
        const z = buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }])
        z.writeUInt16LE(1, z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 8)
        return z
      },
      /encrypted/
    ],
    [
      'bzip2 compressed data.pkl',
      () => {
        const z = buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }])
        z.writeUInt16LE(12, z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10)
        return z
      },
      /compression method 12/
    ],
    ['byteorder "big"', () => buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }, { name: 'archive/byteorder', data: Buffer.from('big') }]), /big-endian/],
    ['byteorder garbage', () => buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }, { name: 'archive/byteorder', data: Buffer.from('middle') }]), /byteorder/],
    ['byteorder entry declaring 1 GB', () => patchDeclaredSize(buildZip([{ name: 'archive/data.pkl', data: new PickleWriter().proto().emptyDict().stop().toBytes() }, { name: 'archive/byteorder', data: Buffer.from('little') }]), 'archive/byteorder', 1 << 30), /byteorder.*declares/],
    ['storage entry missing', () => torchZip(stateDictPickle([{ name: 'cls_token', key: '0', shape: [1, 1, 4], stride: [4, 4, 1] }], [{ key: '0', bytes: f32([1, 2, 3, 4]) }]), []), /missing storage archive\/data\/0/],
    ['data.pkl declared 200 MB (stored)', () => patchDeclaredSize(torchZip(new PickleWriter().proto().emptyDict().stop().toBytes(), []), 'archive/data.pkl', 200 << 20), /data\.pkl declares/]
  ]
  it.each(cases)('%s', async (name, bytes, names) => {
    const path = write(`zip-${name.replace(/\W+/g, '_')}.pt`, bytes())
    await expectRefused('zip', name, path, raw(path), names)
  })
})

// ---------------------------------------------------------------------------------------------
describe('deflate bombs', () => {
  it('a storage whose zip entry inflates far past what its pickle declares is refused before inflating', async () => {
    // 256 KB of deflate that inflates to 256 MB, for a tensor of 4 values.
    const storages: StorageData[] = [{ key: '0', bytes: new Uint8Array(0), precompressed: zeroBomb(256) }]
    const pkl = stateDictPickle([{ name: 'blocks.0.norm1.weight', key: '0', numel: 4, shape: [4], stride: [1] }], storages)
    const path = write('bomb-storage.pt', torchZip(pkl, storages))
    expect(readFileSync(path).length).toBeLessThan(1 << 20)
    await expectRefused('zip', 'deflate bomb: storage larger than its pickle declares', path, raw(path), /archive\/data\/0 declares 268435456 bytes but the pickle says it holds 4/)
  })

  it('a data.pkl bomb (100 MB of deflate-compressed zeros) is refused by the metadata bound', async () => {
    const z = buildZip([{ name: 'archive/data.pkl', data: new Uint8Array(0), precompressed: zeroBomb(100) }])
    const path = write('bomb-pkl.pt', z)
    await expectRefused('zip', 'deflate bomb: data.pkl', path, raw(path), /data\.pkl declares 104857600 bytes/)
  })

  it('an entry declaring more than deflate can produce from its bytes is refused', async () => {
    const storages: StorageData[] = [{ key: '0', bytes: f32([1, 2, 3, 4]), deflate: true }]
    const z = patchDeclaredSize(torchZip(stateDictPickle([{ name: 'norm.weight', key: '0', numel: 200_000_000, shape: [4], stride: [1] }], storages), storages), 'archive/data/0', 800_000_000)
    const path = write('bomb-ratio.pt', z)
    await expectRefused('zip', 'deflate bomb: impossible ratio', path, raw(path), /archive\/data\/0 declares 800000000 bytes from \d+ compressed/)
  })

  it('a bomb whose sizes agree (64 MB of zeros as an extra tensor) is not even inflated when the model does not use it', async () => {
    const extra = { spec: { name: 'aux_head.table', key: 'bomb', numel: 4096 * 4096, shape: [4096, 4096], stride: [4096, 1] }, data: { key: 'bomb', bytes: new Uint8Array(0), precompressed: zeroBomb(64) } }
    const path = write('bomb-unused.pt', tinyModel({ extra: [extra] }))
    expect(readFileSync(path).length).toBeLessThan(1 << 20)
    const peak0 = peakMb()
    const loaded = await loadCheckpoint(path)
    expect(loaded.report.unexpected).toContain('aux_head.table')
    expect(loaded.extra.size).toBe(0)
    expect(peakMb() - peak0).toBeLessThan(60)
    record('zip', 'deflate bomb: consistent sizes, unused tensor', 'handled')
  })

  it('a stored entry whose sizes disagree is refused', async () => {
    const z = patchDeclaredSize(torchZip(new PickleWriter().proto().emptyDict().stop().toBytes(), []), 'archive/data.pkl', 9999)
    const path = write('stored-lie.pt', z)
    await expectRefused('zip', 'stored entry with lying size', path, raw(path), /data\.pkl is stored uncompressed but declares 9999 bytes/)
  })
})

// ---------------------------------------------------------------------------------------------
describe('pickles with code references and damage', () => {
  const sd = () => new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce()
  const call = (module: string, name: string) => sd().mark().str('x').global(module, name).mark().str(`touch ${MARKER}; cat /etc/passwd # ${SECRET}`).tuple().reduce().setItems().stop().toBytes()
  const cases: [string, () => Uint8Array, string | RegExp][] = [
    ['os.system', () => call('os', 'system'), 'os.system'],
    ['posix.system', () => call('posix', 'system'), 'posix.system'],
    ['builtins.eval', () => call('builtins', 'eval'), 'builtins.eval'],
    ['builtins.exec', () => call('builtins', 'exec'), 'builtins.exec'],
    ['__builtin__.eval (Python 2 name)', () => call('__builtin__', 'eval'), '__builtin__.eval'],
    ['subprocess.Popen', () => call('subprocess', 'Popen'), 'subprocess.Popen'],
    ['builtins.getattr', () => call('builtins', 'getattr'), 'builtins.getattr'],
    ['builtins.__import__', () => call('builtins', '__import__'), 'builtins.__import__'],
    ['torch.load inside the pickle', () => call('torch', 'load'), 'torch.load'],
    ['numpy.load', () => call('numpy', 'load'), 'numpy.load'],
    ['runpy._run_code', () => call('runpy', '_run_code'), 'runpy._run_code'],
    ['webbrowser.open', () => call('webbrowser', 'open'), 'webbrowser.open'],
    [
      'STACK_GLOBAL os.system (protocol 4)',
      () => sd().mark().str('x').str('os').str('system').raw(0x93).mark().str(SECRET).tuple().reduce().setItems().stop().toBytes(),
      'os.system'
    ],
    ['INST os.system (protocol 0)', () => new PickleWriter().mark().str(SECRET).raw(0x69, ...Buffer.from('os\nsystem\n')).stop().toBytes(), 'os.system'],
    [
      'code reference as a storage type',
      () => sd().mark().str('w').global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('os', 'system').str('0').str('cpu').int(1).tuple().persId().tuple().reduce().setItems().stop().toBytes(),
      'os.system'
    ],
    [
      'code reference nested in OrderedDict arguments',
      () => new PickleWriter().proto().global('collections', 'OrderedDict').mark().mark().str('k').global('os', 'popen').mark().str(SECRET).tuple().reduce().tuple().tuple().reduce().stop().toBytes(),
      'os.popen'
    ],
    ['OBJ opcode', () => new PickleWriter().proto().mark().global('collections', 'OrderedDict').raw(0x6f).stop().toBytes(), /OBJ/],
    ['EXT1 opcode (copyreg extension registry)', () => new PickleWriter().proto().raw(0x82, 1).stop().toBytes(), /EXT1/],
    ['unknown opcode 0xff', () => new PickleWriter().proto().raw(0xff).stop().toBytes(), /0xff/],
    ['unknown opcode 0x00', () => new PickleWriter().proto().raw(0x00).stop().toBytes(), /0x00/],
    ['pickle protocol 6', () => new PickleWriter().proto(6).emptyDict().stop().toBytes(), /protocol 6/],
    ['empty data.pkl', () => new Uint8Array(0), /ends early/],
    ['string running past the end', () => Uint8Array.of(0x80, 2, 0x58, 0xff, 0xff, 0, 0, 0x41), /ends early/],
    ['BINBYTES8 length of 2^60', () => Uint8Array.of(0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x10), /length field/],
    ['LONG4 of a million bytes', () => Buffer.concat([Buffer.from([0x80, 2, 0x8b, 0x40, 0x42, 0x0f, 0x00]), Buffer.alloc(1_000_000), Buffer.from([0x2e])]), /integer of 1000000 bytes/],
    ['memo entry that was never stored', () => Uint8Array.of(0x80, 2, 0x6a, 0xff, 0xff, 0xff, 0x7f, 0x2e), /memo entry/],
    ['REDUCE on an empty stack', () => Uint8Array.of(0x80, 2, 0x52, 0x2e), /underflow/],
    ['REDUCE on a number', () => new PickleWriter().proto().int(5).emptyTuple().reduce().stop().toBytes(), /not callable/],
    ['no STOP', () => new PickleWriter().proto().emptyDict().toBytes(), /ends early/],
    ['top level is a list', () => new PickleWriter().proto().raw(0x5d).stop().toBytes(), /no state dict/],
    ['dict without tensors', () => sd().mark().str('epoch').str(SECRET).setItems().stop().toBytes(), /no state dict found in the checkpoint: its top-level keys are "epoch"/],
    ['persistent id that is not a storage', () => sd().mark().str('w').global('torch._utils', '_rebuild_tensor_v2').mark().str('nope').persId().tuple().reduce().setItems().stop().toBytes(), /persistent id/],
    [
      'storage key climbing out (../../x)',
      () => sd().mark().str('w').global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage').str('../../x').str('cpu').int(1).tuple().persId().int(0).ints([1]).ints([1]).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce().setItems().stop().toBytes(),
      /storage key/
    ],
    [
      'NEWOBJ_EX with keyword arguments',
      () => new PickleWriter().proto(4).global('collections', 'OrderedDict').emptyTuple().emptyDict().str('k').int(1).raw(0x73).raw(0x92).stop().toBytes(),
      /keyword arguments/
    ],
    ['deep nesting: 200000 nested lists', () => Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(200_000, 0x28), Buffer.alloc(200_000, 0x6c), Buffer.from([0x2e])]), /no state dict/],
    ['deep nesting: 200000 unclosed marks', () => Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(200_000, 0x28), Buffer.from([0x2e])]), /underflow/],
    [
      'deep nesting: dicts 10000 levels down',
      () => {
        const p = new PickleWriter().proto()
        for (let i = 0; i < 10_000; i++) p.emptyDict().str('state_dict')
        p.emptyDict()
        for (let i = 0; i < 10_000; i++) p.raw(0x73)
        return p.stop().toBytes()
      },
      /no state dict/
    ]
  ]
  it.each(cases)('%s', async (name, pkl, names) => {
    const path = write(`pkl-${name.replace(/\W+/g, '_')}.pt`, buildZip([{ name: 'archive/data.pkl', data: pkl() }]))
    await expectRefused('pickle', name, path, raw(path), names)
  })

  it.skipIf(!existsSync(PYTHON))('real torch.save files with __reduce__ to eval and subprocess.Popen run nothing', async () => {
    if (!realDir) return
    // Protocol 2 writes Python 3 modules under their Python 2 names (__builtin__, commands).
    for (const [file, global] of [['real_eval.pt', /(__builtin__|builtins)\.eval/], ['real_popen.pt', /(subprocess|commands)\.Popen/]] as const) {
      const path = join(realDir, file)
      await expectRefused('pickle', `torch.save __reduce__ → ${global.source.replace(/\\/g, '')}`, path, load(path), global)
    }
    await new Promise((r) => setTimeout(r, 200))
    expect(existsSync(MARKER)).toBe(false)
  })
})

// ---------------------------------------------------------------------------------------------
describe('strided views: repeats, bounds, signs, overflow', () => {
  // One tensor under a model name, over a 4-value storage.
  const lone = (spec: Partial<TensorSpec>, values = [1, 2, 3, 4]): Buffer => {
    const storages: StorageData[] = [{ key: 'v', bytes: f32(values) }]
    return torchZip(stateDictPickle([{ name: 'blocks.0.attn.qkv.weight', key: 'v', shape: [4], stride: [1], ...spec } as TensorSpec], storages), storages)
  }
  const cases: [string, () => Buffer, string | RegExp][] = [
    ['stride 0: one value as 16000×16000', () => lone({ shape: [16000, 16000], stride: [0, 0] }), /blocks\.0\.attn\.qkv\.weight: shape \[16000, 16000\].*repeats a storage of 4 elements/],
    ['overlapping rows: stride [1, 1] over 20000×20000', () => lone({ shape: [20000, 20000], stride: [1, 1] }, new Array(40000).fill(1)), /blocks\.0\.attn\.qkv\.weight.*repeats/],
    ['negative stride', () => lone({ shape: [2, 2], stride: [-2, 1] }), /blocks\.0\.attn\.qkv\.weight: stride \[-2, 1\]/],
    ['negative offset', () => lone({ offset: -3, shape: [1], stride: [1] }), /blocks\.0\.attn\.qkv\.weight: storage offset -3/],
    ['offset past the storage', () => lone({ offset: 1000, shape: [1], stride: [1] }), /blocks\.0\.attn\.qkv\.weight.*reaches element 1000 of a storage with 4 elements/],
    ['storage smaller than the view', () => lone({ shape: [3, 3], stride: [3, 1] }), /blocks\.0\.attn\.qkv\.weight.*reaches element 8 of a storage with 4/],
    ['stride walking past the storage', () => lone({ shape: [2], stride: [1_000_000] }), /blocks\.0\.attn\.qkv\.weight.*reaches element 1000000/],
    ['shape overflowing (2^40 × 2^40)', () => lone({ shape: [2n ** 40n, 2n ** 40n], stride: [1, 1] }), /blocks\.0\.attn\.qkv\.weight: shape .*more elements than can be counted/],
    ['offset of 2^70', () => lone({ offset: 2n ** 70n, shape: [1], stride: [1] }), /blocks\.0\.attn\.qkv\.weight: storage offset/],
    ['negative size', () => lone({ shape: [-4], stride: [1] }), /blocks\.0\.attn\.qkv\.weight: size \[-4\]/],
    ['size and stride of different lengths', () => lone({ shape: [2, 2], stride: [1] }), /blocks\.0\.attn\.qkv\.weight: size \[2, 2\] and stride \[1\]/],
    ['size that is not ints', () => lone({ shape: ['four'], stride: [1] }), /tensor size is not a tuple of ints/],
    [
      'huge declared storage (numel 2^40) for 16 bytes',
      () => {
        const storages: StorageData[] = [{ key: 'v', bytes: f32([1, 2, 3, 4]) }]
        return torchZip(stateDictPickle([{ name: 'norm.weight', key: 'v', numel: 2 ** 40, shape: [4], stride: [1] }], storages), storages)
      },
      /archive\/data\/v declares 16 bytes but the pickle says it holds 1099511627776/
    ],
    [
      'many repeated views adding up past the file-wide bound',
      () => {
        const storages: StorageData[] = [{ key: 'v', bytes: f32([1]) }]
        const specs = Array.from({ length: 6 }, (_, i) => ({ name: `aux.t${i}`, key: 'v', shape: [4000, 4000], stride: [0, 0] }))
        return torchZip(stateDictPickle(specs, storages), storages)
      },
      /aux\.t4: the file's strided views together expand/
    ],
    [
      'a weight stored as complex64',
      () => tinyModel({ retype: { 'norm.weight': { storage: 'ComplexFloatStorage', bytes: f32(new Float32Array(tiny.get('norm.weight')!.data.length * 2)) } } }),
      /norm\.weight \(torch\.ComplexFloatStorage\)/
    ]
  ]
  it.each(cases)('%s', async (name, bytes, names) => {
    const path = write(`view-${name.replace(/\W+/g, '_')}.pt`, bytes())
    await expectRefused('views', name, path, load(path), names)
  })

  it('an empty view with a huge declared dimension is an empty tensor, not an error', async () => {
    const path = write('view-empty.pt', lone({ shape: [0, 2 ** 40], stride: [1, 1] }))
    const sd = await readRawStateDict(path)
    expect(sd.get('blocks.0.attn.qkv.weight')!.data.length).toBe(0)
    record('views', 'zero-size view with a huge dimension', 'handled')
  })

  it('a small stride-0 broadcast (what torch writes for expand) still loads', async () => {
    const path = write('view-broadcast.pt', tinyModel({ view: { cls_token: { stride: [0, 0, 0], shape: [1, 1, tiny.get('cls_token')!.shape[2]!] } } }))
    await expect(readRawStateDict(path)).resolves.toBeDefined()
    record('views', 'small stride-0 broadcast', 'handled')
  })

  it.skipIf(!existsSync(PYTHON))('real torch.save files: one value expanded to 16000×16000, as a weight and as an unused tensor', async () => {
    if (!realDir) return
    for (const file of ['real_stride0_weight.pt', 'real_stride0_unused.pt']) {
      const path = join(realDir, file)
      const name = file === 'real_stride0_weight.pt' ? 'blocks.0.attn.qkv.weight' : 'aux_head.table'
      await expectRefused('views', `torch.save expand(16000, 16000): ${name}`, path, load(path), new RegExp(`${name.replace(/\./g, '\\.')}: shape \\[16000, 16000\\]`))
    }
  })
})

// ---------------------------------------------------------------------------------------------
describe('bad weights: NaN, infinities, integers', () => {
  const withValues = (name: string, edit: (a: Float32Array) => void) => {
    const a = Float32Array.from(tiny.get(name)!.data)
    edit(a)
    return tinyModel({ values: { [name]: a } })
  }

  async function expectWarnedAndRefusedToRun(category: string, name: string, path: string, names: RegExp): Promise<void> {
    let outcome: Outcome = 'silent-acceptance'
    try {
      const loaded = await loadCheckpoint(path)
      expect(loaded.warnings).toHaveLength(1)
      expect(loaded.warnings[0]).toMatch(names)
      let message = ''
      try {
        assertUsable(loaded, basename(path))
      } catch (e) {
        message = (e as Error).message
      }
      expectClearError(message, { names })
      expect(message).toContain(basename(path))
      expect(message.split('\n')).toHaveLength(1)
      outcome = 'clear-error'
    } finally {
      record(category, name, outcome)
    }
  }

  it('one NaN: warned at inspect, refused at run time, tensor named', async () => {
    const path = write('w-nan.pt', withValues('blocks.0.attn.qkv.weight', (a) => (a[5] = NaN)))
    await expectWarnedAndRefusedToRun('weights', 'one NaN', path, /blocks\.0\.attn\.qkv\.weight \(1 NaN\)/)
  })
  it('+Inf and -Inf', async () => {
    const path = write('w-inf.pt', withValues('norm.bias', (a) => ((a[0] = Infinity), (a[1] = -Infinity))))
    await expectWarnedAndRefusedToRun('weights', 'infinite values', path, /norm\.bias \(2 infinite\)/)
  })
  it('NaN in many tensors: the first few named and a count', async () => {
    const values: Record<string, Float32Array> = {}
    const names = [...tiny.keys()].filter((n) => n.startsWith('blocks.'))
    for (const n of names) values[n] = Float32Array.from(tiny.get(n)!.data).fill(NaN, 0, 1)
    const path = write('w-nan-many.pt', tinyModel({ values }))
    await expectWarnedAndRefusedToRun('weights', 'NaN in many tensors', path, new RegExp(`${names.length} weight tensor\\(s\\).* and ${names.length - 5} more`))
  })
  it('bfloat16 NaN', async () => {
    const n = tiny.get('norm.weight')!.data.length
    const bits = new Uint16Array(n).fill(0x3f80)
    bits[2] = 0x7fc0
    const path = write('w-bf16-nan.pt', tinyModel({ retype: { 'norm.weight': { storage: 'BFloat16Storage', bytes: new Uint8Array(bits.buffer) } } }))
    await expectWarnedAndRefusedToRun('weights', 'bfloat16 NaN', path, /norm\.weight \(1 NaN\)/)
  })
  it('float16 infinity', async () => {
    const n = tiny.get('norm.bias')!.data.length
    const bits = new Uint16Array(n)
    bits[0] = 0x7c00
    const path = write('w-f16-inf.pt', tinyModel({ retype: { 'norm.bias': { storage: 'HalfStorage', bytes: new Uint8Array(bits.buffer) } } }))
    await expectWarnedAndRefusedToRun('weights', 'float16 infinity', path, /norm\.bias \(1 infinite\)/)
  })

  const intCases: [string, string, (n: number) => Uint8Array][] = [
    ['int64', 'LongStorage', (n) => new Uint8Array(new BigInt64Array(n).fill(3n).buffer)],
    ['int32', 'IntStorage', (n) => new Uint8Array(new Int32Array(n).fill(3).buffer)],
    ['uint8', 'ByteStorage', (n) => new Uint8Array(n).fill(3)],
    ['bool', 'BoolStorage', (n) => new Uint8Array(n).fill(1)]
  ]
  it.each(intCases)('a model weight stored as %s is refused, naming it', async (dtype, storage, bytes) => {
    const n = tiny.get('blocks.0.norm1.weight')!.data.length
    const path = write(`w-${dtype}.pt`, tinyModel({ retype: { 'blocks.0.norm1.weight': { storage, bytes: bytes(n) } } }))
    await expectRefused('weights', `${dtype} model weight`, path, load(path), new RegExp(`blocks\\.0\\.norm1\\.weight \\(torch\\.${storage}\\)`))
  })

  it('an int64 counter the model does not use is fine', async () => {
    const storages: StorageData = { key: 'c', bytes: new Uint8Array(new BigInt64Array([7n]).buffer) }
    const path = write('w-counter.pt', tinyModel({ extra: [{ spec: { name: 'neck.bn.num_batches_tracked', key: 'c', storage: 'LongStorage', shape: [], stride: [] }, data: storages }] }))
    const loaded = await loadCheckpoint(path)
    expect(loaded.warnings).toEqual([])
    expect(() => assertUsable(loaded)).not.toThrow()
    record('weights', 'unused int64 counter', 'handled')
  })

  it.skipIf(!existsSync(PYTHON))('real torch.save files: NaN, Inf, NaN everywhere, int64, float64, an int64 counter', async () => {
    if (!realDir) return
    await expectWarnedAndRefusedToRun('weights', 'torch.save NaN', join(realDir, 'real_nan.pt'), /blocks\.0\.attn\.qkv\.weight \(2 NaN\)/)
    await expectWarnedAndRefusedToRun('weights', 'torch.save Inf', join(realDir, 'real_inf.pt'), /blocks\.1\.mlp\.fc1\.weight \(1 infinite\)/)
    await expectWarnedAndRefusedToRun('weights', 'torch.save NaN in every block weight', join(realDir, 'real_nan_many.pt'), /and \d+ more/)
    const p = join(realDir, 'real_int64.pt')
    await expectRefused('weights', 'torch.save int64 weight', p, load(p), /blocks\.0\.norm1\.weight \(torch\.LongStorage\)/)
    const f64 = await loadCheckpoint(join(realDir, 'real_float64.pt'))
    expect(f64.warnings).toEqual([])
    record('weights', 'torch.save float64 weight (converted)', 'handled')
    const counter = await loadCheckpoint(join(realDir, 'real_counter.pt'))
    expect(counter.report.unexpected).toContain('neck.bn.num_batches_tracked')
    record('weights', 'torch.save int64 counter (unused)', 'handled')
  })
})

// ---------------------------------------------------------------------------------------------
describe('safetensors with bad headers', () => {
  const st = (header: unknown, data: Uint8Array = new Uint8Array(0), lenOverride?: bigint): Buffer => {
    const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header))
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(lenOverride ?? BigInt(json.length))
    return Buffer.concat([len, json, data])
  }
  const t = (dtype: string, shape: number[], a: number, b: number) => ({ dtype, shape, data_offsets: [a, b] })
  const cases: [string, () => Buffer, string | RegExp][] = [
    ['header length past the end of the file', () => st({ a: t('F32', [1], 0, 4) }, f32([1]), 10_000n), /header is longer than the file/],
    ['header length of 2^40', () => st({}, new Uint8Array(0), 2n ** 40n), /header is longer than the file/],
    ['header that is not JSON', () => st(`{ ${SECRET}`), /header is not JSON/],
    ['header that is a JSON array', () => st('[1, 2, 3]                '), /not a PyTorch zip or safetensors|not a JSON object/],
    ['overlapping offsets', () => st({ 'norm.weight': t('F32', [2], 0, 8), 'norm.bias': t('F32', [2], 4, 12) }, new Uint8Array(12)), /norm\.weight \[0, 8\) and norm\.bias \[4, 12\) overlap/],
    ['offsets past the end', () => st({ 'norm.weight': t('F32', [4], 0, 16) }, new Uint8Array(8)), /norm\.weight lies past the end/],
    ['unknown dtype', () => st({ 'norm.weight': t('F8_E4M3', [4], 0, 4) }, new Uint8Array(4)), /norm\.weight has dtype F8_E4M3/],
    ['shape that does not match its bytes', () => st({ 'norm.weight': t('F32', [100], 0, 4) }, new Uint8Array(4)), /norm\.weight: 4 bytes do not hold shape \[100\]/],
    ['negative shape', () => st({ 'norm.weight': t('F32', [-1], 0, 4) }, new Uint8Array(4)), /norm\.weight has a bad shape/],
    ['huge shape', () => st({ 'norm.weight': t('F32', [2 ** 30, 2 ** 30], 0, 4) }, new Uint8Array(4)), /norm\.weight: 4 bytes do not hold shape/],
    ['reversed offsets', () => st({ 'norm.weight': t('F32', [1], 8, 4) }, new Uint8Array(8)), /norm\.weight has bad data_offsets/],
    ['entry that is not an object', () => st({ 'norm.weight': SECRET }), /norm\.weight/],
    ['__metadata__ with a non-string value', () => st({ __metadata__: { format: 3 } }), /__metadata__\.format/],
    ['shorter than its length field', () => Buffer.from([1, 0, 0]), /not a PyTorch zip or safetensors|shorter/]
  ]
  it.each(cases)('%s', async (name, bytes, names) => {
    const path = write(`st-${name.replace(/\W+/g, '_')}.safetensors`, bytes())
    await expectRefused('safetensors', name, path, raw(path), names)
  })

  it('a safetensors model with a NaN weight and one with an int64 weight', async () => {
    const { writeSafetensors } = await import('@engine/checkpoint')
    const weights = new Map([...tiny].map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]))
    weights.get('decoder_pred.bias')!.data[0] = NaN
    const nanPath = join(scratch.dir, 'st-nan.safetensors')
    await writeSafetensors(nanPath, weights)
    const loaded = await loadCheckpoint(nanPath)
    expect(loaded.warnings[0]).toMatch(/decoder_pred\.bias \(1 NaN\)/)
    expect(() => assertUsable(loaded, 'st-nan.safetensors')).toThrow(/st-nan\.safetensors: refusing to run this model: .*decoder_pred\.bias/)
    record('safetensors', 'NaN weight', 'clear-error')
    // Re-type one weight as I64 by rewriting its header entry.
    const bytes = readFileSync(nanPath)
    const len = Number(bytes.readBigUInt64LE(0))
    const header = JSON.parse(bytes.subarray(8, 8 + len).toString()) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>
    const e = header['norm.weight']!
    e.dtype = 'I32'
    const json = Buffer.from(JSON.stringify(header).padEnd(len))
    const intPath = write('st-int.safetensors', Buffer.concat([bytes.subarray(0, 8), json, bytes.subarray(8 + len)]))
    await expectRefused('safetensors', 'integer model weight', intPath, load(intPath), /norm\.weight \(int32\)/)
  })
})

// ---------------------------------------------------------------------------------------------
describe('model configs (YAML / JSON)', () => {
  const base = readFileSync(TINY_YAML, 'utf8')
  const withArg = (field: string, value: string) => base.replace(new RegExp(`(\\n\\s*${field}:)[^\\n]*`), `$1 ${value}`)
  const cases: [string, () => string, string | RegExp][] = [
    ['not YAML', () => `model_args: [unclosed ${SECRET}`, /not valid YAML/],
    ['a YAML list', () => '- 1\n- 2\n', /expected a mapping/],
    ['missing model_args', () => 'train_params: {}\n', /model_args is missing/],
    ['depth 10^9', () => withArg('depth', '1000000000'), /depth 1000000000 is absurdly large/],
    ['embed_dim 0', () => withArg('embed_dim', '0'), /model_args\.embed_dim must be a positive integer, got 0/],
    ['embed_dim a string', () => withArg('embed_dim', 'huge'), /model_args\.embed_dim must be a positive integer, got "huge"/],
    ['embed_dim negative', () => withArg('embed_dim', '-32'), /model_args\.embed_dim/],
    ['depth 12.5', () => withArg('depth', '12.5'), /model_args\.depth must be a positive integer/],
    ['depth missing', () => base.replace(/\n\s*depth:[^\n]*/, ''), /model_args\.depth is missing/],
    ['patch size larger than the image', () => withArg('patch_size', '64'), /patch_size 64 is larger than img_size 32/],
    ['img_size 10^6', () => withArg('img_size', '1000000'), /img_size 1000000 is absurdly large/],
    ['non-square img_size', () => withArg('img_size', '[32, 64]'), /model_args\.img_size/],
    ['heads that do not split the width', () => withArg('num_heads', '5'), /embed_dim 32 does not split into 5 heads/],
    ['mlp_ratio a string', () => `${base}\n`.replace(/model_args:\n/, 'model_args:\n  mlp_ratio: four\n'), /mlp_ratio must be a number/],
    ['norm_pix_loss "yes please"', () => base.replace(/model_args:\n/, 'model_args:\n  norm_pix_loss: yes please\n'), /norm_pix_loss must be true or false/],
    ['data_mean of the wrong length', () => base.replace(/data_mean:[^\n]*(\n\s+-[^\n]*)*/, 'data_mean: [1, 2]'), /train_params\.data_mean has 2 entries/],
    ['negative data_std', () => base.replace(/data_std:[^\n]*(\n\s+-[^\n]*)*/, 'data_std: [1, 1, 1, 1, 1, -1]'), /data_std must be positive/],
    ['JSON with wrong types', () => JSON.stringify({ model_args: { img_size: '32', patch_size: 8 } }), /model_args\.img_size must be a positive integer, got "32"/],
    ['number past float range', () => withArg('embed_dim', '1e400'), /model_args\.embed_dim/],
    [
      'alias bomb (billion laughs)',
      () => `a: &a [${SECRET}, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nmodel_args: {}\n`,
      /not valid YAML|model_args/
    ]
  ]
  it.each(cases)('%s', async (name, text, names) => {
    const path = write(`cfg-${name.replace(/\W+/g, '_')}.yaml`, text())
    await expectRefused('config', name, path, () => readPrithviConfig(path), names)
  })

  it('a config file that does not exist, and one used with a checkpoint', async () => {
    const missing = join(scratch.dir, 'nope.yaml')
    await expectRefused('config', 'missing file', missing, () => readPrithviConfig(missing), /cannot read the config file \(ENOENT\)/)
    const bad = write('cfg-with-ckpt.yaml', withArg('depth', '1000000000'))
    await expectRefused('config', 'absurd yaml given with a checkpoint', bad, () => loadCheckpoint(TINY, { configPath: bad }), /depth 1000000000/)
    expect(() => parsePrithviConfig('model_args: 3', 'inline.yaml')).toThrow(/inline\.yaml: model_args is missing/)
    record('config', 'model_args a number', 'clear-error')
  })
})

// ---------------------------------------------------------------------------------------------
describe('training configs (run.json) and the CLI', () => {
  let home: { dir: string; remove(): void }
  let ctx: AppContext
  let dataDir: string
  const ledger = () => join(home.dir, 'ledger.sqlite')
  const tinyCfg = { img_size: 32, patch_size: 8, num_frames: 1, tubelet_size: 1, in_chans: 6, embed_dim: 32, depth: 2, num_heads: 4, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2, mlp_ratio: 4, norm_pix_loss: false }
  const run = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    name: 'hostile',
    task: 'classification',
    model: { random: tinyCfg },
    data: { kind: 'folder', path: dataDir, layout: 'imagefolder' },
    steps: 2,
    batchSize: 2,
    optimizer: { name: 'adamw', lr: 1e-4 },
    ...over
  })

  beforeAll(async () => {
    requireBuild()
    home = tempHome('marsfm-hostile-runs-')
    dataDir = join(scratch.dir, 'imagefolder')
    mkdirSync(dataDir, { recursive: true })
    ctx = await createAppContext({ mode: 'cli', dataDir: home.dir, startEngine: false, engineEntry: ENGINE_ENTRY, echoLog: false })
  })
  afterAll(async () => {
    await ctx?.close()
    expect(tempLeftovers(home.dir)).toEqual([])
    home?.remove()
  })

  const cases: [string, () => Record<string, unknown>, string | RegExp][] = [
    ['negative steps', () => run({ steps: -5 }), /steps/],
    ['zero steps', () => run({ steps: 0 }), /steps/],
    ['batch 0', () => run({ batchSize: 0 }), /batchSize/],
    ['lr NaN', () => run({ optimizer: { name: 'adamw', lr: NaN } }), /optimizer\.lr/],
    ['lr a string', () => run({ optimizer: { name: 'adamw', lr: '1e-4' } }), /optimizer\.lr/],
    ['lr negative', () => run({ optimizer: { name: 'adamw', lr: -1 } }), /optimizer\.lr/],
    ['unknown key (batch_size)', () => run({ batch_size: 8 }), /batch_size/],
    ['missing data', () => { const r = run(); delete r.data; return r }, /data/],
    ['missing optimizer', () => { const r = run(); delete r.optimizer; return r }, /optimizer/],
    ['unknown task', () => run({ task: 'regression' }), /task/],
    ['empty name', () => run({ name: '' }), /name/],
    ['imgSize 10^9', () => run({ imgSize: 1e9 }), /imgSize/],
    ['relative data path', () => run({ data: { kind: 'folder', path: 'data/train', layout: 'imagefolder' } }), /data\.path/],
    ['data path that does not exist', () => run({ data: { kind: 'folder', path: join(scratch.dir, 'no-such-folder'), layout: 'imagefolder' } }), /training data folder not found: .*no-such-folder/],
    ['data path that is a file', () => run({ data: { kind: 'folder', path: TINY, layout: 'imagefolder' } }), /training data folder is not a folder: .*tiny_prithvi\.pt/],
    ['model path that does not exist', () => run({ model: { path: join(scratch.dir, 'missing.pt') } }), /model checkpoint not found: .*missing\.pt/],
    ['model that is not registered', () => run({ model: { id: 999 } }), /no model #999/],
    ['random model with depth 10^9', () => run({ model: { random: { ...tinyCfg, depth: 1e9 } } }), /model\.random: depth 1000000000 is absurdly large/],
    ['random model with embed_dim 0', () => run({ model: { random: { ...tinyCfg, embed_dim: 0 } } }), /embed_dim/]
  ]
  it.each(cases)('%s', async (name, config, names) => {
    const before = ledgerSnapshot(ledger())
    let outcome: Outcome = 'crash'
    try {
      const err = await startRun(ctx, config())
        .then(
          () => null,
          (e: unknown) => e as Error
        )
      if (!err) {
        outcome = 'silent-acceptance'
        throw new Error(`${name} was accepted`)
      }
      // What a user sees: the wire form (zod failures as one line per field, never a dump).
      const { toWireError } = await import('@shared/ipc/errors')
      const message = toWireError(err).message
      expectClearError(message, { names })
      expect(message).not.toMatch(/"code":|"expected":/)
      expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
      outcome = 'clear-error'
    } finally {
      record('run-config', name, outcome)
    }
  })

  it('runs:start through the router: unknown keys and bad values come back as one line per field', async () => {
    const before = ledgerSnapshot(ledger())
    const env = await ctx.router.dispatch('runs:start', { config: run({ batch_size: 8, steps: -1 }) })
    expect(env.ok).toBe(false)
    const message = env.ok ? '' : env.error.message
    expectClearError(message, { names: /batch_size/ })
    expect(message).toMatch(/steps/)
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
    record('run-config', 'runs:start over IPC with an unknown key', 'clear-error')
  })

  /** Runs the CLI; returns its exit code, output and peak RSS (of it or its engine child, whichever is larger). */
  function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; peakMb: number } {
    const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, CLI_ENTRY, ...args], {
      env: { ...process.env, MARSFM_HOME: home.dir, ...env },
      encoding: 'utf8',
      timeout: 120_000
    })
    const m = /MAXRSS_KB=(\d+)/.exec(r.stderr)
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/MAXRSS_KB=\d+\n?/, '').replace(/Command exited with non-zero status \d+\n?/, ''), peakMb: m ? Number(m[1]) / 1024 : NaN }
  }

  it('marsfm train with a run.json naming a data folder that does not exist: exit 2, one line, no run', () => {
    const before = ledgerSnapshot(ledger())
    const cfgPath = write('run-missing-data.json', JSON.stringify(run({ data: { kind: 'folder', path: join(scratch.dir, 'gone'), layout: 'imagefolder' } })))
    const r = cli(['train', '--config', cfgPath])
    expect(r.status).not.toBe(0)
    expectClearError(r.stderr, { names: /training data folder not found: .*gone/ })
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
    record('cli', 'train: missing data path', 'clear-error')
  })

  it('marsfm train with a misspelt key: one line naming it, no run', () => {
    const before = ledgerSnapshot(ledger())
    const cfgPath = write('run-typo.json', JSON.stringify(run({ learning_rate: 3 })))
    const r = cli(['train', '--config', cfgPath])
    expect(r.status).toBe(2)
    expectClearError(r.stderr, { names: /learning_rate/ })
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
    record('cli', 'train: unknown key', 'clear-error')
  })

  it('marsfm model import of a stride-0 file: refused in the engine, bounded memory, nothing imported', () => {
    const before = ledgerSnapshot(ledger())
    const storages: StorageData[] = [{ key: 'v', bytes: f32([1]) }]
    const path = write('cli-stride0.pt', tinyModel({ extra: [{ spec: { name: 'aux_head.table', key: 'v', shape: [16000, 16000], stride: [0, 0] }, data: storages[0] }] }))
    const r = cli(['model', 'import', path])
    console.log(`marsfm model import cli-stride0.pt: exit ${r.status}, peak RSS ${r.peakMb.toFixed(0)} MB`)
    expect(r.status).toBe(1)
    expectClearError(r.stderr, { names: /cli-stride0\.pt: tensor aux_head\.table: shape \[16000, 16000\]/ })
    expect(r.peakMb).toBeLessThan(600)
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
    record('cli', 'model import: stride-0 16000×16000', 'clear-error')
  })

  it('marsfm model import of a deflate bomb: refused, bounded memory, nothing imported', () => {
    const before = ledgerSnapshot(ledger())
    const extra = { spec: { name: 'aux_head.table', key: 'bomb', numel: 4, shape: [4], stride: [1] }, data: { key: 'bomb', bytes: new Uint8Array(0), precompressed: zeroBomb(512) } }
    const path = write('cli-bomb.pt', tinyModel({ extra: [extra] }))
    const r = cli(['model', 'import', path])
    console.log(`marsfm model import cli-bomb.pt (${(readFileSync(path).length / 1024).toFixed(0)} KB, 512 MB inflated): exit ${r.status}, peak RSS ${r.peakMb.toFixed(0)} MB`)
    expect(r.status).toBe(1)
    expectClearError(r.stderr, { names: /cli-bomb\.pt: storage archive\/data\/bomb declares 536870912 bytes/ })
    expect(r.peakMb).toBeLessThan(600)
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
    record('cli', 'model import: deflate bomb', 'clear-error')
  })

  it('marsfm model import of an int64 weight: refused naming the tensor', () => {
    const before = ledgerSnapshot(ledger())
    const n = tiny.get('blocks.0.norm1.weight')!.data.length
    const path = write('cli-int64.pt', tinyModel({ retype: { 'blocks.0.norm1.weight': { storage: 'LongStorage', bytes: new Uint8Array(new BigInt64Array(n).buffer) } } }))
    const r = cli(['model', 'import', path])
    expect(r.status).toBe(1)
    expectClearError(r.stderr, { names: /cli-int64\.pt: .*blocks\.0\.norm1\.weight \(torch\.LongStorage\)/ })
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()))
    record('cli', 'model import: int64 weight', 'clear-error')
  })

  it('a NaN model imports with a warning, and reconstruct refuses it in one line (no zod dump)', async () => {
    const a = Float32Array.from(tiny.get('blocks.0.attn.qkv.weight')!.data)
    a[0] = NaN
    const path = write('cli-nan.pt', tinyModel({ values: { 'blocks.0.attn.qkv.weight': a } }))
    const before = ledgerSnapshot(ledger())
    const imp = cli(['model', 'import', path])
    expect(imp.status).toBe(0)
    expect(imp.stderr).toMatch(/warning: cli-nan\.pt: 1 weight tensor\(s\) hold NaN or infinite values: blocks\.0\.attn\.qkv\.weight \(1 NaN\)/)
    expectLedgerUnchanged(before, ledgerSnapshot(ledger()), ['models'])
    const images = join(scratch.dir, 'images')
    mkdirSync(images, { recursive: true })
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 120, g: 80, b: 60 } } }).png().toFile(join(images, 'a.png'))
    const before2 = ledgerSnapshot(ledger())
    const rec = cli(['reconstruct', '--checkpoint', path, '--config', TINY_YAML, '--images', images])
    expect(rec.status).toBe(1)
    console.log(`marsfm reconstruct cli-nan.pt: ${rec.stderr.trim()}`)
    expect(rec.stderr.trim().split('\n')).toHaveLength(1)
    expectClearError(rec.stderr, { names: /cli-nan\.pt: refusing to run this model: .*blocks\.0\.attn\.qkv\.weight \(1 NaN\)/ })
    expect(rec.stderr).not.toMatch(/"code"|invalid_type/)
    // Recorded as the Reconstruction view records it: one failed study with the reason, nothing else.
    expectLedgerUnchanged(before2, ledgerSnapshot(ledger()), ['reconstruction_studies'])
    expect(ledgerSnapshot(ledger()).counts.reconstruction_studies).toBe((before2.counts.reconstruction_studies ?? 0) + 1)
    expect(rec.stderr).toMatch(/study #\d+: /)
    record('cli', 'model import: NaN weights (warned)', 'clear-error')
    record('cli', 'reconstruct: NaN model refused', 'clear-error')
  })
})

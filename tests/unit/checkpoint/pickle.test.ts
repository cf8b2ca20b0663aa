// Safe unpickler: the opcodes state dicts use, the allow-list, and refusal of everything else.

import { describe, expect, it } from 'vitest'
import { CheckpointError } from '@engine/checkpoint/errors'
import { isPyTuple, unpickle } from '@engine/checkpoint/pickle'
import { PyNamespace, storageLoader, TensorRef, TORCH_GLOBALS } from '@engine/checkpoint/torch-globals'

type Part = number | number[] | string | Uint8Array

/** Assembles a pickle: numbers are opcodes/bytes, strings are raw latin-1 text. */
function pk(...parts: Part[]): Uint8Array {
  const out: number[] = []
  for (const p of parts) {
    if (typeof p === 'number') out.push(p)
    else if (typeof p === 'string') for (const ch of p) out.push(ch.charCodeAt(0))
    else for (const x of p) out.push(x)
  }
  return Uint8Array.from(out)
}
const le32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255]
const unicode = (s: string): Part[] => {
  const b = new TextEncoder().encode(s)
  return [0x58, le32(b.length), b] // BINUNICODE
}
const short = (s: string): Part[] => {
  const b = new TextEncoder().encode(s)
  return [0x8c, b.length, b] // SHORT_BINUNICODE
}
const f64be = (x: number): number[] => {
  const v = new DataView(new ArrayBuffer(8))
  v.setFloat64(0, x)
  return [...new Uint8Array(v.buffer)]
}
const NONE_ALLOWED = new Map<string, unknown>()

describe('unpickle: values', () => {
  it('reads a protocol-2 dict of ints, floats, strings, lists and tuples, with memo', () => {
    const data = pk(
      0x80, 2, 0x7d, 0x71, 0, 0x28, // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
      ...unicode('a'), 0x4b, 1, // BININT1 1
      ...unicode('b'), 0x5d, 0x71, 1, 0x28, 0x47, f64be(1.5), 0x4e, 0x88, 0x89, 0x65, // list: 1.5, None, True, False
      ...unicode('c'), ...unicode('Jezero — ✓'), 0x4a, le32(-70000), 0x8a, 6, [0, 0, 0, 0, 0, 1], 0x87, // TUPLE3
      ...unicode('d'), 0x68, 1, // BINGET 1: the same list
      ...unicode('e'), 0x4d, [0x34, 0x12], 0x85, // BININT2, TUPLE1
      0x75, 0x2e // SETITEMS, STOP
    )
    const v = unpickle(data, { globals: NONE_ALLOWED }) as Map<string, unknown>
    expect(v).toBeInstanceOf(Map)
    expect(v.get('a')).toBe(1)
    expect(v.get('b')).toEqual([1.5, null, true, false])
    expect(v.get('c')).toEqual(['Jezero — ✓', -70000, 2 ** 40])
    expect(isPyTuple(v.get('c'))).toBe(true)
    expect(isPyTuple(v.get('b'))).toBe(false)
    expect(v.get('d')).toBe(v.get('b'))
    expect(v.get('e')).toEqual([0x1234])
  })

  it('reads protocol-4 framing, MEMOIZE, STACK_GLOBAL and BUILD of an OrderedDict', () => {
    const body = pk(
      ...short('collections'), 0x94, ...short('OrderedDict'), 0x94, 0x93, 0x94, // STACK_GLOBAL
      0x29, 0x52, 0x94, // EMPTY_TUPLE, REDUCE
      0x28, ...short('w'), 0x8a, 1, 0xff, ...short('big'), 0x8a, 9, [0, 0, 0, 0, 0, 0, 0, 0, 1], 0x75, // -1, 2^64
      0x7d, ...short('_metadata'), 0x7d, 0x73, 0x62, // BUILD with {'_metadata': {}}
      0x2e
    )
    const len = [body.length, 0, 0, 0, 0, 0, 0, 0]
    const v = unpickle(pk(0x80, 4, 0x95, len, body), { globals: TORCH_GLOBALS }) as Map<string, unknown>
    expect([...v.entries()]).toEqual([['w', -1], ['big', 2n ** 64n]])
  })

  it('reads one huge APPENDS without overflowing the stack', () => {
    const n = 200_000
    const items: number[] = []
    for (let i = 0; i < n; i++) items.push(0x4b, i & 255)
    const v = unpickle(pk(0x80, 2, 0x5d, 0x28, items, 0x65, 0x2e), { globals: NONE_ALLOWED }) as number[]
    expect(v.length).toBe(n)
    expect(v[n - 1]).toBe((n - 1) & 255)
  })

  it('builds tensor references that share storages by key', () => {
    // _rebuild_tensor_v2(storage('0'), offset 2, size (2, 3), stride (1, 2), False, OrderedDict())
    const tensor = (offset: number): Part[] => [
      0x63, 'torch._utils\n_rebuild_tensor_v2\n', 0x28,
      0x28, ...unicode('storage'), 0x63, 'torch\nHalfStorage\n', ...unicode('0'), ...unicode('cpu'), 0x4b, 12, 0x74, 0x51,
      0x4b, offset, 0x4b, 2, 0x4b, 3, 0x86, 0x4b, 1, 0x4b, 2, 0x86, 0x89, 0x63, 'collections\nOrderedDict\n', 0x29, 0x52, 0x74, 0x52
    ]
    const { load, storages } = storageLoader()
    const v = unpickle(pk(0x80, 2, ...tensor(2), ...tensor(5), 0x86, 0x2e), { globals: TORCH_GLOBALS, persistentLoad: load }) as TensorRef[]
    expect(v[0]).toBeInstanceOf(TensorRef)
    expect(v[0]!.shape).toEqual([2, 3])
    expect(v[0]!.stride).toEqual([1, 2])
    expect(v[0]!.offset).toBe(2)
    expect(v[1]!.offset).toBe(5)
    expect(v[0]!.dtype).toBe('float16')
    expect(v[0]!.storage).toBe(v[1]!.storage)
    expect(storages.size).toBe(1)
  })
})

describe('unpickle: refusals', () => {
  const shell = [...unicode('touch /tmp/marsfm_should_never_exist'), 0x85, 0x52, 0x2e]
  const cases: [string, Uint8Array][] = [
    ['os.system', pk(0x80, 2, 0x63, 'os\nsystem\n', ...shell)],
    ['posix.system', pk(0x80, 2, 0x63, 'posix\nsystem\n', ...shell)],
    ['subprocess.Popen', pk(0x80, 2, 0x63, 'subprocess\nPopen\n', ...shell)],
    ['builtins.eval', pk(0x80, 4, ...short('builtins'), ...short('eval'), 0x93, ...shell)],
    ['builtins.getattr', pk(0x80, 2, 0x63, 'builtins\ngetattr\n', 0x2e)],
    ['torch.load', pk(0x80, 2, 0x63, 'torch\nload\n', 0x2e)]
  ]
  for (const [name, data] of cases) {
    it(`refuses ${name}, naming it`, () => {
      const err = (() => {
        try {
          unpickle(data, { globals: TORCH_GLOBALS })
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(CheckpointError)
      expect(err).toMatchObject({ code: 'unsafe-global' })
      expect((err as Error).message).toBe(`refusing to load: the checkpoint references the Python global ${name}, which a weights file never needs`)
    })
  }

  it('names the global of a protocol-0 INST before refusing the opcode', () => {
    expect(() => unpickle(pk(0x28, 0x69, 'os\nsystem\n', 0x2e), { globals: TORCH_GLOBALS })).toThrow(/Python global os\.system/)
  })

  it('names unknown and unsupported opcodes', () => {
    expect(() => unpickle(pk(0x80, 2, 0xff), { globals: NONE_ALLOWED })).toThrow(expect.objectContaining({ code: 'unsupported-opcode', message: 'unknown pickle opcode 0xff at byte 2' }))
    expect(() => unpickle(pk(0x80, 2, 0x82, 1, 0x2e), { globals: NONE_ALLOWED })).toThrow(/unsupported pickle opcode EXT1 \(0x82\)/)
    expect(() => unpickle(pk(0x49, '1\n', 0x2e), { globals: NONE_ALLOWED })).toThrow(/opcode INT/)
  })

  it('reports damage instead of crashing', () => {
    const opts = { globals: NONE_ALLOWED }
    expect(() => unpickle(pk(0x80, 2, 0x58, le32(100), 'abc'), opts)).toThrow(expect.objectContaining({ code: 'corrupt' }))
    expect(() => unpickle(pk(0x80, 2), opts)).toThrow(/ends early/)
    expect(() => unpickle(pk(0x80, 2, 0x30, 0x2e), opts)).toThrow(/underflow/)
    expect(() => unpickle(pk(0x80, 2, 0x74, 0x2e), opts)).toThrow(/MARK missing/)
    expect(() => unpickle(pk(0x80, 2, 0x68, 9, 0x2e), opts)).toThrow(/memo entry 9/)
    expect(() => unpickle(pk(0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e), opts)).toThrow(/not callable/)
    expect(() => unpickle(pk(0x80, 2, 0x4b, 1, 0x51, 0x2e), opts)).toThrow(/persistent id/)
    expect(() => unpickle(pk(0x80, 6, 0x2e), opts)).toThrow(/protocol 6/)
  })
})

describe('unpickle: argparse.Namespace (MAE-style training arguments)', () => {
  // Written by CPython 3.11: pickle.dumps({'args': argparse.Namespace(model='mae_vit_base_patch16',
  // input_size=224, mask_ratio=0.75, norm_pix_loss=True, lr=None, blr=1.5e-4, data_path='/data/hirise',
  // betas=(0.9, 0.95)), 'epoch': 799}, protocol=P) for P = 2 and 4.
  const written = {
    2: 'gAJ9cQAoWAQAAABhcmdzcQFjYXJncGFyc2UKTmFtZXNwYWNlCnECKYFxA31xBChYBQAAAG1vZGVscQVYFAAAAG1hZV92aXRfYmFzZV9wYXRjaDE2cQZYCgAAAGlucHV0X3NpemVxB0vgWAoAAABtYXNrX3JhdGlvcQhHP+gAAAAAAABYDQAAAG5vcm1fcGl4X2xvc3NxCYhYAgAAAGxycQpOWAMAAABibHJxC0c/I6kqMFUyYVgJAAAAZGF0YV9wYXRocQxYDAAAAC9kYXRhL2hpcmlzZXENWAUAAABiZXRhc3EORz/szMzMzMzNRz/uZmZmZmZmhnEPdWJYBQAAAGVwb2NocRBNHwN1Lg==',
    4: 'gASV2QAAAAAAAAB9lCiMBGFyZ3OUjAhhcmdwYXJzZZSMCU5hbWVzcGFjZZSTlCmBlH2UKIwFbW9kZWyUjBRtYWVfdml0X2Jhc2VfcGF0Y2gxNpSMCmlucHV0X3NpemWUS+CMCm1hc2tfcmF0aW+URz/oAAAAAAAAjA1ub3JtX3BpeF9sb3NzlIiMAmxylE6MA2JscpRHPyOpKjBVMmGMCWRhdGFfcGF0aJSMDC9kYXRhL2hpcmlzZZSMBWJldGFzlEc/7MzMzMzMzUc/7mZmZmZmZoaUdWKMBWVwb2NolE0fA3Uu'
  }
  for (const [protocol, b64] of Object.entries(written)) {
    it(`reads its attributes as data (protocol ${protocol})`, () => {
      const root = unpickle(Uint8Array.from(Buffer.from(b64, 'base64')), { globals: TORCH_GLOBALS }) as Map<string, unknown>
      expect(root.get('epoch')).toBe(799)
      const args = root.get('args')
      expect(args).toBeInstanceOf(PyNamespace)
      const a = (args as PyNamespace).attributes
      expect([...a.keys()]).toEqual(['model', 'input_size', 'mask_ratio', 'norm_pix_loss', 'lr', 'blr', 'data_path', 'betas'])
      expect(a.get('model')).toBe('mae_vit_base_patch16')
      expect(a.get('input_size')).toBe(224)
      expect(a.get('mask_ratio')).toBe(0.75)
      expect(a.get('norm_pix_loss')).toBe(true)
      expect(a.get('lr')).toBeNull()
      expect(a.get('betas')).toEqual([0.9, 0.95])
    })
  }

  it('refuses a Namespace that holds something callable, naming the attribute', () => {
    // pickle.dumps({'args': argparse.Namespace(act=collections.OrderedDict)}, protocol=2)
    const data = Uint8Array.from(Buffer.from('gAJ9cQBYBAAAAGFyZ3NxAWNhcmdwYXJzZQpOYW1lc3BhY2UKcQIpgXEDfXEEWAMAAABhY3RxBWNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxBnNicy4=', 'base64'))
    expect(() => unpickle(data, { globals: TORCH_GLOBALS })).toThrow(
      expect.objectContaining({ code: 'unsafe-global', message: expect.stringContaining('attribute "act" holds the Python callable collections.OrderedDict') })
    )
  })

  it('refuses a Namespace built with arguments, or given a non-dict state', () => {
    const ns = (...rest: Part[]) => pk(0x80, 2, 0x63, 'argparse\nNamespace\n', ...rest)
    expect(() => unpickle(ns(0x4b, 1, 0x85, 0x81, 0x2e), { globals: TORCH_GLOBALS })).toThrow(/positional arguments/)
    expect(() => unpickle(ns(0x29, 0x81, 0x4b, 1, 0x62, 0x2e), { globals: TORCH_GLOBALS })).toThrow(/state is not a dict/)
    // Anything else from argparse stays refused.
    expect(() => unpickle(pk(0x80, 2, 0x63, 'argparse\nArgumentParser\n', 0x2e), { globals: TORCH_GLOBALS })).toThrow(/Python global argparse\.ArgumentParser/)
  })
})

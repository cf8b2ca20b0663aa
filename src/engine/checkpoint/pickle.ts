// A safe unpickler for the pickles inside torch checkpoints (protocols 2-5). It builds plain
// JS values and never executes anything: a pickle may only name Python globals from the
// caller's allow-list, and "calling" one runs our own TypeScript stand-in for it.

import { CheckpointError } from './errors'

/** Our stand-in for an allowed Python callable (a class or function named by the pickle). */
export interface PyCallable {
  readonly pyName: string
  call(args: readonly unknown[]): unknown
}

/** Objects that accept pickle's BUILD (`__setstate__`). */
export interface PyStateful {
  setState(state: unknown): void
}

export interface UnpickleOptions {
  /** `module.name` → the value it stands for. Any other global is refused. */
  globals: ReadonlyMap<string, unknown>
  /** Resolves BINPERSID ids (torch: storages). Without it, persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown
}

export function isPyCallable(v: unknown): v is PyCallable {
  return typeof v === 'object' && v !== null && typeof (v as PyCallable).call === 'function' && typeof (v as PyCallable).pyName === 'string'
}

/** Python tuples arrive as frozen arrays, lists as ordinary ones, dicts as Maps. */
export function isPyTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v)
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER'
}

// Arbitrary-precision ints beyond this are not something a state dict carries.
const MAX_LONG_BYTES = 64

function corrupt(msg: string): CheckpointError {
  return new CheckpointError('corrupt', `damaged pickle: ${msg}`)
}

export function refuseGlobal(name: string): CheckpointError {
  return new CheckpointError('unsafe-global', `refusing to load: the checkpoint references the Python global ${name}, which a weights file never needs`)
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items)
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0
  if (b.length > MAX_LONG_BYTES) throw corrupt(`integer of ${b.length} bytes`)
  let v = 0n
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!)
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length)
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

class Reader {
  pos = 0
  private readonly view: DataView
  private readonly utf8 = new TextDecoder('utf-8')
  private readonly latin1 = new TextDecoder('latin1')

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.data.length) throw corrupt('data ends early')
    const at = this.pos
    this.pos += n
    return at
  }

  u8(): number {
    return this.view.getUint8(this.need(1))
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true)
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true)
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true)
  }
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true)
    if (v > BigInt(this.data.length)) throw corrupt('length field larger than the pickle')
    return Number(v)
  }
  f64be(): number {
    return this.view.getFloat64(this.need(8), false)
  }
  bytes(n: number): Uint8Array {
    const at = this.need(n)
    return this.data.subarray(at, at + n)
  }
  utf8Str(n: number): string {
    return this.utf8.decode(this.bytes(n))
  }
  latin1Str(n: number): string {
    return this.latin1.decode(this.bytes(n))
  }
  line(): string {
    const end = this.data.indexOf(0x0a, this.pos)
    if (end < 0) throw corrupt('unterminated text line')
    const s = this.latin1.decode(this.data.subarray(this.pos, end))
    this.pos = end + 1
    return s
  }
}

/** Parses one pickle. Throws CheckpointError for unsafe globals, unknown opcodes and damage. */
export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  const r = new Reader(data)
  let stack: unknown[] = []
  const metastack: unknown[][] = []
  const memo = new Map<number, unknown>()

  const pop = (): unknown => {
    if (stack.length === 0) throw corrupt('stack underflow')
    return stack.pop()
  }
  const top = (): unknown => {
    if (stack.length === 0) throw corrupt('stack underflow')
    return stack[stack.length - 1]
  }
  const popMark = (): unknown[] => {
    const items = stack
    const prev = metastack.pop()
    if (!prev) throw corrupt('MARK missing')
    stack = prev
    return items
  }
  const resolveGlobal = (module: string, name: string): unknown => {
    const full = `${module}.${name}`
    if (!opts.globals.has(full)) throw refuseGlobal(full)
    return opts.globals.get(full)
  }
  const callable = (v: unknown, op: string): PyCallable => {
    if (!isPyCallable(v)) throw corrupt(`${op} applied to something that is not callable`)
    return v
  }
  const argsTuple = (v: unknown, op: string): readonly unknown[] => {
    if (!Array.isArray(v)) throw corrupt(`${op} arguments are not a tuple`)
    return v
  }
  const setItems = (target: unknown, kv: unknown[]): void => {
    if (!(target instanceof Map)) throw corrupt('SETITEM(S) on something that is not a dict')
    if (kv.length % 2) throw corrupt('odd number of dict items')
    for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1])
  }
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target) || Object.isFrozen(target)) throw corrupt('APPEND(S) on something that is not a list')
    for (const it of items) target.push(it) // no spread: a huge APPENDS would overflow the call stack
  }
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) throw corrupt(`memo entry ${i} missing`)
    return memo.get(i)
  }

  for (;;) {
    const at = r.pos
    const op = r.u8()
    switch (op) {
      case 0x80: { // PROTO
        const v = r.u8()
        if (v > 5) throw new CheckpointError('unsupported-format', `pickle protocol ${v} is newer than this reader (max 5)`)
        break
      }
      case 0x95: // FRAME: framing is only a read-ahead hint
        r.u64()
        break
      case 0x2e: // STOP
        return pop()
      case 0x28: // MARK
        metastack.push(stack)
        stack = []
        break
      case 0x30: // POP
        pop()
        break
      case 0x31: // POP_MARK
        popMark()
        break
      case 0x32: // DUP
        stack.push(top())
        break
      case 0x4e: stack.push(null); break // NONE
      case 0x88: stack.push(true); break // NEWTRUE
      case 0x89: stack.push(false); break // NEWFALSE
      case 0x4a: stack.push(r.i32()); break // BININT
      case 0x4b: stack.push(r.u8()); break // BININT1
      case 0x4d: stack.push(r.u16()); break // BININT2
      case 0x8a: stack.push(decodeLong(r.bytes(r.u8()))); break // LONG1
      case 0x8b: { // LONG4
        const n = r.i32()
        if (n < 0) throw corrupt('negative LONG4 length')
        stack.push(decodeLong(r.bytes(n)))
        break
      }
      case 0x47: stack.push(r.f64be()); break // BINFLOAT
      case 0x58: stack.push(r.utf8Str(r.u32())); break // BINUNICODE
      case 0x8c: stack.push(r.utf8Str(r.u8())); break // SHORT_BINUNICODE
      case 0x8d: stack.push(r.utf8Str(r.u64())); break // BINUNICODE8
      case 0x55: stack.push(r.latin1Str(r.u8())); break // SHORT_BINSTRING (Python 2 str)
      case 0x54: { // BINSTRING
        const n = r.i32()
        if (n < 0) throw corrupt('negative BINSTRING length')
        stack.push(r.latin1Str(n))
        break
      }
      case 0x43: stack.push(r.bytes(r.u8()).slice()); break // SHORT_BINBYTES
      case 0x42: stack.push(r.bytes(r.u32()).slice()); break // BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(r.bytes(r.u64()).slice())
        break
      case 0x29: stack.push(tuple([])); break // EMPTY_TUPLE
      case 0x5d: stack.push([]); break // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break // EMPTY_SET
      // popMark() swaps `stack`: take the items first, then push onto the restored stack.
      case 0x74: { // TUPLE
        const items = popMark()
        stack.push(tuple(items))
        break
      }
      case 0x85: stack.push(tuple([pop()])); break // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop()
        stack.push(tuple([pop(), b]))
        break
      }
      case 0x87: { // TUPLE3
        const c = pop()
        const b = pop()
        stack.push(tuple([pop(), b, c]))
        break
      }
      case 0x6c: { // LIST
        const items = popMark()
        stack.push(items)
        break
      }
      case 0x64: { // DICT
        const d = new Map()
        setItems(d, popMark())
        stack.push(d)
        break
      }
      case 0x91: { // FROZENSET
        const items = popMark()
        stack.push(new Set(items))
        break
      }
      case 0x90: { // ADDITEMS
        const items = popMark()
        const s = top()
        if (!(s instanceof Set)) throw corrupt('ADDITEMS on something that is not a set')
        for (const it of items) s.add(it)
        break
      }
      case 0x61: { // APPEND
        const v = pop()
        appendItems(top(), [v])
        break
      }
      case 0x65: { // APPENDS
        const items = popMark()
        appendItems(top(), items)
        break
      }
      case 0x73: { // SETITEM
        const v = pop()
        const k = pop()
        setItems(top(), [k, v])
        break
      }
      case 0x75: { // SETITEMS
        const kv = popMark()
        setItems(top(), kv)
        break
      }
      case 0x71: memo.set(r.u8(), top()); break // BINPUT
      case 0x72: memo.set(r.u32(), top()); break // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break // MEMOIZE
      case 0x68: stack.push(memoGet(r.u8())); break // BINGET
      case 0x6a: stack.push(memoGet(r.u32())); break // LONG_BINGET
      case 0x63: { // GLOBAL
        const module = r.line()
        stack.push(resolveGlobal(module, r.line()))
        break
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop()
        const module = pop()
        if (typeof module !== 'string' || typeof name !== 'string') throw corrupt('STACK_GLOBAL needs two strings')
        stack.push(resolveGlobal(module, name))
        break
      }
      case 0x69: { // INST: protocol 0 instantiation; name the global before refusing the opcode
        const module = r.line()
        resolveGlobal(module, r.line())
        throw new CheckpointError('unsupported-opcode', `unsupported pickle opcode INST (0x69) at byte ${at}`)
      }
      case 0x52: { // REDUCE
        const args = argsTuple(pop(), 'REDUCE')
        stack.push(callable(pop(), 'REDUCE').call(args))
        break
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args); our stand-ins construct directly
        const args = argsTuple(pop(), 'NEWOBJ')
        stack.push(callable(pop(), 'NEWOBJ').call(args))
        break
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop()
        const args = argsTuple(pop(), 'NEWOBJ_EX')
        const cls = callable(pop(), 'NEWOBJ_EX')
        if (!(kwargs instanceof Map) || kwargs.size > 0) throw corrupt(`NEWOBJ_EX with keyword arguments for ${cls.pyName}`)
        stack.push(cls.call(args))
        break
      }
      case 0x62: { // BUILD
        const state = pop()
        const obj = top()
        if (obj instanceof Map) break // OrderedDict state is `_metadata` (module versions): not weights
        if (typeof obj === 'object' && obj !== null && typeof (obj as PyStateful).setState === 'function') (obj as PyStateful).setState(state)
        else throw corrupt('BUILD on an object that takes no state')
        break
      }
      case 0x51: { // BINPERSID
        const pid = pop()
        if (!opts.persistentLoad) throw corrupt('persistent id without a loader')
        stack.push(opts.persistentLoad(pid))
        break
      }
      default: {
        const name = OPCODE_NAMES[op]
        const hex = `0x${op.toString(16).padStart(2, '0')}`
        throw new CheckpointError('unsupported-opcode', name ? `unsupported pickle opcode ${name} (${hex}) at byte ${at}` : `unknown pickle opcode ${hex} at byte ${at}`)
      }
    }
  }
}

// Hostile arguments for every `marsfm` command, run as users run it (node bin/marsfm.js) against a
// real data folder holding a dataset with one image and a frozen version. Each case must exit with
// the README's code (1 failure, 2 usage), print a clear one-line error naming the option or path,
// echo no file content, leave the ledger intact and unchanged, and leave no file behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { CLI_ENTRY, ROOT, requireBuild } from '../support/built'
import { tempHome } from '../support/temp-home'
import { expectClearError, expectLedgerUnchanged, ledgerSnapshot, listFiles, printTally, record, tempLeftovers, type LedgerSnapshot } from './harness'

interface Run {
  code: number | null
  out: string
  err: string
  timedOut: boolean
}

function marsfm(home: string, args: string[], timeoutMs = 90_000): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, MARSFM_HOME: home, MARSFM_VERBOSE: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let timedOut = false
    child.stdout.on('data', (d) => (out += String(d)))
    child.stderr.on('data', (d) => (err += String(d)))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      done({ code, out, err, timedOut })
    })
  })
}

interface Case {
  name: string
  args: string[]
  code: 1 | 2
  /** What stderr must name (the option, the path or the field). */
  names: string | RegExp
}

const SECRET = `SECRET_${randomBytes(8).toString('hex')}`
const home = tempHome('marsfm-hostile-cli-')
const files = tempHome('marsfm-hostile-cli-files-')
const f = (name: string) => join(files.dir, name)
const DEMO = resolve(ROOT, 'resources/models/marsfm-demo.safetensors')
const ESC = '\u001b'
let baseline: LedgerSnapshot
let baselineFiles: string[]

// The ledger's WAL side files come and go with connections: not something a command left behind.
const dataFiles = () => listFiles(home.dir).filter((p) => !/ledger\.sqlite-(wal|shm)$/.test(p))

beforeAll(async () => {
  requireBuild()
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 90, g: 60, b: 40 } } }).png().toFile(f('crater.png'))
  writeFileSync(f('secret.txt'), `${SECRET} root:x:0:0:root:/root:/bin/bash\n`)
  writeFileSync(f('secret.json'), `${SECRET}: not json\n`)
  writeFileSync(f('bad-run.json'), JSON.stringify({ name: 'r', task: 'classification', model: { demo: true }, data: { kind: 'folder', path: files.dir, layout: 'imagefolder' }, steps: -5, batchSize: 'four' }))
  writeFileSync(f('ansi-run.json'), JSON.stringify({ name: `${ESC}[2Jevil`, task: 'classification', model: { demo: true }, data: { kind: 'folder', path: files.dir, layout: 'imagefolder' }, steps: 1, batchSize: 1 }))
  writeFileSync(f('noise.json'), '{"not": "an array"}')
  writeFileSync(f('bad-map.json'), JSON.stringify({ [SECRET]: 'Not A Class' }))
  mkdirSync(f('folder'))
  for (const args of [['dataset', 'import', 'd', f('crater.png')], ['dataset', 'freeze', 'd']]) {
    const r = await marsfm(home.dir, args)
    expect(r.code, r.err).toBe(0)
  }
  baseline = ledgerSnapshot(join(home.dir, 'ledger.sqlite'))
  baselineFiles = dataFiles()
  expect(baseline.counts.datasets).toBe(1)
}, 180_000)

afterAll(() => {
  home.remove()
  files.remove()
  printTally('cli.test.ts')
})

/** Runs the cases two at a time; returns the failures (empty when every case behaved). */
async function runCases(category: string, cases: Case[]): Promise<string[]> {
  const failures: string[] = []
  const queue = [...cases]
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const r = await marsfm(home.dir, c.args)
      let outcome: 'clear-error' | 'silent-acceptance' | 'content-echo' | 'hang' | 'crash' = 'clear-error'
      const problems: string[] = []
      if (r.timedOut) outcome = 'hang'
      else if (r.code === 0) outcome = 'silent-acceptance'
      else if ((r.out + r.err).includes(SECRET)) outcome = 'content-echo'
      else {
        // An unclear failure (wrong exit code, no name in the message, a stack) counts as a crash.
        if (r.code !== c.code) problems.push(`exit ${r.code}, expected ${c.code}`)
        // The error line (`marsfm <command>: …`); engine start-up lines may come before it.
        const first = r.err.split('\n').find((l) => l.startsWith('marsfm')) ?? r.err.split('\n')[0] ?? ''
        try {
          expectClearError(first, { names: c.names, secret: SECRET })
        } catch (err) {
          problems.push((err as Error).message.split('\n')[0]!)
        }
        if (/\n\s+at .+:\d+:\d+/.test(r.err)) problems.push('printed a stack trace')
        if (r.err.includes(ESC) || r.out.includes(ESC)) problems.push('printed a raw escape character')
        if (problems.length) outcome = 'crash'
      }
      record(category, c.name, outcome)
      if (outcome !== 'clear-error') failures.push(`${c.name} (marsfm ${c.args.join(' ').slice(0, 120)}): ${outcome}${problems.length ? `: ${problems.join('; ')}` : ''} — stderr: ${r.err.slice(0, 300)}`)
      // After every case: the ledger intact and unchanged, nothing left behind.
      try {
        expectLedgerUnchanged(baseline, ledgerSnapshot(join(home.dir, 'ledger.sqlite')))
        expect(dataFiles()).toEqual(baselineFiles)
        expect(tempLeftovers(home.dir)).toEqual([])
        expect(tempLeftovers(files.dir)).toEqual([])
      } catch (err) {
        failures.push(`${c.name}: left the data folder changed: ${(err as Error).message.split('\n')[0]}`)
      }
    }
  }
  await Promise.all([worker(), worker()])
  return failures
}

describe('marsfm with hostile arguments', () => {
  it('top level and info', async () => {
    const failures = await runCases('cli-args', [
      { name: 'unknown command', args: ['frobnicate'], code: 2, names: "unknown command 'frobnicate'" },
      { name: 'unknown command with an escape', args: [`${ESC}[31mred`], code: 2, names: 'unknown command' },
      { name: 'info: unknown flag', args: ['info', '--bogus'], code: 2, names: '--bogus' },
      { name: 'info: positional', args: ['info', 'extra'], code: 2, names: 'extra' },
      { name: 'info: value for a boolean', args: ['info', '--json=yes'], code: 2, names: '--json' }
    ])
    expect(failures).toEqual([])
  })

  it('model', async () => {
    const failures = await runCases('cli-args', [
      { name: 'model: no subcommand', args: ['model'], code: 2, names: 'missing subcommand' },
      { name: 'model: unknown subcommand', args: ['model', 'frob'], code: 2, names: "'frob'" },
      { name: 'model inspect: no path', args: ['model', 'inspect'], code: 2, names: 'one checkpoint path' },
      { name: 'model inspect: two paths', args: ['model', 'inspect', 'a.pt', 'b.pt'], code: 2, names: 'one checkpoint path' },
      { name: 'model inspect: unknown flag', args: ['model', 'inspect', DEMO, '--bogus'], code: 2, names: '--bogus' },
      { name: 'model inspect: missing --config value', args: ['model', 'inspect', DEMO, '--config'], code: 2, names: '--config' },
      { name: 'model inspect: nonexistent path', args: ['model', 'inspect', f('no-such.pt')], code: 1, names: 'no-such.pt' },
      { name: 'model inspect: a folder', args: ['model', 'inspect', f('folder')], code: 1, names: 'folder' },
      { name: 'model inspect: a text file', args: ['model', 'inspect', f('secret.txt')], code: 1, names: /not a PyTorch zip or safetensors checkpoint|secret\.txt/ },
      { name: 'model inspect: newline in the path', args: ['model', 'inspect', f('a\nb.pt')], code: 1, names: 'a\\nb.pt' },
      { name: 'model import: ANSI name', args: ['model', 'import', DEMO, '--name', `${ESC}[2J${ESC}[31mevil`], code: 2, names: /--name: must not contain control characters/ },
      { name: 'model import: name with a newline', args: ['model', 'import', DEMO, '--name', 'two\nlines'], code: 2, names: /--name: must not contain control characters/ },
      { name: 'model import: empty name', args: ['model', 'import', DEMO, '--name', ''], code: 2, names: '--name' },
      { name: 'model import: oversized name', args: ['model', 'import', DEMO, '--name', 'n'.repeat(5000)], code: 2, names: '--name' },
      { name: 'model export-onnx: no --out', args: ['model', 'export-onnx', DEMO], code: 2, names: '--out' },
      { name: 'model export-onnx: unknown graph', args: ['model', 'export-onnx', DEMO, '--out', f('x.onnx'), '--graph', 'bogus'], code: 2, names: '--graph' },
      { name: 'model export-onnx: non-numeric mask ratio', args: ['model', 'export-onnx', DEMO, '--out', f('x.onnx'), '--mask-ratio', 'half'], code: 2, names: '--mask-ratio' },
      { name: 'model export-onnx: mask ratio 1', args: ['model', 'export-onnx', DEMO, '--out', f('x.onnx'), '--mask-ratio', '1'], code: 2, names: '--mask-ratio' },
      { name: 'model list: unknown flag', args: ['model', 'list', '--bogus'], code: 2, names: '--bogus' }
    ])
    expect(failures).toEqual([])
  })

  it('dataset', async () => {
    const failures = await runCases('cli-args', [
      { name: 'dataset: no action', args: ['dataset'], code: 2, names: 'name an action' },
      { name: 'dataset: unknown action', args: ['dataset', 'frob'], code: 2, names: "'frob'" },
      { name: 'dataset list: unknown dataset', args: ['dataset', 'list', 'nosuch'], code: 1, names: '"nosuch"' },
      { name: 'dataset list: unknown flag', args: ['dataset', 'list', '--bogus'], code: 2, names: '--bogus' },
      { name: 'dataset import: nothing', args: ['dataset', 'import'], code: 2, names: 'dataset name' },
      { name: 'dataset import: no path', args: ['dataset', 'import', 'd'], code: 2, names: 'at least one path' },
      { name: 'dataset import: nonexistent path', args: ['dataset', 'import', 'newset', f('no-such.png')], code: 1, names: /not found: .*no-such\.png/ },
      { name: 'dataset import: newline in the path', args: ['dataset', 'import', 'newset', f('a\nb.png')], code: 1, names: 'a\\nb.png' },
      { name: 'dataset import: ANSI dataset name', args: ['dataset', 'import', `${ESC}[31mred`, f('crater.png')], code: 2, names: /<dataset>: must not contain control characters/ },
      { name: 'dataset import: empty dataset name', args: ['dataset', 'import', ' ', f('crater.png')], code: 2, names: '<dataset>' },
      { name: 'dataset import: unknown format', args: ['dataset', 'import', 'newset', f('folder'), '--format', 'bogus'], code: 2, names: '--format' },
      { name: 'dataset import: missing --format value', args: ['dataset', 'import', 'newset', f('folder'), '--format'], code: 2, names: '--format' },
      { name: 'dataset import: unknown --classes', args: ['dataset', 'import', 'newset', f('folder'), '--format', 'yolo', '--classes', 'everything'], code: 2, names: '--classes' },
      { name: 'dataset import: --classes file that is not JSON', args: ['dataset', 'import', 'newset', f('folder'), '--format', 'yolo', '--classes', f('secret.json')], code: 2, names: /--classes .*secret\.json is not JSON/ },
      { name: 'dataset import: --classes map to an unusable class', args: ['dataset', 'import', 'newset', f('folder'), '--format', 'yolo', '--classes', f('bad-map.json')], code: 2, names: /entry 1: the target is not a usable class name/ },
      { name: 'dataset import: --classes map that does not exist', args: ['dataset', 'import', 'newset', f('folder'), '--format', 'yolo', '--classes', f('no-map.json')], code: 2, names: /--classes: not found: .*no-map\.json/ },
      { name: 'dataset import: --drop without a format', args: ['dataset', 'import', 'newset', f('crater.png'), '--drop', 'edge'], code: 2, names: '--classes and --drop apply to an annotation format' },
      { name: 'dataset classes: no path', args: ['dataset', 'classes'], code: 2, names: 'path of an annotation source' },
      { name: 'dataset classes: no format', args: ['dataset', 'classes', f('folder')], code: 2, names: '--format' },
      { name: 'dataset adjudicate: no tiles', args: ['dataset', 'adjudicate', 'd', '--class', 'crater'], code: 2, names: 'tile ids' },
      { name: 'dataset adjudicate: bad tile id', args: ['dataset', 'adjudicate', 'd', '1.5', '--class', 'crater'], code: 2, names: 'tile ids are positive integers' },
      { name: 'dataset adjudicate: unknown class', args: ['dataset', 'adjudicate', 'd', '1', '--class', 'dune'], code: 1, names: '"dune" is not a class' },
      { name: 'dataset policy: unknown policy', args: ['dataset', 'policy', 'd', 'majority'], code: 2, names: '<policy>' },
      { name: 'dataset import: two paths with a format', args: ['dataset', 'import', 'newset', f('folder'), f('crater.png'), '--format', 'yolo'], code: 2, names: '--format' },
      { name: 'dataset import: empty annotator', args: ['dataset', 'import', 'd', f('folder'), '--format', 'yolo', '--annotator', ' '], code: 2, names: '--annotator' },
      { name: 'dataset import: landmarks on a folder', args: ['dataset', 'import', 'd', f('folder'), '--format', 'landmarks'], code: 1, names: 'is a folder' },
      { name: 'dataset import: landmarks on a text file', args: ['dataset', 'import', 'd', f('secret.txt'), '--format', 'landmarks'], code: 1, names: /secret\.txt: line 1/ },
      { name: 'dataset import: imagefolder on a file', args: ['dataset', 'import', 'd', f('crater.png'), '--format', 'imagefolder'], code: 1, names: 'needs a folder' },
      { name: 'dataset tile: no --size', args: ['dataset', 'tile', 'd'], code: 2, names: '--size' },
      { name: 'dataset tile: missing --size value', args: ['dataset', 'tile', 'd', '--size'], code: 2, names: '--size' },
      { name: 'dataset tile: non-numeric size', args: ['dataset', 'tile', 'd', '--size', 'big'], code: 2, names: '--size' },
      { name: 'dataset tile: size too small', args: ['dataset', 'tile', 'd', '--size', '4'], code: 2, names: '--size' },
      { name: 'dataset tile: absurd size', args: ['dataset', 'tile', 'd', '--size', '1e300'], code: 2, names: '--size' },
      { name: 'dataset tile: negative stride', args: ['dataset', 'tile', 'd', '--size', '16', '--stride', '-1'], code: 2, names: '--stride' },
      { name: 'dataset tile: unknown edge', args: ['dataset', 'tile', 'd', '--size', '16', '--edge', 'wrap'], code: 2, names: '--edge' },
      { name: 'dataset tile: unknown dataset', args: ['dataset', 'tile', 'nosuch', '--size', '16'], code: 1, names: '"nosuch"' },
      { name: 'dataset split: non-numeric seed', args: ['dataset', 'split', 'd', '--seed', 'abc'], code: 2, names: '--seed' },
      { name: 'dataset split: negative seed', args: ['dataset', 'split', 'd', '--seed', '-1'], code: 2, names: '--seed' },
      { name: 'dataset split: fractional seed', args: ['dataset', 'split', 'd', '--seed', '1.5'], code: 2, names: '--seed' },
      { name: 'dataset split: ratio above 1', args: ['dataset', 'split', 'd', '--train', '2'], code: 2, names: '--train' },
      { name: 'dataset split: non-numeric ratio', args: ['dataset', 'split', 'd', '--valid', 'NaN'], code: 2, names: '--valid' },
      { name: 'dataset split: Infinity ratio', args: ['dataset', 'split', 'd', '--test', 'Infinity'], code: 2, names: '--test' },
      { name: 'dataset freeze: no dataset', args: ['dataset', 'freeze'], code: 2, names: 'name the dataset' },
      { name: 'dataset freeze: unknown dataset', args: ['dataset', 'freeze', 'nosuch'], code: 1, names: '"nosuch"' },
      { name: 'dataset export: no folder', args: ['dataset', 'export', 'd'], code: 2, names: 'output folder' },
      { name: 'dataset export: no format', args: ['dataset', 'export', 'd', f('out')], code: 2, names: '--format' },
      { name: 'dataset export: unknown format', args: ['dataset', 'export', 'd', f('out'), '--format', 'bogus'], code: 2, names: '--format' },
      { name: 'dataset export: unknown mask', args: ['dataset', 'export', 'd', f('out'), '--format', 'mmseg', '--mask', 'dotted'], code: 2, names: '--mask' },
      { name: 'dataset export: zero mask width', args: ['dataset', 'export', 'd', f('out'), '--format', 'mmseg', '--mask-width', '0'], code: 2, names: '--mask-width' },
      { name: 'dataset export: non-numeric version', args: ['dataset', 'export', 'd', f('out'), '--format', 'coco', '--version', 'latest'], code: 2, names: '--version' },
      { name: 'dataset export: folder under /proc', args: ['dataset', 'export', 'd', '/proc/marsfm-hostile/out', '--format', 'coco'], code: 1, names: '/proc/marsfm-hostile' },
      { name: 'dataset export: a file as the folder', args: ['dataset', 'export', 'd', f('crater.png'), '--format', 'imagefolder'], code: 1, names: 'crater.png' },
      { name: 'dataset export: missing version', args: ['dataset', 'export', 'd', f('out'), '--format', 'coco', '--version', '99'], code: 1, names: 'no version 99' }
    ])
    expect(failures).toEqual([])
  })

  it('reconstruct', async () => {
    const png = f('crater.png')
    const failures = await runCases('cli-args', [
      { name: 'reconstruct: unknown flag', args: ['reconstruct', '--bogus'], code: 2, names: '--bogus' },
      { name: 'reconstruct: no images', args: ['reconstruct'], code: 2, names: '--images' },
      { name: 'reconstruct: nonexistent image', args: ['reconstruct', '--images', f('no-such.png')], code: 1, names: 'no-such.png' },
      { name: 'reconstruct: nonexistent checkpoint', args: ['reconstruct', '--checkpoint', f('no-such.pt'), '--images', png], code: 1, names: 'no-such.pt' },
      { name: 'reconstruct: non-numeric mask ratio', args: ['reconstruct', '--images', png, '--mask-ratio', 'lots'], code: 2, names: '--mask-ratio' },
      { name: 'reconstruct: mask ratio out of range', args: ['reconstruct', '--images', png, '--mask-ratio', '0.999'], code: 2, names: '--mask-ratio' },
      { name: 'reconstruct: unknown geometry', args: ['reconstruct', '--images', png, '--geometry', 'warp'], code: 2, names: '--geometry' },
      { name: 'reconstruct: unknown backend', args: ['reconstruct', '--images', png, '--backend', 'cuda'], code: 2, names: '--backend' },
      { name: 'reconstruct: zero batch', args: ['reconstruct', '--images', png, '--batch', '0'], code: 2, names: '--batch' },
      { name: 'reconstruct: non-numeric seed', args: ['reconstruct', '--images', png, '--seed', 'x'], code: 2, names: '--seed' },
      { name: 'reconstruct: negative max tiles', args: ['reconstruct', '--images', png, '--max-tiles', '-3'], code: 2, names: '--max-tiles' },
      { name: 'reconstruct: seed and noise', args: ['reconstruct', '--images', png, '--seed', '1', '--mask-noise', f('noise.json')], code: 2, names: '--mask-noise' },
      { name: 'reconstruct: noise file is a folder', args: ['reconstruct', '--images', png, '--mask-noise', f('folder')], code: 2, names: '--mask-noise' },
      { name: 'reconstruct: noise file is not JSON', args: ['reconstruct', '--images', png, '--mask-noise', f('secret.json')], code: 2, names: /--mask-noise: .*secret\.json is not valid JSON/ },
      { name: 'reconstruct: noise of the wrong shape', args: ['reconstruct', '--images', png, '--mask-noise', f('noise.json')], code: 2, names: '--mask-noise' },
      { name: 'reconstruct: nonexistent noise file', args: ['reconstruct', '--images', png, '--mask-noise', f('no-such.json')], code: 2, names: /--mask-noise: cannot read .*no-such\.json/ }
    ])
    expect(failures).toEqual([])
  })

  it('train and pretrain', async () => {
    const failures = await runCases('cli-args', [
      { name: 'train: nothing', args: ['train'], code: 2, names: '--config' },
      { name: 'train: unknown flag', args: ['train', '--bogus'], code: 2, names: '--bogus' },
      { name: 'train: missing --config value', args: ['train', '--config'], code: 2, names: '--config' },
      { name: 'train: nonexistent config', args: ['train', '--config', f('no-such.json')], code: 2, names: /--config: cannot read .*no-such\.json/ },
      { name: 'train: config is a folder', args: ['train', '--config', f('folder')], code: 2, names: /--config: cannot read .*folder/ },
      { name: 'train: config is not JSON', args: ['train', '--config', f('secret.json')], code: 2, names: /--config: .*secret\.json is not valid JSON/ },
      { name: 'train: config with bad fields', args: ['train', '--config', f('bad-run.json')], code: 2, names: /invalid run config: .*steps/ },
      { name: 'train: config with an ANSI name', args: ['train', '--config', f('ansi-run.json')], code: 2, names: /name: must not contain control characters/ },
      { name: 'train: non-numeric resume', args: ['train', '--resume', 'last'], code: 2, names: '--resume' },
      { name: 'train: negative resume', args: ['train', '--resume', '-1'], code: 2, names: '--resume' },
      { name: 'train: resume with a config', args: ['train', '--resume', '1', '--config', f('bad-run.json')], code: 2, names: '--resume' },
      { name: 'train: non-numeric log-every', args: ['train', '--config', f('bad-run.json'), '--log-every', 'often'], code: 2, names: '--log-every' },
      { name: 'train: non-numeric delete', args: ['train', '--delete', 'all'], code: 2, names: '--delete' },
      { name: 'train: delete with a config', args: ['train', '--delete', '1', '--config', f('bad-run.json')], code: 2, names: '--delete' },
      { name: 'train: delete a missing run', args: ['train', '--delete', '999'], code: 1, names: '999' },
      { name: 'train: non-numeric freeze-blocks', args: ['train', '--config', f('bad-run.json'), '--freeze-blocks', 'half'], code: 2, names: '--freeze-blocks' },
      { name: 'train: negative freeze-blocks', args: ['train', '--config', f('bad-run.json'), '--freeze-blocks=-2'], code: 2, names: '--freeze-blocks' },
      { name: 'train: fractional freeze-blocks', args: ['train', '--config', f('bad-run.json'), '--freeze-blocks', '1.5'], code: 2, names: '--freeze-blocks' },
      { name: 'train: freeze-blocks on a resume', args: ['train', '--resume', '1', '--freeze-blocks', '2'], code: 2, names: '--freeze-blocks' },
      { name: 'pretrain: no data', args: ['pretrain'], code: 2, names: '--data' },
      { name: 'pretrain: unknown flag', args: ['pretrain', '--data', files.dir, '--bogus'], code: 2, names: '--bogus' },
      { name: 'pretrain: non-numeric steps', args: ['pretrain', '--data', files.dir, '--steps', 'many'], code: 2, names: '--steps' },
      { name: 'pretrain: non-numeric lr', args: ['pretrain', '--data', files.dir, '--lr', 'fast'], code: 2, names: '--lr' },
      { name: 'pretrain: frozen random encoder', args: ['pretrain', '--data', files.dir, '--freeze-encoder'], code: 2, names: '--freeze-encoder' },
      { name: 'pretrain: unknown tile norm', args: ['pretrain', '--data', files.dir, '--tile-norm', 'max'], code: 2, names: '--tile-norm' },
      { name: 'pretrain: non-numeric export run', args: ['pretrain', '--export-run', 'last', '--out', f('m.safetensors')], code: 2, names: '--export-run' },
      { name: 'pretrain: export run without --out', args: ['pretrain', '--export-run', '1'], code: 2, names: '--out' }
    ])
    expect(failures).toEqual([])
  })

  it('infer', async () => {
    const png = f('crater.png')
    const failures = await runCases('cli-args', [
      { name: 'infer: nothing', args: ['infer'], code: 2, names: '--run' },
      { name: 'infer: unknown flag', args: ['infer', '--run', '1', '--images', png, '--bogus'], code: 2, names: '--bogus' },
      { name: 'infer: non-numeric run', args: ['infer', '--run', 'best', '--images', png], code: 2, names: '--run' },
      { name: 'infer: zero run', args: ['infer', '--run', '0', '--images', png], code: 2, names: '--run' },
      { name: 'infer: no images', args: ['infer', '--run', '1'], code: 2, names: '--images' },
      { name: 'infer: unknown checkpoint', args: ['infer', '--run', '1', '--images', png, '--checkpoint', 'newest'], code: 2, names: '--checkpoint' },
      { name: 'infer: non-numeric threshold', args: ['infer', '--run', '1', '--images', png, '--threshold', 'high'], code: 2, names: '--threshold' },
      { name: 'infer: threshold above 1', args: ['infer', '--run', '1', '--images', png, '--threshold', '2'], code: 2, names: '--threshold' },
      { name: 'infer: unknown backend', args: ['infer', '--run', '1', '--images', png, '--backend', 'gpu'], code: 2, names: '--backend' },
      { name: 'infer: zero batch', args: ['infer', '--run', '1', '--images', png, '--batch', '0'], code: 2, names: '--batch' },
      { name: 'infer: non-numeric rows', args: ['infer', '--run', '1', '--images', png, '--rows', 'all'], code: 2, names: '--rows' },
      { name: 'infer: nonexistent image', args: ['infer', '--run', '1', '--images', f('no-such.png')], code: 1, names: 'no-such.png' },
      { name: 'infer: missing run', args: ['infer', '--run', '999', '--images', png], code: 1, names: '999' },
      { name: 'infer: heat map and images', args: ['infer', '--run', '1', '--heatmap', png, '--images', png], code: 2, names: '--heatmap' },
      { name: 'infer: window without a heat map', args: ['infer', '--run', '1', '--images', png, '--window', '64'], code: 2, names: '--window' },
      { name: 'infer: zero window', args: ['infer', '--run', '1', '--heatmap', png, '--window', '0'], code: 2, names: '--window' },
      { name: 'infer: non-numeric stride', args: ['infer', '--run', '1', '--heatmap', png, '--stride', 'half'], code: 2, names: '--stride' },
      { name: 'infer: stride past the window', args: ['infer', '--run', '1', '--heatmap', png, '--window', '64', '--stride', '65'], code: 2, names: '--stride' },
      { name: 'infer: opacity above 1', args: ['infer', '--run', '1', '--heatmap', png, '--opacity', '2'], code: 2, names: '--opacity' },
      { name: 'infer: nonexistent heat-map image', args: ['infer', '--run', '1', '--heatmap', f('no-such.png')], code: 1, names: 'no-such.png' },
      { name: 'infer: heat map of a folder', args: ['infer', '--run', '1', '--heatmap', files.dir], code: 1, names: '--heatmap' }
    ])
    expect(failures).toEqual([])
  })
})

describe('user text printed by the CLI', () => {
  // Rows written by an older version or another tool may hold anything: tables escape it.
  it('model list and dataset list escape control characters in names', async () => {
    const own = tempHome('marsfm-hostile-cli-names-')
    try {
      expect((await marsfm(own.dir, ['dataset', 'import', 'plain', f('crater.png')])).code).toBe(0)
      const db = new Database(join(own.dir, 'ledger.sqlite'))
      db.prepare('UPDATE models SET name = ?').run(`${ESC}[2J${ESC}[31mevil\nmodel`)
      db.prepare('UPDATE datasets SET name = ?').run(`${ESC}]0;title\u0007ds\nfake row`)
      const modelRows = (db.prepare('SELECT COUNT(*) AS n FROM models').get() as { n: number }).n // the shipped demo models
      db.close()
      const models = await marsfm(own.dir, ['model', 'list'])
      const datasets = await marsfm(own.dir, ['dataset', 'list'])
      for (const [name, r] of [['model list', models], ['dataset list', datasets]] as const) {
        const raw = r.out.includes(ESC) || r.out.includes('\u0007')
        record('cli-output', `${name} with control characters in a name`, raw ? 'content-echo' : 'handled')
        expect(r.code).toBe(0)
        expect(r.out, `${name} printed a raw control character`).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
      }
      expect(models.out).toContain('\\u001b[2J\\u001b[31mevil\\nmodel')
      expect(models.out.trim().split('\n')).toHaveLength(modelRows) // the newline did not make another row
      expect(datasets.out).toContain('\\u001b]0;title\\u0007ds\\nfake row')
      // --json stays valid JSON and keeps the name exactly.
      const json = await marsfm(own.dir, ['model', 'list', '--json'])
      expect(JSON.parse(json.out)[0].name).toBe(`${ESC}[2J${ESC}[31mevil\nmodel`)
    } finally {
      own.remove()
    }
  })
})

describe('a reader that goes away', () => {
  it('exits quietly when stdout is closed before the output is written (marsfm info | head)', async () => {
    const child = spawn(process.execPath, [CLI_ENTRY, 'info'], { env: { ...process.env, MARSFM_HOME: home.dir }, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.destroy() // the pipe's reader is gone before the CLI writes
    let err = ''
    child.stderr.on('data', (d) => (err += String(d)))
    const code = await new Promise<number | null>((done) => child.on('close', done))
    record('cli-output', 'stdout closed early', /EPIPE|Unhandled/.test(err) ? 'crash' : 'handled')
    expect(err).not.toMatch(/EPIPE|Unhandled 'error' event/)
    expect(code).toBe(0)
  })
})

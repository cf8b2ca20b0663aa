// Optional: the python `onnx` checker (full check, with shape inference) accepts the exported tiny
// graphs. Skipped where /usr/bin/python3 cannot import onnx; the product itself never needs Python.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { exportOnnxFile } from '@engine/onnx/export-file'
import type { PrithviGraph } from '@engine/onnx/export-prithvi'
import { loadReference } from './reference'
import { loadCheckpoint } from '@engine/checkpoint'

const PYTHON = '/usr/bin/python3'
const probe = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' })
const skipReason = probe.error ? `${PYTHON} not runnable: ${probe.error.message}` : probe.status !== 0 ? `python onnx not importable: ${probe.stderr.trim()}` : ''

const CHECK = `
import sys, onnx
from onnx import shape_inference
for path in sys.argv[1:]:
    onnx.checker.check_model(path, full_check=True)
    m = shape_inference.infer_shapes(onnx.load(path), strict_mode=True)
    print(path, m.opset_import[0].version, [o.name for o in m.graph.output])
`

describe.skipIf(skipReason !== '')(`python onnx.checker ${skipReason ? `(skipped: ${skipReason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'marsfm-onnx-check-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('accepts the mae, encoder and classifier exports of every reference config', () => {
    const paths: string[] = []
    for (const ref of loadReference()) {
      for (const graph of ['mae', 'encoder', 'classifier'] as PrithviGraph[]) {
        const path = join(dir, `${ref.name}-${graph}.onnx`)
        exportOnnxFile(ref.config, ref.weights, graph, path, { maskRatio: 0.75 })
        paths.push(path)
      }
    }
    const res = spawnSync(PYTHON, ['-c', CHECK, ...paths], { encoding: 'utf8' })
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
    expect(res.stdout.trim().split('\n')).toHaveLength(paths.length)
  })

  it('accepts the MAE family\'s graphs, whose pixels are [N, C, H, W]', async () => {
    const fixture = (name: string) => new URL(`../../fixtures/mae/${name}`, import.meta.url).pathname
    const loaded = await loadCheckpoint(fixture('tiny_mae.pth'), { configPath: fixture('tiny_mae.json') })
    const paths = (['mae', 'encoder'] as PrithviGraph[]).map((graph) => {
      const path = join(dir, `tiny-mae-${graph}.onnx`)
      exportOnnxFile(loaded.config, loaded.weights, graph, path, { maskRatio: 0.75 })
      return path
    })
    const res = spawnSync(PYTHON, ['-c', CHECK, ...paths], { encoding: 'utf8' })
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
    expect(res.stdout.trim().split('\n')).toHaveLength(paths.length)
  })
})

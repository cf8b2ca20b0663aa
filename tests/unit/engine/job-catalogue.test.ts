// Every job kind the engine registers has params, events and result schemas in the catalogue,
// and the boundary parsers refuse what does not fit with typed errors.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENGINE_JOB_KINDS, EngineJobs } from '@shared/engine/jobs'
import { parseEngineJobEvent, parseEngineJobParams, parseEngineJobResult } from '@shared/engine/parse'
import { EngineJobOutputError, EngineJobParamsError, UnknownEngineJobError } from '@shared/engine/errors'

const ENGINE = resolve(__dirname, '..', '..', '..', 'src', 'engine')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

describe('engine job catalogue', () => {
  it('has exactly the kinds the engine registers', () => {
    const registered = sources(ENGINE).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/registerJob\('([^']+)'/g)].map((m) => m[1]!))
    expect(registered.sort()).toEqual([...ENGINE_JOB_KINDS].sort())
    expect(ENGINE_JOB_KINDS).toHaveLength(11)
  })

  it('params are parsed with defaults filled in', () => {
    expect(parseEngineJobParams('demo', { steps: 2, stepMs: 0 })).toEqual({ steps: 2, stepMs: 0, matrixSize: 64 })
    expect(parseEngineJobParams('train-bench', {})).toMatchObject({ preset: 'prithvi-100m', batchSize: 4, task: 'classification' })
  })

  it('an unknown kind and bad params get typed errors naming the kind and the fields', () => {
    expect(() => parseEngineJobParams('__proto__', {})).toThrow(UnknownEngineJobError)
    let err: unknown
    try {
      parseEngineJobParams('model-export-onnx', { path: '/m.pt', graph: 'decoder', outPath: 7 })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(EngineJobParamsError)
    const e = err as EngineJobParamsError
    expect(e.kind).toBe('model-export-onnx')
    expect(e.code).toBe('ENGINE_JOB_PARAMS')
    expect(e.issues.map((i) => i.path).sort()).toEqual(['graph', 'outPath'])
    expect(e.message).toMatch(/^invalid params for engine job "model-export-onnx":\n(graph|outPath): /)
  })

  it('events are a union by name; an unknown name or a bad payload is refused', () => {
    const e = parseEngineJobEvent('train', 'checkpoint', { step: 4, kind: 'best', path: '/c.safetensors', metricName: 'val/auc', metricValue: 0.9 })
    expect(e.event).toBe('checkpoint')
    expect(() => parseEngineJobEvent('train', 'hasOwnProperty', {})).toThrow(EngineJobOutputError)
    expect(() => parseEngineJobEvent('train', 'checkpoint', { step: 4, kind: 'someday' })).toThrow(/event "checkpoint"[\s\S]*kind/)
    expect(Object.keys(EngineJobs['model-inspect'].events)).toEqual([])
  })

  it('results are parsed with the kind schema', () => {
    expect(parseEngineJobResult('train', { status: 'paused', step: 3, best: null, lastCheckpoint: '/l.safetensors' }).status).toBe('paused')
    expect(() => parseEngineJobResult('train', { status: 'finished', step: 3 })).toThrow(/result of job "train"/)
  })
})

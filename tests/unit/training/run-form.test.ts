// The Training view's form as data: a preset fills it, Start says why it cannot start, and the
// config it builds is the preset's run (accepted by runs:start's own schema) with the user's choices.
import { describe, expect, it } from 'vitest'
import { RUN_PRESETS, type RunPreset } from '@shared/training/presets'
import { defaultRunName, emptyRunForm, estimateConfigOf, presetFields, runConfigOf, startBlocker, type RunForm } from '@shared/training/run-form'
import { RunStartRequest } from '@shared/ipc/schemas/runs'

const preset = (id: string): RunPreset => RUN_PRESETS.find((p) => p.id === id)!
function formOf(id: string, choices: Partial<RunForm> = {}): RunForm {
  return { ...emptyRunForm(), ...presetFields(preset(id)), modelId: 3, dataPath: ' /data/craters ', ...choices }
}

describe('run form', () => {
  it.each(RUN_PRESETS.map((p) => p.id))('preset %s builds its own run, which runs:start accepts', (id) => {
    const p = preset(id)
    const config = runConfigOf(formOf(id), 'fallback')
    expect(RunStartRequest.safeParse({ config }).success).toBe(true)
    const c = p.config
    expect(config).toMatchObject({
      task: c.task,
      steps: c.steps,
      batchSize: c.batchSize,
      seed: c.seed,
      maskRatio: c.maskRatio,
      dropout: c.dropout,
      optimizer: c.optimizer,
      schedule: c.schedule,
      eval: c.eval,
      checkpoint: c.checkpoint,
      preprocessing: c.preprocessing,
      ...(c.imgSize ? { imgSize: c.imgSize } : {}),
      ...(c.classWeights ? { classWeights: c.classWeights } : {})
    })
    expect(config.imgSize).toBe(c.imgSize)
    if (c.task === 'classification') expect(config).toMatchObject({ augment: c.augment ?? false, pool: c.pool ?? 'cls', headInit: c.headInit ?? 'uniform' })
    if (c.segmentation) {
      const { loss, classWeights, resize, flip, auxHead } = c.segmentation
      expect(config.segmentation).toEqual({ numClasses: 2, loss, classWeights, resize, flip, auxHead })
    } else expect(config.segmentation).toBeUndefined()
  })

  it("keeps the user's name, model, data and positive class, and names an unnamed run", () => {
    const config = runConfigOf(formOf('study-classification', { name: '  lr sweep 1 ', positiveClass: ' Crater ' }), 'unused')
    expect(config).toMatchObject({ name: 'lr sweep 1', model: { id: 3 }, data: { kind: 'folder', path: '/data/craters', layout: 'imagefolder' }, positiveClass: 'Crater' })
    expect(runConfigOf(formOf('study-classification'), 'fallback').name).toBe('fallback')
    expect(runConfigOf(formOf('study-classification'), 'fallback').positiveClass).toBeUndefined()
    expect(defaultRunName(preset('study-segmentation'), '10:42:00')).toBe('segmentation 10:42:00')
    const version = runConfigOf(formOf('study-classification', { dataSource: 'version', versionId: 9 }), 'x')
    expect(version.data).toEqual({ kind: 'dataset-version', id: 9 })
  })

  it('a preset sets the task, layout and best metric but not what the user chose', () => {
    const seg = presetFields(preset('study-segmentation'))
    expect(seg).toMatchObject({ task: 'segmentation', layout: 'mmseg', bestMetric: 'val/miou', classWeights: '0.2, 0.8' })
    for (const key of ['name', 'modelId', 'dataSource', 'versionId', 'dataPath', 'positiveClass'] as const) expect(seg).not.toHaveProperty(key)
    // A classification preset leaves the segmentation fields as they were.
    expect(presetFields(preset('demo-classification'))).not.toHaveProperty('segLoss')
    expect(presetFields(preset('demo-classification'))).toMatchObject({ tileNorm: 'standardize', imgSize: 128, balanced: true, tta: true, evalEvery: 200 })
  })

  it('form quirks: empty numbers are unset, masking is classification-only, the model tile norm is left to the model', () => {
    const config = runConfigOf(formOf('study-classification', { imgSize: '', gradClip: '', tileNorm: 'model' }), 'x')
    expect(config).not.toHaveProperty('imgSize')
    expect(config.gradClip).toBeNull()
    expect(config.preprocessing).toEqual({ recipe: 'postnorm-dup', truncate: true })
    expect(runConfigOf(formOf('study-classification', { gradClip: '1.5', imgSize: '224' }), 'x')).toMatchObject({ gradClip: 1.5, imgSize: 224 })
    expect(runConfigOf(formOf('study-segmentation', { maskRatio: 0.5 }), 'x').maskRatio).toBe(0)
    expect(runConfigOf(formOf('study-classification', { headInit: 'near-zero' }), 'x').headInit).toBe('near-zero')
    expect(runConfigOf(formOf('study-classification', { headInit: 'linear-probe' }), 'x').headInit).toBe('linear-probe')
    expect(runConfigOf(formOf('study-segmentation', { headInit: 'near-zero' }), 'x')).not.toHaveProperty('headInit')
    expect(runConfigOf(formOf('study-classification', { tta: true }), 'x').tta).toBe('dihedral')
    expect(runConfigOf(formOf('study-classification', {}), 'x').tta).toBe('none')
    expect(runConfigOf(formOf('study-segmentation', { tta: true }), 'x')).not.toHaveProperty('tta')
    expect(runConfigOf(formOf('study-classification', { bestMetric: 'val/loss' }), 'x').checkpoint).toEqual({ everySteps: 0, bestMetric: 'val/loss', mode: 'min' })
    expect(runConfigOf(formOf('study-segmentation', { classWeights: ' , ' }), 'x').segmentation).not.toHaveProperty('classWeights')
  })

  it('says why Start is disabled', () => {
    expect(startBlocker(formOf('study-classification', { modelId: null }), 0)).toBe('No model yet: import one in the Models view.')
    expect(startBlocker(formOf('study-classification', { modelId: null }), 2)).toBe('Choose a model.')
    expect(startBlocker(formOf('study-classification', { dataPath: '  ' }), 1)).toBe('Enter a dataset folder.')
    expect(startBlocker(formOf('study-classification', { dataSource: 'version' }), 1)).toBe('Choose a dataset version.')
    expect(startBlocker(formOf('study-classification', { steps: 0 }), 1)).toBe('Steps must be at least 1.')
    expect(startBlocker(formOf('study-classification', { batchSize: 0 }), 1)).toBe('Batch must be at least 1.')
    expect(startBlocker(formOf('study-classification', { lr: 0 }), 1)).toBe('The learning rate must be above 0.')
    expect(startBlocker(formOf('study-classification'), 1)).toBeNull()
  })

  it('frozen blocks (partial fine-tuning): classification only, 0 leaves the config without them, and Start says why a bad K cannot run', () => {
    expect(runConfigOf(formOf('study-classification'), 'x')).not.toHaveProperty('freezeBlocks')
    const config = runConfigOf(formOf('study-classification', { freezeBlocks: 6 }), 'x')
    expect(config.freezeBlocks).toBe(6)
    expect(RunStartRequest.safeParse({ config }).success).toBe(true)
    expect(runConfigOf(formOf('study-segmentation', { freezeBlocks: 6 }), 'x')).not.toHaveProperty('freezeBlocks')
    expect(startBlocker(formOf('study-classification', { freezeBlocks: 1.5 }), 1)).toBe('Frozen blocks must be a whole number, 0 or more.')
    expect(startBlocker(formOf('study-classification', { freezeBlocks: -1 }), 1)).toBe('Frozen blocks must be a whole number, 0 or more.')
    expect(startBlocker(formOf('study-classification', { freezeBlocks: 2, freezeBackbone: true }), 1)).toBe('Freeze backbone and frozen blocks go one at a time.')
    expect(startBlocker(formOf('study-classification', { freezeBlocks: 12 }), 1)).toBeNull()
  })

  it('the memory estimate is asked before any data is chosen', () => {
    const config = estimateConfigOf(formOf('study-segmentation', { dataPath: '' }))
    expect(config.data).toEqual({ kind: 'folder', path: '/', layout: 'mmseg' })
    expect(RunStartRequest.safeParse({ config }).success).toBe(true)
  })
})

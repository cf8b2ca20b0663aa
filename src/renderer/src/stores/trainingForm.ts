// The Training view's "New run" form, kept in a store so it survives navigating away and back (a
// component's local state would reset to the preset each time).
import { defineStore } from 'pinia'
import { reactive, ref, watch } from 'vue'
import { RUN_PRESETS } from '@shared/training/presets'

export type BestMetric = 'val/balanced_accuracy' | 'val/auc' | 'val/f1' | 'val/loss' | 'val/miou'

export const useTrainingFormStore = defineStore('trainingForm', () => {
  const presetId = ref(RUN_PRESETS[0]!.id)
  const form = reactive({
    name: '',
    modelId: null as number | null,
    dataSource: 'folder' as 'folder' | 'version',
    versionId: null as number | null,
    dataPath: '',
    layout: 'imagefolder' as 'imagefolder' | 'mmseg',
    imgSize: '' as string | number,
    positiveClass: '',
    task: 'classification' as 'classification' | 'segmentation',
    steps: 2000,
    batchSize: 4,
    seed: 0,
    lr: 8.2e-6,
    optimizer: 'adam' as 'adam' | 'adamw',
    weightDecay: 0,
    schedule: 'linear' as 'constant' | 'linear' | 'cosine' | 'poly',
    warmupSteps: 2000,
    maskRatio: 0.375,
    dropout: 0.5,
    freezeBackbone: false,
    gradClip: '' as string | number,
    evalEvery: 100,
    bestMetric: 'val/balanced_accuracy' as string,
    recipe: 'postnorm-dup' as 'means' | 'prenorm-dup' | 'postnorm-dup' | 'luminance-dup' | 'zero-reflectance',
    tileNorm: 'model' as 'model' | 'none' | 'standardize',
    augment: false,
    pool: 'cls' as 'cls' | 'mean',
    balanced: false,
    segLoss: 'ce' as 'ce' | 'dice' | 'ce+dice',
    classWeights: '0.2, 0.8',
    resize: 512,
    flip: true,
    auxHead: false
  })

  function applyPreset(id: string) {
    const p = RUN_PRESETS.find((x) => x.id === id)
    if (!p) return
    const c = p.config
    form.task = c.task === 'segmentation' ? 'segmentation' : 'classification'
    form.layout = form.task === 'segmentation' ? 'mmseg' : 'imagefolder'
    form.steps = c.steps
    form.imgSize = c.imgSize ?? ''
    form.batchSize = c.batchSize ?? 4
    form.seed = c.seed ?? 0
    form.lr = c.optimizer.lr
    form.optimizer = c.optimizer.name ?? 'adam'
    form.weightDecay = c.optimizer.weightDecay ?? 0
    form.schedule = c.schedule?.name ?? 'linear'
    form.warmupSteps = c.schedule?.warmupSteps ?? 0
    form.maskRatio = c.maskRatio ?? 0
    form.dropout = c.dropout ?? 0
    form.evalEvery = c.eval?.everySteps ?? 100
    form.bestMetric = c.checkpoint?.bestMetric ?? (form.task === 'segmentation' ? 'val/miou' : 'val/balanced_accuracy')
    form.recipe = c.preprocessing?.recipe ?? 'postnorm-dup'
    form.tileNorm = c.preprocessing?.tileNorm ?? 'model'
    form.augment = c.augment ?? false
    form.pool = c.pool ?? 'cls'
    form.balanced = c.classWeights === 'balanced'
    const seg = c.segmentation
    if (seg) {
      form.segLoss = seg.loss ?? 'ce'
      form.classWeights = (seg.classWeights ?? []).join(', ')
      form.resize = seg.resize ?? 512
      form.flip = seg.flip ?? true
    }
  }
  // Once when the store is made, then only when the user picks another preset.
  applyPreset(presetId.value)
  watch(presetId, applyPreset)

  return { presetId, form }
})

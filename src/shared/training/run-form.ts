// The Training view's "New run" form as plain data: its fields, what a preset puts in them, why
// Start is disabled, and the run config the form stands for. Pure, so the desktop app, web mode and
// the tests build exactly the same config from the same form.
import type { RunConfigInput } from '../ipc/schemas/runs'
import type { RunPreset } from './presets'

export interface RunForm {
  name: string
  modelId: number | null
  /** A folder in a training layout, or a frozen dataset version curated in the Datasets view. */
  dataSource: 'folder' | 'version'
  versionId: number | null
  dataPath: string
  layout: 'imagefolder' | 'mmseg'
  /** '' (an empty number input): the model's own size. */
  imgSize: string | number
  positiveClass: string
  task: 'classification' | 'segmentation'
  steps: number
  batchSize: number
  seed: number
  lr: number
  optimizer: 'adam' | 'adamw'
  weightDecay: number
  schedule: 'constant' | 'linear' | 'cosine' | 'poly'
  warmupSteps: number
  maskRatio: number
  dropout: number
  freezeBackbone: boolean
  /** Classification, partial fine-tuning: leading encoder blocks frozen (run in ONNX Runtime); 0 = all train. */
  freezeBlocks: number
  /** '': no clipping. */
  gradClip: string | number
  evalEvery: number
  bestMetric: string
  recipe: 'means' | 'prenorm-dup' | 'postnorm-dup' | 'luminance-dup' | 'zero-reflectance'
  /** 'model': what the backbone was pre-trained with (the config leaves tileNorm unset). */
  tileNorm: 'model' | 'none' | 'standardize'
  augment: boolean
  pool: 'cls' | 'mean'
  /** Classification: the head's starting weights (RunConfig.headInit). */
  headInit: 'uniform' | 'near-zero' | 'linear-probe'
  /** Classification: average the logits of the 8 orientations at evaluation and inference (RunConfig.tta 'dihedral'). */
  tta: boolean
  balanced: boolean
  segLoss: 'ce' | 'dice' | 'ce+dice'
  /** Comma-separated, as typed ("0.2, 0.8"). */
  classWeights: string
  resize: number
  flip: boolean
  auxHead: boolean
}

/** The form before any preset: the study's classification settings, no model or data chosen. */
export function emptyRunForm(): RunForm {
  return {
    name: '',
    modelId: null,
    dataSource: 'folder',
    versionId: null,
    dataPath: '',
    layout: 'imagefolder',
    imgSize: '',
    positiveClass: '',
    task: 'classification',
    steps: 2000,
    batchSize: 4,
    seed: 0,
    lr: 8.2e-6,
    optimizer: 'adam',
    weightDecay: 0,
    schedule: 'linear',
    warmupSteps: 2000,
    maskRatio: 0.375,
    dropout: 0.5,
    freezeBackbone: false,
    freezeBlocks: 0,
    gradClip: '',
    evalEvery: 100,
    bestMetric: 'val/balanced_accuracy',
    recipe: 'postnorm-dup',
    tileNorm: 'model',
    augment: false,
    pool: 'cls',
    headInit: 'uniform',
    tta: false,
    balanced: false,
    segLoss: 'ce',
    classWeights: '0.2, 0.8',
    resize: 512,
    flip: true,
    auxHead: false
  }
}

/**
 * The fields a preset sets. What the user chose about the run itself (name, model, data, positive
 * class) is left out, and so are the segmentation fields of a preset without segmentation.
 */
export function presetFields(preset: RunPreset): Partial<RunForm> {
  const c = preset.config
  const task = c.task === 'segmentation' ? 'segmentation' : 'classification'
  const seg = c.segmentation
  return {
    task,
    layout: task === 'segmentation' ? 'mmseg' : 'imagefolder',
    steps: c.steps,
    imgSize: c.imgSize ?? '',
    batchSize: c.batchSize ?? 4,
    seed: c.seed ?? 0,
    lr: c.optimizer.lr,
    optimizer: c.optimizer.name ?? 'adam',
    weightDecay: c.optimizer.weightDecay ?? 0,
    schedule: c.schedule?.name ?? 'linear',
    warmupSteps: c.schedule?.warmupSteps ?? 0,
    maskRatio: c.maskRatio ?? 0,
    dropout: c.dropout ?? 0,
    evalEvery: c.eval?.everySteps ?? 100,
    bestMetric: c.checkpoint?.bestMetric ?? (task === 'segmentation' ? 'val/miou' : 'val/balanced_accuracy'),
    recipe: c.preprocessing?.recipe ?? 'postnorm-dup',
    tileNorm: c.preprocessing?.tileNorm ?? 'model',
    augment: c.augment ?? false,
    pool: c.pool ?? 'cls',
    headInit: c.headInit ?? 'uniform',
    tta: c.tta === 'dihedral',
    freezeBlocks: c.freezeBlocks ?? 0,
    balanced: c.classWeights === 'balanced',
    ...(seg ? { segLoss: seg.loss ?? 'ce', classWeights: (seg.classWeights ?? []).join(', '), resize: seg.resize ?? 512, flip: seg.flip ?? true } : {})
  }
}

/** Why Start is disabled, in the words shown next to it; null when it is not. */
export function startBlocker(form: RunForm, modelsAvailable: number): string | null {
  if (form.modelId === null) return modelsAvailable ? 'Choose a model.' : 'No model yet: import one in the Models view.'
  const dataChosen = form.dataSource === 'version' ? form.versionId !== null : form.dataPath.trim() !== ''
  if (!dataChosen) return form.dataSource === 'version' ? 'Choose a dataset version.' : 'Enter a dataset folder.'
  if (!(Number(form.steps) >= 1)) return 'Steps must be at least 1.'
  if (!(Number(form.batchSize) >= 1)) return 'Batch must be at least 1.'
  if (!(Number(form.lr) > 0)) return 'The learning rate must be above 0.'
  const k = Number(form.freezeBlocks)
  if (form.task === 'classification' && k !== 0) {
    if (!Number.isInteger(k) || k < 0) return 'Frozen blocks must be a whole number, 0 or more.'
    if (form.freezeBackbone) return 'Freeze backbone and frozen blocks go one at a time.'
  }
  return null
}

/** The run the form stands for; `fallbackName` names it when the Name field is empty. Needs a model. */
export function runConfigOf(form: RunForm, fallbackName: string): RunConfigInput {
  const num = (v: string | number) => (v === '' ? undefined : Number(v))
  const weights = form.classWeights.split(',').map((s) => s.trim()).filter(Boolean).map(Number)
  return {
    name: form.name.trim() || fallbackName,
    task: form.task,
    model: { id: form.modelId! },
    data: form.dataSource === 'version' ? { kind: 'dataset-version', id: form.versionId! } : { kind: 'folder', path: form.dataPath.trim(), layout: form.layout },
    ...(num(form.imgSize) ? { imgSize: num(form.imgSize) } : {}),
    ...(form.positiveClass.trim() ? { positiveClass: form.positiveClass.trim() } : {}),
    steps: Number(form.steps),
    batchSize: Number(form.batchSize),
    seed: Number(form.seed),
    // Token masking is a classification regulariser; segmentation needs every patch.
    maskRatio: form.task === 'classification' ? Number(form.maskRatio) : 0,
    dropout: Number(form.dropout),
    freezeBackbone: form.freezeBackbone,
    ...(form.task === 'classification' && Number(form.freezeBlocks) > 0 ? { freezeBlocks: Number(form.freezeBlocks) } : {}),
    gradClip: num(form.gradClip) ?? null,
    optimizer: { name: form.optimizer, lr: Number(form.lr), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: Number(form.weightDecay) },
    schedule: { name: form.schedule, warmupSteps: Number(form.warmupSteps), power: 1, minLrRatio: 0 },
    eval: { everySteps: Number(form.evalEvery), maxImages: 0 },
    checkpoint: { everySteps: 0, bestMetric: form.bestMetric, mode: form.bestMetric === 'val/loss' ? 'min' : 'max' },
    preprocessing: { recipe: form.recipe, truncate: true, ...(form.tileNorm === 'model' ? {} : { tileNorm: form.tileNorm }) },
    ...(form.task === 'classification' ? { augment: form.augment, pool: form.pool, headInit: form.headInit, tta: form.tta ? ('dihedral' as const) : ('none' as const), ...(form.balanced ? { classWeights: 'balanced' as const } : {}) } : {}),
    ...(form.task === 'segmentation'
      ? { segmentation: { numClasses: 2, loss: form.segLoss, resize: Number(form.resize), flip: form.flip, auxHead: form.auxHead, ...(weights.length ? { classWeights: weights } : {}) } }
      : {})
  }
}

/** The default run name: the preset's title without "Study: ", and the time. */
export function defaultRunName(preset: RunPreset, time: string): string {
  return `${preset.title.replace('Study: ', '')} ${time}`
}

/**
 * The config the memory estimate is asked about: the estimate does not read the data, so it is
 * shown before a folder is chosen (a placeholder folder stands in).
 */
export function estimateConfigOf(form: RunForm): RunConfigInput {
  return { ...runConfigOf(form, 'estimate'), data: { kind: 'folder', path: '/', layout: form.layout } }
}

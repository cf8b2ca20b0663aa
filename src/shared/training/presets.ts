// Run presets with the study's hyper-parameters, for the Training view and the documentation.
import type { RunConfigInput, RunModel } from '../ipc/schemas/runs'

export interface RunPreset {
  id: string
  title: string
  description: string
  /** The model the preset was made for (the Training view and `marsfm train --preset` pick it); else the user's choice. */
  model?: RunModel
  config: Omit<RunConfigInput, 'name' | 'model' | 'data'>
}

export const RUN_PRESETS: RunPreset[] = [
  {
    id: 'study-classification',
    title: 'Study: classification',
    description:
      'Crater vs no-crater as in the study: CLS token -> dropout 0.5 -> linear(1) -> BCE with logits (balanced class weights; best checkpoint by balanced accuracy); Adam lr 8.2e-6 (betas 0.9/0.999), 2,000 warm-up steps of 2,000, batch 4, token masking 0.375 in training.',
    config: {
      task: 'classification',
      steps: 2000,
      batchSize: 4,
      seed: 0,
      maskRatio: 0.375,
      dropout: 0.5,
      freezeBackbone: false,
      gradClip: null,
      optimizer: { name: 'adam', lr: 8.2e-6, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
      schedule: { name: 'linear', warmupSteps: 2000, power: 1, minLrRatio: 0 },
      eval: { everySteps: 100, maxImages: 0 },
      // Balanced class weights (≈1 on balanced data) and the best checkpoint by balanced accuracy:
      // on skewed tiles neither the loss nor the pick then favours the majority class.
      classWeights: 'balanced',
      checkpoint: { everySteps: 0, bestMetric: 'val/balanced_accuracy', mode: 'max' },
      preprocessing: { recipe: 'postnorm-dup', truncate: true }
    }
  },
  {
    id: 'demo-classification',
    title: 'Demo model: crater vs rest',
    model: { demo: 'crater' },
    description:
      'For the small shipped crater encoder on a CPU (it picks that model): tiles standardised per tile (observations are stretched differently), 128 px input, mean-pooled tokens -> dropout 0.5 -> linear(1) -> BCE, the head first fitted as a linear probe on the encoder features of the training tiles (LP-FT); AdamW lr 3e-4 (wd 0.05), 20 warm-up steps then cosine, 200 steps of 16 with flips and rotations, no token masking (it hurts this small model; the study used 0.375 with Prithvi-100M); balanced class weights; one evaluation at the end, each tile scored in its 8 orientations (quarter turns and flips, logits averaged; inference of the run does the same). About 4 minutes on two cores; crater vs rest on landmark tiles split by observation: held-out AUC 0.81-0.88 over ten split seeds (at least 0.85 on seven), 0.73-0.87 with the edge tiles dropped (resources/models/README.md).',
    config: {
      task: 'classification',
      imgSize: 128,
      steps: 200,
      batchSize: 16,
      seed: 7,
      maskRatio: 0,
      dropout: 0.5,
      pool: 'mean',
      headInit: 'linear-probe',
      // Scored in all 8 orientations, once, at the end: +0.01-0.02 held-out AUC at about the old cost (resources/models/README.md).
      tta: 'dihedral',
      augment: true,
      freezeBackbone: false,
      gradClip: null,
      optimizer: { name: 'adamw', lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 },
      schedule: { name: 'cosine', warmupSteps: 20, power: 1, minLrRatio: 0 },
      eval: { everySteps: 200, maxImages: 0 },
      classWeights: 'balanced',
      checkpoint: { everySteps: 0, bestMetric: 'val/balanced_accuracy', mode: 'max' },
      preprocessing: { recipe: 'postnorm-dup', truncate: true, tileNorm: 'standardize' }
    }
  },
  {
    id: 'study-segmentation',
    title: 'Study: segmentation',
    description:
      'Crater masks with the hls-foundation-os recipe: HLS neck + FCN head, CE with class weights 0.2/0.8, AdamW lr 1.5e-5 (wd 0.05), poly decay after 100 warm-up steps, batch 4, random 224 crops of 512 images with flips; sliding-window evaluation (stride 112).',
    config: {
      task: 'segmentation',
      steps: 2000,
      batchSize: 4,
      seed: 0,
      maskRatio: 0,
      dropout: 0,
      freezeBackbone: false,
      gradClip: null,
      optimizer: { name: 'adamw', lr: 1.5e-5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 },
      schedule: { name: 'poly', warmupSteps: 100, power: 1, minLrRatio: 0 },
      eval: { everySteps: 200, maxImages: 0 },
      checkpoint: { everySteps: 0, bestMetric: 'val/miou', mode: 'max' },
      preprocessing: { recipe: 'postnorm-dup', truncate: true },
      segmentation: { numClasses: 2, headChannels: 256, headDropout: 0.1, auxHead: false, auxWeight: 0.4, loss: 'ce', classWeights: [0.2, 0.8], resize: 512, flip: true, previewTiles: 3 }
    }
  }
]

// Statistics for comparing reconstructions and recipes (pure TypeScript, shared by engine and renderer).
export * from './descriptive'
export * from './normal'
export * from './ssim'
export * from './bootstrap'
export * from './wilcoxon'
export * from './paired'
export * from './patchLoss'

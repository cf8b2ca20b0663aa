// Backbone comparison on frozen embeddings (issue #11): probes cross-validated by observation,
// scores with observation-bootstrap intervals, paired tests, a 2-D map and neighbour search.
// Pure TypeScript over typed arrays: the engine computes, the renderer can recompute a view.
export * from './matrix'
export * from './folds'
export * from './logistic'
export * from './knn'
export * from './cross-validate'
export * from './report'
export * from './map'

// The workstation's views. Hash history works both from file:// (desktop) and http (web mode).
import { createRouter, createWebHashHistory } from 'vue-router'

export const navigation = [
  { path: '/datasets', name: 'datasets', title: 'Datasets', key: '1', component: () => import('./views/DatasetsView.vue') },
  { path: '/reconstruction', name: 'reconstruction', title: 'Reconstruction', key: '2', component: () => import('./views/ReconstructionView.vue') },
  { path: '/training', name: 'training', title: 'Training', key: '3', component: () => import('./views/TrainingView.vue') },
  { path: '/experiments', name: 'experiments', title: 'Experiments', key: '4', component: () => import('./views/ExperimentsView.vue') },
  { path: '/inference', name: 'inference', title: 'Inference', key: '5', component: () => import('./views/InferenceView.vue') },
  { path: '/models', name: 'models', title: 'Models', key: '6', component: () => import('./views/ModelsView.vue') },
  { path: '/system', name: 'system', title: 'System', key: '7', component: () => import('./views/SystemView.vue') },
  { path: '/backbones', name: 'backbones', title: 'Backbones', key: '8', component: () => import('./views/BackbonesView.vue') },
  { path: '/sweeps', name: 'sweeps', title: 'Sweeps', key: '9', component: () => import('./views/SweepsView.vue') }
] as const

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/datasets' },
    ...navigation.map(({ path, name, component }) => ({ path, name, component })),
    // A run's page, opened from the Experiments table (not in the sidebar).
    { path: '/experiments/runs/:id(\\d+)', name: 'run', component: () => import('./views/RunPageView.vue') }
  ]
})

// The models that ship in resources/models/ (see its README): registered in the ledger at start-up
// so that reconstruction and fine-tuning work on a fresh machine. Two, because one small network
// cannot be both: the MAE reconstructs tiles (the reconstruction demo), the crater encoder was
// trained with crater labels from another camera and is the starting point of the demo preset.

/** `{ demo: true }` in a run config is the MAE; `{ demo: 'crater' }` the crater encoder. */
export type DemoModelId = 'mae' | 'crater'

export interface DemoModel {
  id: DemoModelId
  file: string
  name: string
  /** The ledger's `models.source` of the registered row. */
  source: string
}

export const DEMO_MODELS: Record<DemoModelId, DemoModel> = {
  mae: { id: 'mae', file: 'marsfm-demo.safetensors', name: 'MarsFM demo (tiny, Mars pre-trained)', source: 'demo' },
  crater: { id: 'crater', file: 'marsfm-demo-crater.safetensors', name: 'MarsFM demo crater encoder (tiny, CTX crater-tuned)', source: 'demo-crater' }
}

/** Which shipped model a run config's `demo` field names. */
export function demoModelOf(demo: true | 'crater'): DemoModel {
  return demo === 'crater' ? DEMO_MODELS.crater : DEMO_MODELS.mae
}

/** Whether a registered model's source is one of the shipped models (not a superseded one). */
export function isDemoSource(source: string): boolean {
  return Object.values(DEMO_MODELS).some((m) => m.source === source)
}

/** The ledger source of the shipped model a run config's model names (null: not a shipped model). */
export function demoSourceOf(model: unknown): string | null {
  const demo = (model as { demo?: unknown } | undefined)?.demo
  return demo === true || demo === 'crater' ? demoModelOf(demo).source : null
}

// Keys of the ledger's settings table, in one place (services and the composition root read them).

/** The TensorFlow.js backend chosen in the System view ('auto' or a MARSFM_TF_BACKEND value). */
export const TF_BACKEND_SETTING = 'engine.tfBackend'

// The Training view's "New run" form, kept in a store so it survives navigating away and back (a
// component's local state would reset to the preset each time). What the fields mean, what a
// preset puts in them and the config they build are in `@shared/training/run-form`.
import { defineStore } from 'pinia'
import { computed, reactive, ref, watch } from 'vue'
import { RUN_PRESETS } from '@shared/training/presets'
import { defaultRunName, emptyRunForm, estimateConfigOf, presetFields, runConfigOf, startBlocker } from '@shared/training/run-form'

export const useTrainingFormStore = defineStore('trainingForm', () => {
  const presetId = ref(RUN_PRESETS[0]!.id)
  const preset = computed(() => RUN_PRESETS.find((p) => p.id === presetId.value)!)
  const form = reactive(emptyRunForm())

  function applyPreset(id: string) {
    const p = RUN_PRESETS.find((x) => x.id === id)
    if (p) Object.assign(form, presetFields(p))
  }
  // Once when the store is made, then only when the user picks another preset.
  applyPreset(presetId.value)
  watch(presetId, applyPreset)

  /** Why Start is disabled (null: it is not), given how many models there are to choose from. */
  const blocker = (modelsAvailable: number) => startBlocker(form, modelsAvailable)
  /** The run to start; unnamed runs are named after the preset and the time. */
  const config = () => runConfigOf(form, defaultRunName(preset.value, new Date().toLocaleTimeString()))
  const estimateConfig = () => estimateConfigOf(form)

  return { presetId, preset, form, blocker, config, estimateConfig }
})

// Sweeps: the list, the open sweep (kept live by `sweeps:status` events), creating one from the
// form or a JSON spec, and cancelling. Trials are ordinary runs: the Experiments view shows them.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { SweepRecord } from '@shared/ipc/schemas/sweeps'
import type { SweepFormFields } from '@shared/sweeps/form'
import type { SweepSpecInput } from '@shared/sweeps/spec'
import { api } from '../api'
import { frozenVersionOptions, type VersionOption } from '../composables/frozenVersions'
import { trackedCalls } from '../composables/trackedCalls'

export const useSweepsStore = defineStore('sweeps', () => {
  const sweeps = ref<SweepRecord[]>([])
  const openId = ref<number | null>(null)
  const versions = ref<VersionOption[]>([])
  const error = ref<string | null>(null)
  const { calls, track } = trackedCalls(['load', 'create', 'cancel'], error)
  const state = computed(() => calls.load.state)
  const current = computed(() => sweeps.value.find((s) => s.id === openId.value) ?? null)
  let subscribed = false
  // The New sweep form lives here, so it keeps what was typed across navigation.
  const form = ref<SweepFormFields>({
    name: 'lr × seed',
    preset: 'demo-classification',
    versionId: null,
    folder: '',
    steps: 200,
    method: 'grid',
    trials: 8,
    seed: 0,
    parameters: 'optimizer.lr = 1e-4, 3e-4, 1e-3\nseed = 0, 1'
  })
  const formMode = ref<'form' | 'json'>('form')
  const formJson = ref('')

  function upsert(s: SweepRecord) {
    const i = sweeps.value.findIndex((x) => x.id === s.id)
    if (i >= 0) sweeps.value.splice(i, 1, s)
    else sweeps.value.unshift(s)
  }

  async function load() {
    if (!subscribed) {
      subscribed = true
      api.sweeps.onStatus(({ sweep }) => upsert(sweep))
    }
    await Promise.all([
      track('load', async () => {
        sweeps.value = await api.sweeps.list()
        if (openId.value === null && sweeps.value.length) openId.value = sweeps.value[0]!.id
      }, 'report'),
      frozenVersionOptions().then((v) => {
        versions.value = v
        // The only dataset version is the one to use.
        if (v.length === 1 && form.value.versionId === null && !form.value.folder) form.value.versionId = v[0]!.id
      })
    ])
  }

  /** Records and queues a sweep from a spec object; opens it. */
  async function create(spec: Record<string, unknown>): Promise<boolean> {
    // Checked in main (the router, then every key and trial), whose message names what is wrong.
    const created = await track('create', () => api.sweeps.create(spec as SweepSpecInput))
    if (!created) return false
    const s = await track('load', () => api.sweeps.get(created.sweepId), 'report')
    if (s) upsert(s)
    openId.value = created.sweepId
    return true
  }

  async function cancel(id: number) {
    const s = await track('cancel', () => api.sweeps.cancel(id))
    if (s) upsert(s)
  }

  function open(id: number) {
    openId.value = id
  }

  return { sweeps, versions, form, formMode, formJson, current, openId, calls, state, error, load, create, cancel, open }
})

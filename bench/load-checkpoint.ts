// Child of bench/model-forward.ts: loads one checkpoint with our reader in a fresh process and
// prints load time and peak RSS as JSON (so the parent's own memory does not count).
import { performance } from 'node:perf_hooks'
import { peakRss, resetPeakRss } from './peak-rss'
import { loadCheckpoint } from '@engine/checkpoint'

resetPeakRss()
const baselineRssBytes = peakRss()
const t0 = performance.now()
const loaded = await loadCheckpoint(process.argv[2]!, { numFrames: 1 })
const seconds = (performance.now() - t0) / 1000
let weightBytes = 0
for (const w of loaded.weights.values()) weightBytes += w.data.byteLength
console.log(JSON.stringify({ seconds, peakRssBytes: peakRss(), weightBytes, baselineRssBytes, sha256: loaded.sha256 }))
